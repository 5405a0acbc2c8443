"""Pipes side of the Spark entry point (`recmart.steps.spark_job`) launched by spark-submit, Glue or EMR.

The launcher passes the step's spec as the Pipes extra `spec`; the job's metrics are
reported back as a custom message `{"metrics": ...}`. A failure raises, so the remote run ends
in a failed state that the launcher sees (and the closing Pipes message carries the error).

How the Pipes parameters arrive depends on the launcher, and this entry point handles each:
spark-submit passes them in environment variables with the context and messages in local
files; Glue passes them as `--dagster-pipes-*` job arguments, EMR Serverless as driver
environment variables, both with the context and the messages in S3. Imports neither dagster
nor (unless the parameters point at S3) boto3.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

RunFn = Callable[[Any, dict], dict]


def main(run: RunFn, session: Callable[[dict], Any] | None = None) -> None:
    """Serve `run` to the launcher; `session(spark_conf)` makes the Spark session (default: the
    driver's SparkSession, with the launcher's SQL settings applied)."""
    from dagster_pipes import (
        DAGSTER_PIPES_CONTEXT_CLI_ARGUMENT,
        PipesCliArgsParamsLoader,
        PipesEnvVarParamsLoader,
    )

    loader = PipesCliArgsParamsLoader() if DAGSTER_PIPES_CONTEXT_CLI_ARGUMENT in sys.argv else PipesEnvVarParamsLoader()
    serve(run, loader, session or spark_session)


def spark_session(conf: dict[str, str]):
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    for key, value in conf.items():  # runtime SQL settings sent by the launcher
        spark.conf.set(key, value)
    return spark


def serve(run: RunFn, params_loader, session: Callable[[dict], Any] = spark_session) -> dict:
    """Run `run` inside a Pipes session opened from `params_loader`'s parameters; its metrics."""
    from dagster_pipes import (
        PipesContext,
        PipesDefaultContextLoader,
        PipesDefaultMessageWriter,
        PipesMessageWriter,
        PipesS3ContextLoader,
        PipesS3MessageWriter,
    )

    if not params_loader.is_dagster_pipes_process():
        raise SystemExit("this Spark job must be launched through Dagster Pipes (no Pipes parameters found)")
    context_params = params_loader.load_context_params()
    messages_params = params_loader.load_messages_params()
    context_loader = PipesS3ContextLoader(_s3()) if "bucket" in context_params else PipesDefaultContextLoader()
    message_writer: PipesMessageWriter
    if "bucket" in messages_params:
        message_writer = PipesS3MessageWriter(_s3(), interval=float(messages_params.get("interval", 10)))
    else:
        message_writer = PipesDefaultMessageWriter()
    with PipesContext(params_loader, context_loader, message_writer) as pipes:
        spec = pipes.get_extra("spec")
        spark = session(pipes.extras.get("spark_conf") or {})
        metrics = run(spark, spec)
        pipes.log.info(f"step finished: {metrics}")
        pipes.report_custom_message({"metrics": metrics})
    return metrics


def _s3():
    import boto3

    return boto3.client("s3")
