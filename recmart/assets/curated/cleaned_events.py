"""cleaned_events[D] and quarantined_events[D] from the raw records assigned to day D."""


import datetime as dt

import dagster as dg

from recmart.assets.curated import cleaned_events_job

from recmart.assets.raw.clickstream import raw_clickstream
from recmart.assets.steps import numeric_metadata, run_spark_step, table_metadata
from recmart.partitions import DAILY
from recmart.resources.lake import Lake
from recmart.resources.privacy import PiiSalt
from recmart.resources.spark import SparkStepRunner
from recmart.tables import CLEANED_EVENTS, QUARANTINED_EVENTS, RAW_CLICKSTREAM
from recmart.transforms.events import FUTURE_SKEW_MINUTES, MAX_LATE_DAYS

# Events of day D land on D-1 (producer clocks ahead) up to D+MAX_LATE_DAYS.
LANDING_DAYS_OF_EVENT_DAY = dg.TimeWindowPartitionMapping(
    start_offset=-1, end_offset=MAX_LATE_DAYS, allow_nonexistent_upstream_partitions=True
)


def landing_days(day: str) -> list[str]:
    d = dt.date.fromisoformat(day)
    return [(d + dt.timedelta(days=k)).isoformat() for k in range(-1, MAX_LATE_DAYS + 1)]


@dg.multi_asset(
    partitions_def=DAILY,
    group_name="curated",
    specs=[
        dg.AssetSpec(
            "cleaned_events",
            description=CLEANED_EVENTS.doc,
            deps=[dg.AssetDep(raw_clickstream, partition_mapping=LANDING_DAYS_OF_EVENT_DAY)],
            metadata=table_metadata(CLEANED_EVENTS),
            kinds={"spark", "parquet"},
        ),
        dg.AssetSpec(
            "quarantined_events",
            description=QUARANTINED_EVENTS.doc,
            deps=[dg.AssetDep(raw_clickstream, partition_mapping=LANDING_DAYS_OF_EVENT_DAY)],
            metadata=table_metadata(QUARANTINED_EVENTS),
            kinds={"spark", "parquet"},
        ),
    ],
)
def cleaned_events(context: dg.AssetExecutionContext, lake: Lake, spark: SparkStepRunner, pii: PiiSalt):
    day = context.partition_key
    raw_dirs = lake.subpartition_locations(RAW_CLICKSTREAM, landing_days(day), day)
    metrics = run_spark_step(
        context, lake, spark, cleaned_events_job,
        outputs={"cleaned_events": CLEANED_EVENTS, "quarantine": QUARANTINED_EVENTS},
        inputs={"raw_clickstream": [lake.spark_uri_of(u) for u in raw_dirs.values()]},
        params={
            "pii_salt": pii.salt,
            "max_late_days": MAX_LATE_DAYS,
            "future_skew_minutes": FUTURE_SKEW_MINUTES,
        },
    )
    yield dg.MaterializeResult(
        asset_key="cleaned_events",
        metadata={
            "dagster/row_count": metrics["cleaned"],
            "duplicates": metrics["duplicates"],
            "landing_days_read": sorted(raw_dirs),
        },
    )
    yield dg.MaterializeResult(
        asset_key="quarantined_events",
        metadata={
            "dagster/row_count": metrics["quarantined"],
            **dict(numeric_metadata({"by_reason": metrics["quarantined_by_reason"]})),
        },
    )
