"""Running the heavy Spark steps.

A Spark step is run by name through the one Spark entry point, `recmart.steps.spark_job`:
a JSON-able spec of the step's name, input locations, output staging locations and
parameters in, a dict of metrics out. `LocalSparkRunner` calls its `run` in the Dagster
process on the one SparkSession that dagster-pyspark's resource owns (one JVM per run, not
per step); the Pipes runners launch the same file as the driver script with spark-submit,
on Glue or on EMR.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource


def local_spark_config(driver_memory: str = "2g", shuffle_partitions: int = 8) -> dict[str, Any]:
    """Spark settings for local mode; why each one is set is next to it."""
    return {
        "spark.master": "local[*]",
        "spark.app.name": "recmart",
        "spark.driver.memory": driver_memory,
        # Partitions are UTC days: Spark must think in UTC too.
        "spark.sql.session.timeZone": "UTC",
        # The default of 200 shuffle partitions makes 200 tiny tasks and files on a laptop;
        # adaptive execution coalesces further where it can.
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        # Timestamps as INT64 micros with UTC semantics, readable by pyarrow, DuckDB and Athena.
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.parquet.compression.codec": "snappy",
        # No _SUCCESS markers and no .crc side files inside published partitions.
        "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
        "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
        "spark.hadoop.fs.file.impl.disable.cache": "true",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.driver.extraJavaOptions": "-XX:+UseParallelGC -Dio.netty.tryReflectionSetAccessible=true",
    }


def local_spark_session(extra: dict[str, Any] | None = None, **settings: Any):
    """A local SparkSession with `local_spark_config(**settings)` and `extra` on top, for use
    outside Dagster (tests, benchmarks)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in {**local_spark_config(**settings), **(extra or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


class SparkStepRunner(dg.ConfigurableResource, ABC):
    """Runs a Spark step somewhere and returns its metrics."""

    @abstractmethod
    def run_step(self, context: dg.AssetExecutionContext, step: str, spec: dict) -> dict:
        """Run the Spark step named `step` on `spec` (whose "step" it is); its metrics."""


class LocalSparkRunner(SparkStepRunner):
    """Runs the step in this process, on dagster-pyspark's shared local session, made at the
    first Spark step (a lazy resource): a run on the DuckDB engine never starts a JVM."""

    pyspark: LazyPySparkResource

    def run_step(self, context: dg.AssetExecutionContext, step: str, spec: dict) -> dict:
        from recmart.steps import spark_job

        context.log.info(f"running Spark step {step} in-process")
        return spark_job.run(self.pyspark.spark_session, {**spec, "step": step})
