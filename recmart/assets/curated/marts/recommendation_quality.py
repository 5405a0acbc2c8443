"""curated_recommendation_quality[D]: what the real-time handler would have served on D, judged on the
next interaction of each user (the protocol of `recmart evaluate`).

The report is the Python step `recmart.steps.recommendation_quality` (which says how to read
it): it replays D's events through the handler's own scoring code against the snapshot of
D-1, so it runs here, in the asset's process, whatever the engine. The check
`served_blend_beats_popularity` warns, without blocking anything, on a day the served
blend's HR@20 is not above popularity's, and on a day with nothing to judge.
"""

import datetime as dt

import dagster as dg
import pyarrow as pa

from recmart.assets.steps import table_asset, write_arrow_partition
from recmart.partitions import DAILY
from recmart.recsources.snapshot import SourceSettings
from recmart.resources.lake import Lake
from recmart.steps.recommendation_quality import (
    QualitySettings,
    figures,
    judge_lake_day,
    report_rows,
)
from recmart.steps.step import CATALOGUE_LOOKBACK_DAYS
from recmart.tables import (
    CURATED_CLEANED_EVENTS,
    CURATED_ITEM_NEIGHBOURS,
    CURATED_RECOMMENDATION_QUALITY,
    CURATED_TRENDING_PRODUCTS,
    RAW_PRODUCTS,
)

_DEFAULTS = QualitySettings()


class QualityConfig(dg.Config):
    window_days: int = _DEFAULTS.window_days
    max_users: int = _DEFAULTS.max_users
    max_positions: int = _DEFAULTS.max_positions
    # The most clicks of the window the rebuilt sources learn from (`SourceSettings.max_clicks`,
    # which says why): keep it equal to recommendation_snapshot's, so the report judges what is served.
    max_source_clicks: int = SourceSettings().max_clicks


def _window(start: int, end: int) -> dg.TimeWindowPartitionMapping:
    return dg.TimeWindowPartitionMapping(start_offset=start, end_offset=end, allow_nonexistent_upstream_partitions=True)


def _days(day: str, first: int, last: int) -> list[str]:
    """Partition keys day+first .. day+last (offsets in days, first <= last), oldest first."""
    d = dt.date.fromisoformat(day)
    return [(d + dt.timedelta(days=k)).isoformat() for k in range(first, last + 1)]


def _rows(lake: Lake, table, keys: list[str], columns: list[str]) -> list[dict]:
    rows: list[dict] = []
    for key in keys:
        part = lake.read_partition(table, key, columns)
        if part is not None:
            rows.extend(part.to_pylist())
    return rows


@dg.asset(
    partitions_def=DAILY,
    kinds={"python", "parquet"},
    # The events of the day judged and of the window before it; the neighbours, trends and
    # catalogue of the day before (what the snapshot of D-1 holds).
    deps=[
        dg.AssetDep(CURATED_CLEANED_EVENTS.asset_key, partition_mapping=_window(-_DEFAULTS.window_days, 0)),
        dg.AssetDep(CURATED_ITEM_NEIGHBOURS.asset_key, partition_mapping=_window(-1, -1)),
        dg.AssetDep(CURATED_TRENDING_PRODUCTS.asset_key, partition_mapping=_window(-1, -1)),
        dg.AssetDep(RAW_PRODUCTS.asset_key, partition_mapping=_window(-1 - CATALOGUE_LOOKBACK_DAYS, -1)),
    ],
    **table_asset(CURATED_RECOMMENDATION_QUALITY),
)
def curated_recommendation_quality(context: dg.AssetExecutionContext, config: QualityConfig, lake: Lake) -> dg.MaterializeResult:
    settings = QualitySettings(window_days=config.window_days, max_users=config.max_users,
                               max_positions=config.max_positions)
    sources = SourceSettings(max_clicks=config.max_source_clicks)
    day = context.partition_key
    [before] = _days(day, -1, -1)
    neighbours = _rows(lake, CURATED_ITEM_NEIGHBOURS, [before], ["product_id", "neighbour_id", "rank", "score"])
    trending = _rows(lake, CURATED_TRENDING_PRODUCTS, [before], ["scope", "product_id", "rank", "trend_score"])
    catalogue: list[dict] = []
    for key in reversed(_days(day, -1 - CATALOGUE_LOOKBACK_DAYS, -1)):  # the newest snapshot up to D-1
        catalogue = _rows(lake, RAW_PRODUCTS, [key], ["product_id", "name", "master_category"])
        if catalogue:
            break
    # Bounded whatever the store's size: the sources from the window's newest clicks, and of the
    # events only the sampled users' (the day's, and the window's for their histories).
    report, clicks = judge_lake_day(lake, day, _days(day, -settings.window_days, -1), neighbours, trending,
                                    catalogue, settings, sources)
    rows = report_rows(report)
    written = write_arrow_partition(context, lake, CURATED_RECOMMENDATION_QUALITY, [
        pa.RecordBatch.from_pylist(rows, schema=CURATED_RECOMMENDATION_QUALITY.arrow_schema())])
    context.log.info(f"curated_recommendation_quality[{day}]: {report.users_judged} of {report.users_active} users judged, "
                     f"{rows[0]['positions'] if rows else 0} positions; sources from {clicks.clicks} clicks of the "
                     f"window{' (the newest: bound hit)' if clicks.bound_hit else ''}")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": written, "users_active": report.users_active, "users_judged": report.users_judged,
        **clicks.metadata(), **figures(rows),
    })
