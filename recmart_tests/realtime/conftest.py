"""Fixtures of the real-time tests: both recommendation stores, behind one parametrised fixture."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from recmart.realtime.store.dynamodb import DynamoDBStore
from recmart.realtime.store.dynamodb_tables import create_tables
from recmart.realtime.store.sqlite import SqliteStore

REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch):
    """Fake credentials and moto: nothing leaves the process."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield


@pytest.fixture
def dynamodb_client(aws):
    client = boto3.client("dynamodb", region_name=REGION)
    create_tables(client)
    return client


@pytest.fixture
def dynamodb_store(dynamodb_client):
    return DynamoDBStore(client=dynamodb_client)


@pytest.fixture
def sqlite_store(tmp_path):
    store = SqliteStore(tmp_path / "recommendations.sqlite")
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request):
    """Every contract test runs against both implementations."""
    return request.getfixturevalue(f"{request.param}_store")


class BotoCallCounter:
    """Counts the API calls a boto3 client makes, by operation."""

    def __init__(self, client) -> None:
        self.calls: dict[str, int] = {}
        client.meta.events.register("before-call.*.*", self._count)

    def _count(self, model, **_) -> None:
        self.calls[model.name] = self.calls.get(model.name, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def reset(self) -> None:
        self.calls.clear()
