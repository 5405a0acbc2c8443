"""What every layer's checks share: their verdicts, the SQL of their day, and their binding.

A check over an empty input proves nothing (0 landed = 0 raw holds for a day that never
arrived), so it is not a pass: it fails as a warning, which blocks nothing downstream, names
the empty input and says in its metadata that nothing was judged.

Each check is a plain function of the SQL resource and the day (portable SQL: DuckDB locally,
Athena on AWS), so tests call it directly; `bind` attaches it to its asset.
"""

import datetime as dt

import dagster as dg

from recmart.partitions import DAILY
from recmart.resources.source_db import SourceDatabase
from recmart.resources.sql import LakeSql


def nothing_judged(empty: str, day: str, why: str, metadata: dict | None = None) -> dg.AssetCheckResult:
    """`empty`: the input without rows (a table, a landing prefix); `why`: what that means."""
    return dg.AssetCheckResult(
        passed=False, severity=dg.AssetCheckSeverity.WARN,
        metadata={"judged": 0, "empty_input": empty, **(metadata or {})},
        description=f"nothing judged: {empty} has no rows on {day} ({why})",
    )


def result(passed: bool, metadata: dict, failure: str, severity=dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=passed, metadata=metadata, severity=severity,
                               description=None if passed else failure)


def on(day: str, column: str = "event_date") -> str:
    """The SQL condition for the partition of `day` (`column` as SQL: quoted where it must be)."""
    return f"{column} = {date_literal(day)}"


def date_literal(day: str, offset: int = 0) -> str:
    return f"DATE '{(dt.date.fromisoformat(day) + dt.timedelta(days=offset)).isoformat()}'"


def bind(asset, fn, description: str, blocking: bool = True, needs_source: bool = False):
    """An asset check of `asset` (a definition or key) that runs `fn(lake_sql, day)`, or
    `fn(lake_sql, source_db, day)` when it `needs_source`."""
    if needs_source:
        @dg.asset_check(asset=asset, name=fn.__name__, partitions_def=DAILY, blocking=blocking,
                        description=description)
        def _bound(context: dg.AssetCheckExecutionContext, lake_sql: LakeSql, source_db: SourceDatabase):
            return fn(lake_sql, source_db, context.partition_key)
    else:
        @dg.asset_check(asset=asset, name=fn.__name__, partitions_def=DAILY, blocking=blocking,
                        description=description)
        def _bound(context: dg.AssetCheckExecutionContext, lake_sql: LakeSql):
            return fn(lake_sql, context.partition_key)

    return _bound
