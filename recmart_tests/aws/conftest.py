"""Shared fixtures of the aws tests: one moto server (server mode, a real HTTP endpoint that
boto3, pyarrow's S3 file system and subprocesses can all reach) for the whole session, reset
before every test that uses it, with fake credentials."""

from __future__ import annotations

import socket
import urllib.request

import boto3
import pytest

REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # Never ask an instance-metadata endpoint for credentials or the region.
    "AWS_EC2_METADATA_DISABLED": "true",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server_url() -> str:
    """URL of a moto server running in this process for the whole session."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture()
def aws(moto_server_url, monkeypatch) -> str:
    """A clean moto server and the environment of a process that talks to it: fake credentials,
    the region, and AWS_ENDPOINT_URL (read by boto3). Yields the endpoint URL."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_server_url}/moto-api/reset", method="POST")).read()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server_url)
    from recmart.aws import lake

    # Clients are cached per (region, endpoint); the moto server's port changes per session.
    lake.default_region.cache_clear()
    yield moto_server_url
    lake.default_region.cache_clear()


@pytest.fixture()
def s3(aws):
    return boto3.client("s3", region_name=REGION, endpoint_url=aws)


@pytest.fixture()
def bucket(s3) -> str:
    s3.create_bucket(Bucket="recmart-lake")
    return "recmart-lake"
