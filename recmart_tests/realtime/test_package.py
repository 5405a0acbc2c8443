"""The Lambda artefact: the handler runs without the heavy packages, and the zip holds only its closure."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

from recmart.realtime.package import FORBIDDEN, build_zip

from .factories import click, kinesis_batch

# Runs the handler on one batch in an interpreter where FORBIDDEN packages cannot be imported.
RUN_HANDLER = r"""
import json, sys
forbidden = set(json.loads(sys.argv[1]))
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in forbidden:
            raise ImportError(f"blocked: {name}")
sys.meta_path.insert(0, Blocker())
# Only the zip's copy of recmart may be found when one is given.
if len(sys.argv) > 3:
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__name__.lower()
                        and "editable" not in getattr(f, "__name__", "").lower()]
    sys.path.insert(0, sys.argv[3])
import recmart.realtime.handler as h
event = json.loads(sys.argv[2])
print(json.dumps({"response": h.handle(event, None), "recmart": __import__("recmart").__file__,
                  "loaded": sorted(m.split(".")[0] for m in sys.modules)}))
"""


def run_handler(tmp_path, extracted=None) -> dict:
    env = {"PATH": "/usr/bin:/bin", "RECMART_RECS_STORE": f"sqlite:///{tmp_path}/recs.sqlite",
           "RECMART_RT_DEAD_LETTERS": f"jsonl:///{tmp_path}/dead.jsonl"}
    event, _ = kinesis_batch([click("e1", "P1"), b"junk"])
    args = [sys.executable, "-c", RUN_HANDLER, json.dumps(FORBIDDEN), json.dumps(event)]
    done = subprocess.run(args + ([str(extracted)] if extracted else []), capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_handler_runs_with_the_heavy_packages_unimportable(tmp_path):
    result = run_handler(tmp_path)
    assert result["response"] == {"batchItemFailures": []}
    assert not set(FORBIDDEN) & set(result["loaded"])
    assert json.loads((tmp_path / "dead.jsonl").read_text())["reason"] == "not_json"


def test_the_zip_holds_the_closure_only_and_runs_on_its_own(tmp_path):
    built = build_zip(tmp_path / "dist" / "handler.zip")
    names = zipfile.ZipFile(built["path"]).namelist()
    assert "recmart/realtime/handler.py" in names and "recmart/realtime/store/dynamodb.py" in names
    assert all(n.startswith("recmart/") and n.endswith(".py") for n in names)
    for module in ("recmart/realtime/lake_reader.py", "recmart/realtime/stream.py", "recmart/realtime/cli.py",
                   "recmart/realtime/firehose.py", "recmart/realtime/package.py"):
        assert module not in names
    assert not [n for n in names if n.split("/")[0] in FORBIDDEN]
    assert built["bytes"] < 100_000
    assert set(built["third_party"]) <= {"boto3", "botocore", "certifi", "dateutil", "jmespath", "s3transfer",
                                         "six", "urllib3", "charset_normalizer", "idna", "awscrt"}
    # Deterministic: the same code gives the same bytes (Terraform hashes the artefact).
    again = build_zip(tmp_path / "again.zip")
    assert (tmp_path / "dist" / "handler.zip").read_bytes() == (tmp_path / "again.zip").read_bytes()
    assert again["files"] == built["files"]

    extracted = tmp_path / "lambda"
    zipfile.ZipFile(built["path"]).extractall(extracted)
    result = run_handler(tmp_path, extracted)
    assert result["recmart"].startswith(str(extracted))
    assert result["response"] == {"batchItemFailures": []}
