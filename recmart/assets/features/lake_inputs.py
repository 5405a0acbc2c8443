"""Input locations the feature and mart assets share: trailing windows and the catalogue snapshot."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from recmart.assets.steps import spark_locations
from recmart.resources.lake import Lake
from recmart.steps.step import CATALOGUE_LOOKBACK_DAYS
from recmart.tables import RAW_PRODUCTS


def window_keys(day: str, days: int, end_offset: int = 0) -> list[str]:
    """Partition keys of the `days` days ending `end_offset` days after `day` (negative: before)."""
    last = dt.date.fromisoformat(day) + dt.timedelta(days=end_offset)
    return [(last - dt.timedelta(days=k)).isoformat() for k in range(days)]


def trailing(days: int, end_offset: int = 0) -> dg.TimeWindowPartitionMapping:
    """The partition mapping of a trailing window of `days` days ending at `end_offset`."""
    return dg.TimeWindowPartitionMapping(
        start_offset=end_offset - (days - 1), end_offset=end_offset, allow_nonexistent_upstream_partitions=True
    )


def catalogue_location(lake: Lake, day: str) -> dict[str, str]:
    """{key: location} of the catalogue snapshot of `day`, else of the newest earlier one; {} if none."""
    found = spark_locations(lake, RAW_PRODUCTS, window_keys(day, CATALOGUE_LOOKBACK_DAYS + 1))
    if not found:
        return {}
    newest = max(found)
    return {newest: found[newest]}
