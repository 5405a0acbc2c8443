"""Jobs over the daily assets. All run in one process, so one Spark JVM serves every step."""

import dagster as dg

from recmart.assets.curated.checks import FRESHNESS_CHECKS
from recmart.partitions import DAILY
from recmart.tables import RAW_CLICKSTREAM

# Freshness is judged by its own sensor against the clock, not inside the runs it judges.
DAILY_ASSETS = (
    dg.AssetSelection.all(include_sources=False)
    - dg.AssetSelection.checks(*FRESHNESS_CHECKS)
)
RAW_ASSETS = dg.AssetSelection.groups(RAW_CLICKSTREAM.layer)  # an asset's group is its table's layer

# Everything for one day, in dependency order: the export, landing, cleaning, matrix, scores...
daily_refresh = dg.define_asset_job(
    "daily_refresh",
    selection=DAILY_ASSETS,
    partitions_def=DAILY,
    description="Every daily asset for one UTC day, in dependency order (the 00:01 schedule runs it).",
)

# Only the landing step: what the landing sensor requests for a landing day.
ingest_clickstream = dg.define_asset_job(
    "ingest_clickstream",
    selection=dg.AssetSelection.assets(RAW_CLICKSTREAM.asset_key),
    partitions_def=DAILY,
    description="Land one day's Firehose files into raw clickstream.",
)

# Everything after the raw layer for one event day: what late events need.
refresh_event_day = dg.define_asset_job(
    "refresh_event_day",
    selection=DAILY_ASSETS - RAW_ASSETS,
    partitions_def=DAILY,
    description="Re-derive one event day from the raw layer (late events, corrections).",
)

land_raw = dg.define_asset_job(
    "land_raw",
    selection=RAW_ASSETS,
    partitions_def=DAILY,
    description="Every raw asset for one day (export, snapshots, landing).",
)

JOBS = [daily_refresh, ingest_clickstream, refresh_event_day, land_raw]
