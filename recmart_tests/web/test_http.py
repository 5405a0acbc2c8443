"""The read endpoint and the page, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

from click.testing import CliRunner

from recmart.realtime.scoring import SCORER_VERSION
from recmart.web.cli import recs

from .conftest import NAMES


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


def test_recommendations_endpoint_returns_the_stored_item_with_names(server_url):
    status, content_type, body = get(f"{server_url}/users/alice/recommendations")
    assert (status, content_type) == (200, "application/json")
    recs = json.loads(body)
    assert recs["user_id"] == "alice" and recs["updated_at"] == "2026-11-20T10:00:00.000000Z"
    assert [(i["product_id"], i["name"], i["reason"]) for i in recs["items"]] == [
        ("P1", NAMES["P1"], "similar_to:P0"), ("P2", NAMES["P2"], "similar_to:P0"),
        ("P3", NAMES["P3"], "similar_to:P0"), ("P4", NAMES["P4"], "trending:all")]
    # The scorer's version (not spelled out here: the scorer changes apart from the page) + the snapshot's day.
    assert recs["model_version"] == f"{SCORER_VERSION}+2026-11-19" and isinstance(recs["ttl"], int)


def test_an_unknown_user_is_a_json_404(server_url):
    status, content_type, body = get(f"{server_url}/users/nobody/recommendations")
    assert (status, content_type) == (404, "application/json")
    assert json.loads(body) == {"error": "not_found", "user_id": "nobody", "detail": "no recommendations for this user"}
    assert get(f"{server_url}/no/such/page")[0] == 404


def test_the_page_lists_the_names_escaped(server_url):
    status, content_type, body = get(f"{server_url}/users/alice")
    page = body.decode()
    assert status == 200 and content_type.startswith("text/html")
    assert "Navy Blue Linen Shirt" in page and "Red &lt;Silk&gt; Scarf &amp; Co" in page
    assert get(f"{server_url}/users/nobody")[0] == 404
    assert get(f"{server_url}/?user=alice")[2] == body  # the form redirects to the user's page
    assert get(f"{server_url}/healthz")[2] == b'{"ok":true}'
    assert get(f"{server_url}/static/style.css")[1].startswith("text/css")


def test_recs_command_prints_the_recommendations(store_path):
    runner = CliRunner()
    result = runner.invoke(recs, ["alice", "--store", f"sqlite:///{store_path}"])
    assert result.exit_code == 0, result.output
    assert "Navy Blue Linen Shirt" in result.output and "similar_to:P0" in result.output
    as_json = runner.invoke(recs, ["alice", "--json", "--store", f"sqlite:///{store_path}"])
    assert json.loads(as_json.output)["items"][0] == {"product_id": "P1", "reason": "similar_to:P0", "score": 0.9}
    missing = runner.invoke(recs, ["nobody", "--store", f"sqlite:///{store_path}"])
    assert missing.exit_code == 1 and "no recommendations for user 'nobody'" in missing.output
    no_store = runner.invoke(recs, ["alice", "--store", f"sqlite:///{store_path}.absent"])
    assert no_store.exit_code == 1 and "no recommendation store at" in no_store.output
    assert not (store_path.parent / f"{store_path.name}.absent").exists()  # reading creates nothing


def test_serve_command_serves_the_page_until_interrupted(store_path):
    # `recmart serve` as a person starts it: its own process, port 0, stopped with Ctrl-C (SIGINT).
    command = [sys.executable, "-c", "from recmart.cli import main; main()", "serve", "--port", "0",
               "--store", f"sqlite:///{store_path}"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        banner = server.stdout.readline()
        url = re.search(r"on (http://127\.0\.0\.1:\d+)/", banner)
        assert url, banner
        status, content_type, body = get(f"{url[1]}/users/alice")
        assert status == 200 and NAMES["P1"] in body.decode()
        server.send_signal(signal.SIGINT)
        _, errors = server.communicate(timeout=20)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 0, errors
    assert '"GET /users/alice HTTP/1.1" 200' in errors  # one access line per request on stderr
