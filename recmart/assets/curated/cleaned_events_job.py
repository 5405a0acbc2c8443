"""Spark job: the raw records assigned to one day -> cleaned events + quarantine."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from recmart.tables import CLEANED_EVENTS, QUARANTINED_EVENTS, RAW_CLICKSTREAM
from recmart.transforms.clean import clean_day
from recmart.transforms.io import write_partition


def run(spark: SparkSession, spec: dict) -> dict:
    day = dt.date.fromisoformat(spec["partition"])
    params = spec["params"]
    raw_dirs: list[str] = spec["inputs"]["raw_clickstream"]
    schema = RAW_CLICKSTREAM.spark_schema()
    raw = (
        spark.read.schema(schema).parquet(*raw_dirs)
        if raw_dirs
        else spark.createDataFrame([], schema)
    )
    cleaned, quarantined = clean_day(
        raw, day,
        pii_salt=params["pii_salt"],
        max_late_days=params["max_late_days"],
        future_skew_minutes=params["future_skew_minutes"],
    )
    q_rows = write_partition(quarantined, QUARANTINED_EVENTS, spec["outputs"]["quarantine"], files=1)
    c_rows = write_partition(cleaned, CLEANED_EVENTS, spec["outputs"]["cleaned_events"])
    written = spark.read.parquet(spec["outputs"]["cleaned_events"])
    dup = written.agg(F.coalesce(F.sum(F.col("copies") - 1), F.lit(0))).first()[0]
    by_reason = {
        r["reason"]: r["count"]
        for r in spark.read.parquet(spec["outputs"]["quarantine"]).groupBy("reason").count().collect()
    }
    return {"cleaned": c_rows, "quarantined": q_rows, "duplicates": int(dup), "quarantined_by_reason": by_reason}


if __name__ == "__main__":
    from recmart.pipes_entry import main

    main(run)
