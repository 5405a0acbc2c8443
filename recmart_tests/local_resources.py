"""The local deployment's resources with every file it writes moved under a test's folder."""

from __future__ import annotations

from pathlib import Path

from dagster_pyspark import LazyPySparkResource

from recmart.config import load_settings
from recmart.deployments import local_resources
from recmart.resources.feature_store import LocalFeatureStore
from recmart.resources.lake import LocalLake
from recmart.resources.metrics import LocalRunMetrics
from recmart.resources.privacy import PiiSalt
from recmart.resources.recommendation_store import RecommendationStoreResource
from recmart.resources.source_db import SourceDatabase
from recmart.resources.spark import LocalSparkRunner, local_spark_config
from recmart.resources.sql import DuckDBLakeSql


def local_test_resources(root: Path, lake_root: Path, source_url: str) -> dict:
    """Every resource of the local deployment; nothing lands in the working directory."""
    lake = LocalLake(root=str(lake_root))
    resources = local_resources(load_settings({}))
    resources.update({
        "lake": lake,
        # Two shuffle partitions: test data is tiny, and the session is the run's shared one.
        "spark": LocalSparkRunner(pyspark=LazyPySparkResource(spark_config=local_spark_config(shuffle_partitions=2))),
        "source_db": SourceDatabase(url=source_url),
        "lake_sql": DuckDBLakeSql(lake=lake),
        "pii": PiiSalt(salt="test-salt-123"),
        "feature_store": LocalFeatureStore(path=str(root / "feature_store.db")),
        "metrics": LocalRunMetrics(folder=str(root / "metrics")),
        "recommendation_store": RecommendationStoreResource(url=f"sqlite:///{root / 'recommendations.sqlite'}"),
    })
    return resources
