"""The one place that knows the deployment: which resource implementation serves each role."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from dagster_pyspark import PySparkResource

from recmart.config import DEFAULT_LAKE, DEFAULT_SOURCE_DB, Settings, check_source_db_file
from recmart.realtime.store.factory import DEFAULT_STORE_URL
from recmart.resources.alerts import LogAlerts
from recmart.resources.engine import ENGINES, StepEngine
from recmart.resources.feature_store import LocalFeatureStore
from recmart.resources.lake import LocalLake
from recmart.resources.metrics import LocalRunMetrics
from recmart.resources.privacy import PiiSalt
from recmart.resources.recommendation_store import RecommendationStoreResource
from recmart.resources.source_db import SourceDatabase
from recmart.resources.spark import LocalSparkRunner, local_spark_config
from recmart.resources.sql import DuckDBLakeSql

LOCAL_PII_SALT = "recmart-local-sample-salt"  # sample data only; aws requires RECMART_PII_SALT
# The local files that are not lake tables live in the lake's folder, under names no table has
# (like `_staging`), so RECMART_LAKE moves every file the deployment writes (README, settings).
LOCAL_FEATURE_STORE = "_feature_store/online.db"
LOCAL_METRICS = "_metrics"


def _env_or(name: str, default: str):
    """EnvVar when the variable is set (the UI shows its source), else the documented default."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def step_engine_name() -> str:
    """RECMART_ENGINE: `duckdb` (the local default) or `spark`; anything else fails the load."""
    from recmart.config import SettingError

    value = os.environ.get("RECMART_ENGINE", "duckdb")
    if value not in ENGINES:
        raise SettingError(f"RECMART_ENGINE={value!r}: use one of {', '.join(ENGINES)}")
    return value


def local_resources(settings: Settings) -> dict:
    if os.environ.get("RECMART_SOURCE_DB"):
        # The value the resource opens; only a folder the user named: the default's is made by
        # `recmart seed` and the demo.
        check_source_db_file(os.environ["RECMART_SOURCE_DB"])
    lake = LocalLake(root=_env_or("RECMART_LAKE", DEFAULT_LAKE))
    pyspark = PySparkResource(spark_config=local_spark_config(driver_memory=settings.spark_driver_memory))
    return {
        "lake": lake,
        "spark": LocalSparkRunner(pyspark=pyspark),
        "engine": StepEngine(engine=step_engine_name()),
        "source_db": SourceDatabase(url=_env_or("RECMART_SOURCE_DB", DEFAULT_SOURCE_DB)),
        "lake_sql": DuckDBLakeSql(lake=lake),
        "pii": PiiSalt(salt=_env_or("RECMART_PII_SALT", LOCAL_PII_SALT)),
        "alerts": LogAlerts(),
        "metrics": LocalRunMetrics(folder=str(Path(settings.lake) / LOCAL_METRICS)),
        "feature_store": LocalFeatureStore(path=str(Path(settings.lake) / LOCAL_FEATURE_STORE)),
        "recommendation_store": RecommendationStoreResource(url=_env_or("RECMART_RECS_STORE", DEFAULT_STORE_URL)),
    }


def resources_for(settings: Settings) -> dict:
    if settings.deployment == "local":
        return local_resources(settings)
    from recmart.aws.deployment import aws_resources

    return aws_resources(settings)
