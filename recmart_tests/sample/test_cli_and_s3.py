"""`recmart seed` on the command line, and a landing prefix on S3."""

from __future__ import annotations

import datetime as dt
import gzip

import pytest
from click.testing import CliRunner

from recmart.sample.cli import seed_command
from recmart.sample.seed import seed_sample
from recmart_tests.sample.conftest import ARGS, KEY


def test_seed_command_with_settings_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECMART_LAKE", str(tmp_path / "env-lake"))
    monkeypatch.delenv("RECMART_SOURCE_DB", raising=False)
    args = ["--start", "2024-02-01", "--days", "1", "--events-per-day", "800", "--users", "30",
            "--no-catalogue", "--products", "60"]
    result = CliRunner().invoke(seed_command, args)
    assert result.exit_code == 0, result.output
    assert "60 products, 30 users, 800 clicks" in result.output
    assert "2024-02-01" in result.output
    assert (tmp_path / ".recmart" / "source.db").is_file()
    assert list((tmp_path / "env-lake" / "landing" / "clickstream" / "2024" / "02" / "01").rglob("*.gz"))

    again = CliRunner().invoke(seed_command, args)
    assert again.exit_code == 1 and "already has rows" in again.output and "Traceback" not in again.output


def test_seed_command_names_a_bad_database_url(tmp_path):
    result = CliRunner().invoke(seed_command, ["--lake", str(tmp_path), "--source-db", "source.db", "--no-catalogue"])
    assert result.exit_code == 1 and "not a SQLAlchemy URL" in result.output


@pytest.fixture
def s3_lake(monkeypatch):
    """A bucket on a local moto S3 server and the lake URI pointing pyarrow at it."""
    boto3 = pytest.importorskip("boto3")
    server_module = pytest.importorskip("moto.server")
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="recmart-test")
    yield f"s3://recmart-test/lake?endpoint_override={host}:{port}&scheme=http&region=us-east-1", s3
    server.stop()


def test_landing_on_s3(s3_lake, tmp_path):
    uri, s3 = s3_lake
    summary = seed_sample(uri, f"sqlite:///{tmp_path / 'source.db'}", **dict(ARGS, days=1, events_per_day=600))
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket="recmart-test")
            for o in page.get("Contents", [])]
    assert len(keys) == summary.files_written > 0
    assert all(k.startswith("lake/") and KEY.match(k[len("lake/"):]) for k in keys)
    lines = sum(gzip.decompress(s3.get_object(Bucket="recmart-test", Key=k)["Body"].read()).count(b"\n")
                for k in keys)
    assert lines == sum(c.landed_lines for c in summary.days.values())

    again = seed_sample(uri, f"sqlite:///{tmp_path / 'again.db'}", **dict(ARGS, days=1, events_per_day=600))
    assert again.files_written == 0 and again.files_kept == len(keys)
    assert dt.date(2024, 5, 1).isoformat() in summary.days


def test_seed_command_names_a_bad_lake(tmp_path):
    result = CliRunner().invoke(seed_command, ["--lake", "foo://bucket/x", "--source-db", f"sqlite:///{tmp_path}/s.db",
                                               "--no-catalogue"])
    assert result.exit_code == 1 and "lake 'foo://bucket/x' is neither a folder" in result.output
    assert not (tmp_path / "s.db").exists(), "nothing is created before the settings are checked"
