"""Checks of the raw layer."""

import os
from concurrent.futures import ThreadPoolExecutor

import dagster as dg

from recmart.assets.check_results import nothing_judged
from recmart.assets.raw.clickstream import raw_clickstream
from recmart.assets.raw.products import raw_products
from recmart.assets.raw.transactions import raw_transactions
from recmart.assets.raw.users import raw_users
from recmart.landing.layout import LANDING_CLICKSTREAM
from recmart.landing.lines import count_records
from recmart.partitions import DAILY
from recmart.resources.lake import Lake
from recmart.resources.sql import LakeSql
from recmart.schema import Table
from recmart.tables import RAW_PRODUCTS, RAW_TRANSACTIONS, RAW_USERS


def landed_vs_raw(lake: Lake, sql: LakeSql, day: str) -> dg.AssetCheckResult:
    """Landed lines against raw rows, exactly, over the files that can be read to their end.

    A damaged file (a truncated or corrupt gzip) is ingested as far as Spark can read it,
    which need not be as far as zlib gets here (a bad checksum fails zlib's last chunk but
    Spark's last line), so it is left out of the sum and fails the check as a warning that
    names it: the rest of the day is not held up.
    """
    fs, root = lake.filesystem()
    keys = [f.key for f in lake.landed_files(day)]
    # Threads: zlib inflates without holding the GIL, so the files are counted on every core.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counted = dict(zip(keys, pool.map(lambda key: count_records(fs, f"{root}/{key}"), keys), strict=True))
    damaged = {key: why for key, (_, why) in counted.items() if why}
    landed = sum(n for key, (n, why) in counted.items() if not why)
    where = f"arrival_date = DATE '{day}'"
    raw_by_file = {}
    if damaged:  # rows per damaged file; reading the source_file column costs time at scale
        listed = ", ".join("'" + key.replace("'", "''") + "'" for key in damaged)
        _, rows = sql.query(f"SELECT source_file, count(*) FROM raw_clickstream WHERE {where} "
                            f"AND source_file IN ({listed}) GROUP BY 1")
        raw_by_file = dict(rows)
    raw = sql.scalar(f"SELECT count(*) FROM raw_clickstream WHERE {where}") - sum(raw_by_file.values())
    meta = {"landed_records": landed, "raw_rows": raw, "difference": landed - raw, "damaged_files": len(damaged)}
    if landed != raw:
        return dg.AssetCheckResult(passed=False, metadata=meta,
                                   description=f"{landed - raw} landed records are missing from raw")
    if damaged:
        detail = "; ".join(f"{key}: {why} ({counted[key][0]} lines readable, {raw_by_file.get(key, 0)} in raw)"
                           for key, why in sorted(damaged.items()))
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN, metadata=meta,
                                   description=f"{len(damaged)} landed file(s) cannot be read to their end: {detail}")
    if landed == 0:
        return nothing_judged(f"{LANDING_CLICKSTREAM}/{day.replace('-', '/')}", day,
                              f"{len(keys)} landing files, no record landed on the day", meta)
    return dg.AssetCheckResult(passed=True, metadata=meta)


@dg.asset_check(asset=raw_clickstream, partitions_def=DAILY, blocking=True,
                description="Every line in the day's landing files is one raw row, exactly.")
def raw_clickstream_has_every_landed_line(
    context: dg.AssetCheckExecutionContext, lake: Lake, lake_sql: LakeSql
) -> dg.AssetCheckResult:
    return landed_vs_raw(lake, lake_sql, context.partition_key)


# ---- the nightly export -----------------------------------------------------------------------
def export_has_rows(sql: LakeSql, table: Table, day: str, why: str) -> dg.AssetCheckResult:
    """The day's export of a store table has rows; an empty one warns, naming the table."""
    rows = sql.scalar(f"SELECT count(*) FROM {table.sql_name} WHERE event_date = DATE '{day}'")
    if rows == 0:
        return nothing_judged(table.sql_name, day, why, {"rows": 0})
    return dg.AssetCheckResult(passed=True, metadata={"rows": rows})


def _has_rows(asset, table: Table, why: str):
    @dg.asset_check(asset=asset, name="has_rows", partitions_def=DAILY, blocking=False,
                    description=f"the day's {table.sql_name} is not empty (a warning)")
    def _bound(context: dg.AssetCheckExecutionContext, lake_sql: LakeSql) -> dg.AssetCheckResult:
        return export_has_rows(lake_sql, table, context.partition_key, why)

    return _bound


EXPORT_CHECKS = [
    _has_rows(raw_transactions, RAW_TRANSACTIONS, "the store's database has no order created on the day"),
    _has_rows(raw_products, RAW_PRODUCTS, "the store's products table is empty"),
    _has_rows(raw_users, RAW_USERS, "the store's users table is empty"),
]
