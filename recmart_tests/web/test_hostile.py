"""The page against input and clients a browser would not send (issue 11, item 13), over real HTTP on 127.0.0.1.

Raw sockets where urllib would hide what the server does: an idle or half-sent request, and
what bytes follow the headers of a HEAD response.
"""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import time
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest

from recmart.realtime.store.sqlite import SqliteStore

from .conftest import serving


def get(url: str, method: str = "GET", data: bytes | None = None):
    """(status, headers, body) of one request; an error status is an answer, not an exception."""
    request = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def exchange(port: int, request: bytes, timeout: float = 10) -> bytes:
    """Everything the server sends on one connection after `request`, until it closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def closed_by_server_within(sock: socket.socket, seconds: float) -> bool:
    """True when the server closes (EOF or reset) `sock` before `seconds` pass with nothing sent."""
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


# -- ids that need encoding in a URL ---------------------------------------------------------------

def test_a_non_ascii_user_id_is_found(server_url):
    # Browsers send a non-ASCII path as percent-encoded UTF-8; decoding it as Latin-1 looked up "zoÃ«".
    status, headers, body = get(f"{server_url}/users/{quote('zoë', safe='')}/recommendations")
    assert status == 200, body
    assert json.loads(body)["user_id"] == "zoë"
    status, _, page = get(f"{server_url}/users/{quote('zoë', safe='')}")
    assert status == 200 and "Recommendations for zoë" in page.decode("utf-8")
    # The look-up form sends the id in the query string; its redirect must land on the same page.
    assert get(f"{server_url}/?user={quote('zoë')}")[2] == page


def test_an_encoded_slash_stays_inside_the_user_id(server_url):
    # %2F is part of the id, not a path separator: /users/x%2Fy/... is user "x/y".
    status, _, body = get(f"{server_url}/users/x%2Fy/recommendations")
    assert status == 200, body
    assert json.loads(body)["user_id"] == "x/y"
    # The HTML page of user "alice/recommendations" is a 404 page, not alice's JSON.
    status, headers, body = get(f"{server_url}/users/alice%2Frecommendations")
    assert status == 404 and headers["Content-Type"].startswith("text/html")
    assert "Recommendations for alice/recommendations" in body.decode()
    # Decoded once only: %252F is a literal "%2F" in the id, so it must not reach user "x/y".
    status, _, body = get(f"{server_url}/users/x%252Fy/recommendations")
    assert status == 404 and json.loads(body)["user_id"] == "x%2Fy"
    # The page's own JSON link for such a user leads back to that user.
    page = get(f"{server_url}/users/x%2Fy")[2].decode()
    assert 'href="/users/x%2Fy/recommendations"' in page


def test_a_path_that_is_not_utf8_is_a_bad_request(server_url):
    status, headers, body = get(f"{server_url}/users/%FF/recommendations")
    assert status == 400 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"] == "bad_request"


# -- connections that send nothing, or half a request ----------------------------------------------

def test_an_idle_connection_is_closed_and_takes_no_worker(store_path):
    store = SqliteStore(store_path)
    with serving(store, idle_timeout=1, threads=1) as server:
        port = server.server_port
        silent = socket.create_connection(("127.0.0.1", port))
        half = socket.create_connection(("127.0.0.1", port))
        half.sendall(b"GET /users/alice HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never finished
        try:
            # While both hang, the one worker still answers a real request at once.
            started = time.monotonic()
            assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200
            assert time.monotonic() - started < 5
            # Neither is held forever: each is closed within a few idle-timeout periods.
            assert closed_by_server_within(silent, 8), "a connection that sent nothing was kept open"
            assert closed_by_server_within(half, 8), "a half-sent request was kept open"
        finally:
            silent.close()
            half.close()
    store.close()


# -- a store that fails ---------------------------------------------------------------------------

class BrokenStore(SqliteStore):
    """A store whose reads fail as a missing SQLite file does: the error text holds a file path."""

    SECRET_PATH = "/srv/recmart/private/recommendations.sqlite"

    def get_recommendations(self, user_id):
        raise sqlite3.OperationalError(f"unable to open database file {self.SECRET_PATH}")


def test_a_store_error_is_a_500_without_its_text_and_is_logged(tmp_path, caplog):
    store = BrokenStore(tmp_path / "broken.sqlite")
    with caplog.at_level(logging.ERROR), serving(store) as server:
        for path in ("/users/alice/recommendations", "/users/alice"):
            status, headers, body = get(f"http://127.0.0.1:{server.server_port}{path}")
            assert status == 500 and headers["Content-Type"] == "application/json"
            assert json.loads(body) == {"error": "store_unavailable"}
            assert b"srv" not in body and b"unable to open" not in body
    store.close()
    # The operator still sees what failed, on the server's side.
    assert BrokenStore.SECRET_PATH in caplog.text


# -- HEAD -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/users/alice", "/users/alice/recommendations", "/users/nobody", "/healthz",
                                  "/static/style.css", "/"])
def test_head_sends_the_headers_of_get_and_no_body(server_url, path):
    port = port_of(server_url)
    _, get_headers, get_body = get(f"{server_url}{path}")
    # Two HEADs then a GET on one connection: any body after a HEAD would corrupt the next response.
    request = (f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 2
               + "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").encode()
    received = exchange(port, request)
    first, rest = received.split(b"\r\n\r\n", 1)
    assert f"content-length: {len(get_body)}".encode() in first.lower()
    assert f"content-type: {get_headers['Content-Type']}".encode().lower() in first.lower()
    assert rest.startswith(b"HTTP/1.1 "), f"HEAD sent a body: {rest[:80]!r}"
    second, rest = rest.split(b"\r\n\r\n", 1)
    assert second.split(b"\r\n", 1)[0] == first.split(b"\r\n", 1)[0]
    assert rest.startswith(b"HTTP/1.1 200") and rest.endswith(b'{"ok":true}')


# -- headers on every response --------------------------------------------------------------------

def test_every_response_says_nosniff(server_url, tmp_path):
    answers = [get(f"{server_url}{path}") for path in
               ("/users/alice/recommendations", "/users/alice", "/users/nobody/recommendations", "/users/nobody",
                "/", "/healthz", "/static/style.css", "/no/such/page", "/users/%FF")]
    answers.append(get(f"{server_url}/users/alice", method="POST", data=b"x"))
    for status, headers, _ in answers:
        assert headers["X-Content-Type-Options"] == "nosniff", status
    status, headers, _ = answers[-1]
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    # The form's redirect, before urllib follows it.
    redirect = exchange(port_of(server_url), b"GET /?user=alice HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert redirect.startswith(b"HTTP/1.1 303") and b"\r\nlocation: /users/alice\r\n" in redirect.lower()
    assert b"\r\nx-content-type-options: nosniff\r\n" in redirect.lower()
    store = BrokenStore(tmp_path / "broken.sqlite")
    with serving(store) as server:
        status, headers, _ = get(f"http://127.0.0.1:{server.server_port}/users/alice")
    store.close()
    assert status == 500 and headers["X-Content-Type-Options"] == "nosniff"
