"""recommendation_snapshot[D]: day D's item neighbours and trending products loaded into the
recommendation store the real-time handler and the website read (SQLite locally, DynamoDB
on AWS).

The store writes only what changed since the snapshot it serves and then switches one
version pointer, so the handler never reads a half-loaded snapshot (see
`recmart.realtime.store.snapshot`). A backfill of an older day must not roll the website
back: a day older than the snapshot being served is recorded as skipped, not loaded.
"""

import datetime as dt

import dagster as dg

from recmart.partitions import DAILY
from recmart.realtime.loader import load_snapshot
from recmart.recsources.snapshot import SourceSettings
from recmart.resources.lake import Lake
from recmart.resources.recommendation_store import RecommendationStoreResource
from recmart.steps.recommendation_quality import QualitySettings, window_blends, window_sources
from recmart.tables import (
    CURATED_CLEANED_EVENTS,
    CURATED_ITEM_NEIGHBOURS,
    CURATED_TRENDING_PRODUCTS,
    RAW_PRODUCTS,
)

# Days of clicks the session sources are built from, ending D: the window the quality report
# rebuilds the snapshot of D with (so it judges what this loads).
SOURCE_WINDOW_DAYS = QualitySettings().window_days

PRODUCT_COLUMNS = ["product_id", "name", "master_category"]


class SnapshotConfig(dg.Config):
    # The most clicks of the window the session sources learn from, the newest
    # (`SourceSettings.max_clicks`, which says why); curated_recommendation_quality rebuilds the snapshot
    # with its own `max_source_clicks`: keep the two equal.
    max_source_clicks: int = SourceSettings().max_clicks


def _served_day(version: str) -> str:
    """The day a stored snapshot was built from: versions start with the partition key."""
    return version[:10]


@dg.asset(
    partitions_def=DAILY,
    group_name="serving",
    deps=[dg.AssetKey(CURATED_ITEM_NEIGHBOURS.asset_key), dg.AssetKey(CURATED_TRENDING_PRODUCTS.asset_key),
          dg.AssetKey(RAW_PRODUCTS.asset_key),
          dg.AssetDep(CURATED_CLEANED_EVENTS.asset_key, partition_mapping=dg.TimeWindowPartitionMapping(
              start_offset=1 - SOURCE_WINDOW_DAYS, end_offset=0, allow_nonexistent_upstream_partitions=True))],
    kinds={"dynamodb", "sqlite"},
    description="Day D's item neighbours and trending products (with product names and categories) "
    "loaded into the recommendation store, as one versioned snapshot, writing only what changed.",
)
def recommendation_snapshot(
    context: dg.AssetExecutionContext, config: SnapshotConfig, lake: Lake,
    recommendation_store: RecommendationStoreResource,
) -> dg.MaterializeResult:
    day = context.partition_key
    neighbours = lake.read_partition(CURATED_ITEM_NEIGHBOURS, day, ["product_id", "neighbour_id", "rank", "score"])
    trending = lake.read_partition(CURATED_TRENDING_PRODUCTS, day, ["scope", "product_id", "rank", "trend_score"])
    if neighbours is None or trending is None:
        missing = [t.sql_name for t, rows in ((CURATED_ITEM_NEIGHBOURS, neighbours), (CURATED_TRENDING_PRODUCTS, trending)) if rows is None]
        raise dg.Failure(description=f"no partition {day} of {', '.join(missing)}: materialise the marts of the day first")
    products = lake.read_partition(RAW_PRODUCTS, day, PRODUCT_COLUMNS)
    # The session-aware sources and their popularity fill, from the window's newest clicks (at
    # most `max_source_clicks`, read as Arrow: bounded whatever the store's size), days fed newest first.
    days = [(dt.date.fromisoformat(day) - dt.timedelta(days=k)).isoformat() for k in range(SOURCE_WINDOW_DAYS)]
    sources, popular, clicks = window_sources(lake, days, SourceSettings(max_clicks=config.max_source_clicks))
    if clicks.bound_hit:
        context.log.info(f"session sources from the newest {clicks.clicks} clicks of the window (the bound)")
    with recommendation_store.open() as store:
        served = store.current_snapshot()
        if served is not None and _served_day(served.version) > day:
            context.log.info(f"the store serves {served.version}, newer than {day}: left as it is")
            return dg.MaterializeResult(metadata={
                "loaded": False, "serving_version": served.version, "serving_generation": served.generation,
            })
        stats = load_snapshot(store, neighbours.to_pylist(), trending.to_pylist(), version=day,
                              products=products.to_pylist() if products is not None else None,
                              sources=sources, popular=popular, blends=window_blends(sources))
        # The local store has no TTL of its own: the daily load deletes what DynamoDB's would.
        expired = store.purge_expired()
    context.log.info(f"recommendation store now serves {day}: {stats}; {expired} expired user rows deleted")
    return dg.MaterializeResult(metadata={
        "loaded": not stats["noop"],
        "serving_version": stats["version"],
        "serving_generation": stats["generation"],
        "dagster/row_count": stats["neighbour_rows"] + stats["trending_rows"] + stats["source_rows"],
        "source_rows": stats["source_rows"], "expired_rows_deleted": expired, **clicks.metadata(),
        **{k: stats[k] for k in ("products", "scopes", "items_added", "items_updated", "items_removed",
                                  "items_unchanged", "item_writes", "trending_writes", "seconds")},
    })
