"""What the Spark-only benchmarks of the spine share: the landed files under a folder, and a
local session in the spine's settings, started and timed."""

from __future__ import annotations

import time
from pathlib import Path

from pyspark.sql import SparkSession

from recmart.resources.spark import local_spark_session


def landed_files(folder: str) -> list[str]:
    """Every file under `folder` (a seeded lake's landing folder, or one day of it), sorted."""
    return sorted(str(f) for f in Path(folder).rglob("*") if f.is_file())


def timed_session() -> tuple[SparkSession, float]:
    """A started local session (one job run, so the JVM is up), and the seconds that took."""
    started = time.perf_counter()
    spark = local_spark_session()
    spark.range(1).count()
    return spark, time.perf_counter() - started
