"""Checks of the raw layer."""

import os
from concurrent.futures import ThreadPoolExecutor

import dagster as dg

from recmart.assets.raw.clickstream import raw_clickstream
from recmart.landing.lines import count_records
from recmart.partitions import DAILY
from recmart.resources.lake import Lake
from recmart.resources.sql import LakeSql


def landed_vs_raw(lake: Lake, sql: LakeSql, day: str) -> dg.AssetCheckResult:
    fs, root = lake.filesystem()
    paths = [f"{root}/{f.key}" for f in lake.landed_files(day)]
    # Threads: zlib inflates without holding the GIL, so the files are counted on every core.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        landed = sum(pool.map(lambda path: count_records(fs, path), paths))
    raw = sql.scalar(f"SELECT count(*) FROM raw_clickstream WHERE arrival_date = DATE '{day}'")
    return dg.AssetCheckResult(
        passed=landed == raw,
        metadata={"landed_records": landed, "raw_rows": raw, "difference": landed - raw},
        description=None if landed == raw else f"{landed - raw} landed records are missing from raw",
    )


@dg.asset_check(asset=raw_clickstream, partitions_def=DAILY, blocking=True,
                description="Every line in the day's landing files is one raw row, exactly.")
def raw_clickstream_has_every_landed_line(
    context: dg.AssetCheckExecutionContext, lake: Lake, lake_sql: LakeSql
) -> dg.AssetCheckResult:
    return landed_vs_raw(lake, lake_sql, context.partition_key)
