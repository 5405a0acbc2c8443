"""Landing on Spark: one landing day's Firehose files -> raw clickstream, by assigned event day.

The Spark counterpart of `recmart.engine.duckdb_ingest` (the step `raw_clickstream` of the
one Spark entry point, `recmart.steps.spark_job`): run in-process by the local Spark engine,
or by spark-submit, Glue or EMR through Dagster Pipes.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Collection

from pyspark.sql import SparkSession

from recmart.tables import RAW_CLICKSTREAM
from recmart.transforms.ingest import landed_lines, landing_key_of, to_raw


def run(spark: SparkSession, spec: dict) -> dict:
    files: list[str] = spec["inputs"]["landing_files"]
    out = spec["outputs"]["raw_clickstream"]
    params = spec["params"]
    started = time.perf_counter()
    if not files:
        return {"landed_files": 0, "rows": 0, "job_seconds": 0.0}
    # A landing day's records fall into a handful of event days (MAX_LATE_DAYS + 2 at most).
    # With a writer open per event day, each task writes its rows as they come; otherwise
    # Spark sorts every task's rows by event day before writing (a quarter of this step's
    # time in one measurement at 10 M events).
    spark.conf.set("spark.sql.maxConcurrentOutputFileWriters", str(params["max_late_days"] + 3))
    # A file that cannot be read to its end fails the read: read it again as far as it goes,
    # with every other file as before, and report it. Spark 4 names the file in its error;
    # Spark 3.5 (Glue 5.0) only says why, so on a read error that names no file each
    # compressed file is read alone to find the damaged ones. Nothing is retried unless a
    # landed file is found damaged, and no file twice.
    damaged: dict[str, str] = {}
    while True:
        try:
            write_raw(spark, spec, damaged)
            break
        except Exception as exc:  # Spark's errors reach Python as several exception types
            named = {f: root_cause(exc) for f in files if f not in damaged and landing_key_of(f) in str(exc)}
            if not named and _READ_DAMAGE.search(str(exc)):
                named = unreadable(spark, [f for f in files if f not in damaged and f.endswith(_COMPRESSED)])
            if not named:
                raise
            damaged.update(named)
    written = spark.read.parquet(out)
    per_day = {str(r["event_date"]): r["count"] for r in written.groupBy("event_date").count().collect()}
    return {
        "landed_files": len(files),
        "rows": sum(per_day.values()),
        "rows_by_event_date": per_day,
        "damaged_files": {landing_key_of(f): why for f, why in damaged.items()},
        # The job's own time, without Dagster's work around it: the ingest throughput.
        "job_seconds": round(time.perf_counter() - started, 2),
    }


def write_raw(spark: SparkSession, spec: dict, damaged: Collection[str]) -> None:
    params = spec["params"]
    lines = landed_lines(spark, spec["inputs"]["landing_files"], damaged)
    raw = to_raw(lines, params["max_late_days"], params["future_skew_minutes"])
    # Few files per event day: coalesce merges the per-file tasks without a shuffle.
    target = max(spark.sparkContext.defaultParallelism, math.ceil(spec.get("input_bytes", 0) / 256e6))
    schema = RAW_CLICKSTREAM.spark_schema()
    (
        raw.select(*(raw[f.name].cast(f.dataType) for f in schema.fields), "event_date")
        .coalesce(target)
        .write.mode("overwrite")
        .partitionBy("event_date")
        .parquet(spec["outputs"]["raw_clickstream"])
    )


# What a compressed file cut short or corrupted raises when read (Hadoop's codecs).
_READ_DAMAGE = re.compile(r"java\.io\.EOFException|java\.util\.zip\.ZipException|Unexpected end of input stream"
                          r"|invalid (block type|distance|stored block|code lengths)|incorrect header check")
_COMPRESSED = (".gz", ".bz2", ".snappy", ".zst", ".lz4", ".deflate")


def unreadable(spark: SparkSession, files: list[str]) -> dict[str, str]:
    """{file: why} of those of `files` that cannot be read to their end, each read alone."""
    found = {}
    for f in files:
        try:
            spark.read.text(f).count()
        except Exception as exc:  # noqa: BLE001 - any read error marks the file, and says why
            found[f] = root_cause(exc)
    return found


def root_cause(exc: Exception) -> str:
    """The innermost Java cause in a Spark error (`java.io.EOFException: Unexpected end of
    input stream`), else its first line."""
    causes = re.findall(r"^Caused by: (.+)$", str(exc), re.MULTILINE)
    return (causes[-1] if causes else str(exc).strip().splitlines()[0])[:500]
