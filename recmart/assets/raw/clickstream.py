"""raw_clickstream[A]: every line that landed on day A, by the event day it belongs to."""

import re
import time

import dagster as dg

from recmart.assets.steps import numeric_metadata, run_spark_step, table_asset
from recmart.engine import duckdb as duckdb_engine
from recmart.engine import duckdb_ingest
from recmart.landing.layout import FIREHOSE_NAME_TIME
from recmart.partitions import DAILY
from recmart.resources.engine import StepEngine
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.steps.cleaned_events import FUTURE_SKEW_MINUTES, MAX_LATE_DAYS
from recmart.tables import RAW_CLICKSTREAM


@dg.asset(
    partitions_def=DAILY,
    kinds={"sql", "parquet"},
    **table_asset(RAW_CLICKSTREAM, "The partition is the landing (arrival) day."),
)
def raw_clickstream(
    context: dg.AssetExecutionContext, lake: Lake, engine: StepEngine, spark: SparkStepRunner
) -> dg.MaterializeResult:
    day = context.partition_key
    files = lake.landed_files(day)
    if not files:
        # The input vanished (or never came): clear the day instead of leaving it stale.
        lake.clear(RAW_CLICKSTREAM, day)
        context.log.warning(f"no landed files for {day}: raw partition cleared")
        return dg.MaterializeResult(metadata={"landed_files": 0, "dagster/row_count": 0, "event_dates": []})
    named_otherwise = [f.key for f in files if not re.search(FIREHOSE_NAME_TIME, f.key)]
    if named_otherwise:
        context.log.warning(
            f"{len(named_otherwise)} landed file(s) without Firehose's arrival time in their name; their lines "
            f"arrive at the end of their hour (or day) folder: {', '.join(named_otherwise[:5])}"
        )
    if engine.engine == "spark":
        metrics = run_spark_step(
            context, lake, spark, "raw_clickstream",
            outputs={"raw_clickstream": RAW_CLICKSTREAM},
            inputs={"landing_files": [lake.spark_uri(f.key) for f in files]},
            params={"max_late_days": MAX_LATE_DAYS, "future_skew_minutes": FUTURE_SKEW_MINUTES},
            extra={"input_bytes": sum(f.size for f in files)},
        )
    else:
        metrics = _ingest_on_duckdb(context, lake, engine, files)
    by_day = metrics.get("rows_by_event_date", {})
    damaged = metrics.get("damaged_files", {})
    for key, why in damaged.items():
        context.log.warning(f"{key} cannot be read to its end ({why}): its lines are kept as far as they go")
    return dg.MaterializeResult(
        metadata={
            "landed_files": len(files),
            "landed_bytes": sum(f.size for f in files),
            "files_named_otherwise": len(named_otherwise),
            "damaged_files": dg.MetadataValue.json(damaged),
            "dagster/row_count": metrics["rows"],
            "job_seconds": metrics["job_seconds"],
            # The late-events sensor refreshes exactly these event days.
            "event_dates": sorted(by_day),
            **dict(numeric_metadata({"rows_by_event_date": by_day})),
        }
    )


def _ingest_on_duckdb(context: dg.AssetExecutionContext, lake: Lake, engine: StepEngine, files) -> dict:
    started = time.perf_counter()
    staging = lake.new_staging(RAW_CLICKSTREAM, context.partition_key, context.run_id)
    fs, root = lake.filesystem()
    metrics = duckdb_ingest.ingest(
        duckdb_engine.connect(engine.duckdb_memory_limit), fs, [(f"{root}/{f.key}", f.key) for f in files],
        lake.fs_path(staging), max_late_days=MAX_LATE_DAYS, future_skew_minutes=FUTURE_SKEW_MINUTES,
    )
    # Publish only after the whole step succeeded: a failed run leaves the previous version.
    lake.publish(RAW_CLICKSTREAM, context.partition_key, staging)
    return metrics | {"job_seconds": round(time.perf_counter() - started, 2)}
