"""The one Spark entry point: runs any step by the name in its spec.

Run in-process by the local Spark engine (`run`), or as the driver script of every remote
Spark step (spark-submit, Glue, EMR through Dagster Pipes: `python spark_job.py` reads its
spec from Pipes). `SPARK_STEPS` is the list the Glue jobs, the packaging and docs/deploy.md
are generated from (`deploy/generate_spark_steps.py`).

spec: {"step": name, "partition": day, "inputs": {relation: {key: location}},
       "outputs": {statement: location}, "params": {setting: value}}
(raw_clickstream: {"inputs": {"landing_files": [...]}, "outputs": {"raw_clickstream": ...}})
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from recmart.steps import REGISTRY

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Landing is engine-specific code (held equal to DuckDB's by the parity suite); every other
# Spark step is a declared step of the registry.
LANDING_STEP = "raw_clickstream"
SPARK_STEPS: tuple[str, ...] = tuple(sorted({LANDING_STEP, *REGISTRY}))


def run(spark, spec: dict) -> dict:
    name = spec.get("step")
    if name not in SPARK_STEPS:
        raise ValueError(f"unknown Spark step {name!r} in the spec: expected one of {', '.join(SPARK_STEPS)}")
    return _runner(name)(spark, spec)


def _runner(name: str) -> Callable[[SparkSession, dict], dict]:
    if name == LANDING_STEP:
        from recmart.engine import spark_ingest

        return spark_ingest.run
    return run_declared


def run_declared(spark, spec: dict) -> dict:
    from recmart.engine import spark as spark_engine

    step = REGISTRY[spec["step"]]
    params = dict(spec["params"])
    params["day"] = dt.date.fromisoformat(spec["partition"])
    inputs = {name: (inp.table, spec["inputs"].get(name, {})) for name, inp in step.inputs.items()}
    outputs = {name: (table, spec["outputs"][name]) for name, table in step.outputs.items()}
    return spark_engine.run(spark, step.transform, inputs, outputs, params, metrics=step.metric_queries)


if __name__ == "__main__":
    from recmart.pipes_entry import main

    main(run)
