"""Shared fixtures. One local SparkSession serves the whole test run."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config):
    # Local deployment defaults for every test; a test that needs others passes them itself.
    os.environ.setdefault("RECMART_DEPLOYMENT", "local")
    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)


@pytest.fixture(scope="session")
def spark():
    """The run's one SparkSession; dagster-pyspark's resource gets this same session back."""
    from recmart.resources.spark import local_spark_session

    session = local_spark_session(driver_memory="1g", shuffle_partitions=2)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """PostgreSQL for the tests marked `postgres`: mandatory in CI, skipped with a reason elsewhere."""
    url = os.environ.get("RECMART_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("RECMART_TEST_POSTGRES_URL is not set, and PostgreSQL tests are mandatory in CI")
        pytest.skip("RECMART_TEST_POSTGRES_URL is not set: no PostgreSQL to test against")
    return url


@pytest.fixture
def aws(monkeypatch):
    """Fake credentials and moto in this process: nothing leaves it. (recmart_tests/aws has its
    own `aws`: a moto server that subprocesses can reach too.)"""
    from moto import mock_aws

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield


@pytest.fixture
def dynamodb_client(aws):
    """A DynamoDB client (moto) with the recommendation store's tables, as Terraform creates them."""
    import boto3

    from recmart.realtime.store.dynamodb_tables import create_tables

    client = boto3.client("dynamodb", region_name="eu-west-1")
    create_tables(client)
    return client
