"""The one place that knows the deployment: which resource implementation serves each role.

Every value comes from the `Settings` handed in (read once, when the code location loads).
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from dagster_pyspark import LazyPySparkResource

from recmart.config import Settings, check_source_db_file
from recmart.realtime.store.factory import DEFAULT_STORE_URL
from recmart.resources.alerts import LogAlerts
from recmart.resources.engine import EngineName, StepEngine
from recmart.resources.feature_store import LocalFeatureStore
from recmart.resources.lake import LocalLake
from recmart.resources.metrics import LocalRunMetrics
from recmart.resources.privacy import PiiSalt
from recmart.resources.recommendation_store import RecommendationStoreResource
from recmart.resources.secrets import secret
from recmart.resources.source_db import SourceDatabase
from recmart.resources.spark import LocalSparkRunner, local_spark_config
from recmart.resources.sql import DuckDBLakeSql

LOCAL_PII_SALT = "recmart-local-sample-salt"  # sample data only; aws requires RECMART_PII_SALT
# The local files that are not lake tables live in the lake's folder, under names no table has
# (like `_staging`), so RECMART_LAKE moves every file the deployment writes (README, settings).
LOCAL_FEATURE_STORE = "_feature_store/online.db"
LOCAL_METRICS = "_metrics"


def local_resources(settings: Settings) -> dict:
    """The local deployment's resources, every value from `settings` (nothing re-read)."""
    if settings.is_set("source_db"):
        # The value the resource opens; only a folder the user named: the default's is made by
        # `recmart seed` and the demo.
        check_source_db_file(settings.source_db)
    lake = LocalLake(root=settings.lake)
    pyspark = LazyPySparkResource(spark_config=local_spark_config(driver_memory=settings.spark_driver_memory))
    return {
        "lake": lake,
        "spark": LocalSparkRunner(pyspark=pyspark),
        # cast: Settings._engine let only one of ENGINES (config.py, below resources) through.
        "engine": StepEngine(engine=cast(EngineName, settings.engine)),
        "source_db": SourceDatabase(url=secret(settings, "source_db")),
        "lake_sql": DuckDBLakeSql(lake=lake),
        "pii": PiiSalt(salt=secret(settings, "pii_salt") if settings.pii_salt else LOCAL_PII_SALT),
        "alerts": LogAlerts(),
        "metrics": LocalRunMetrics(folder=str(Path(settings.lake) / LOCAL_METRICS)),
        "feature_store": LocalFeatureStore(path=str(Path(settings.lake) / LOCAL_FEATURE_STORE)),
        "recommendation_store": RecommendationStoreResource(url=settings.recs_store or DEFAULT_STORE_URL),
    }


def resources_for(settings: Settings) -> dict:
    if settings.deployment == "local":
        return local_resources(settings)
    from recmart.aws.deployment import aws_resources

    return aws_resources(settings)
