"""Fixtures of the real-time tests: both recommendation stores, behind one parametrised fixture."""

from __future__ import annotations

import pytest

from recmart.realtime.store.dynamodb import DynamoDBStore
from recmart.realtime.store.sqlite import SqliteStore

# `aws` (moto in process) and `dynamodb_client` are in recmart_tests/conftest.py: the asset
# tests of the snapshot load use them too.
REGION = "eu-west-1"  # the region of those fixtures


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
