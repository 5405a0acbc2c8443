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
