"""Sensors: new landing files -> landing runs; new raw rows -> runs for the event days they touch."""


from collections.abc import Sequence

import dagster as dg

from recmart.automation.jobs import ingest_clickstream, refresh_event_day
from recmart.automation.landing_cursor import LandingCursor, scan
from recmart.partitions import DAILY
from recmart.resources.lake import Lake
from recmart.tables import CURATED_CLEANED_EVENTS, RAW_CLICKSTREAM


@dg.sensor(
    job=ingest_clickstream,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Notices new, changed or removed Firehose files and lands their day.",
)
def landing_files_sensor(context: dg.SensorEvaluationContext, lake: Lake) -> dg.SensorResult:
    previous = LandingCursor.parse(context.cursor)
    changed, cursor = scan(lake, previous)
    if previous is None:
        context.log.info("first tick: recorded what has landed so far; later files start runs")
    valid = set(DAILY.get_partition_keys())
    requests = []
    for day, digest in sorted(changed.items()):
        if day in valid:
            requests.append(dg.RunRequest(partition_key=day, run_key=f"landing:{day}:{digest}"))
        else:  # today, not a partition until it closes: keep it unseen so it is requested then
            cursor.forget(day, previous)
    return dg.SensorResult(run_requests=requests, cursor=cursor.serialize())


@dg.sensor(
    job=refresh_event_day,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After raw clickstream lands, re-derives every event day its records belong to "
    "(late events reach their own day), unless that day was derived again since.",
)
def late_events_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    after = int(context.cursor) if context.cursor else None
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(RAW_CLICKSTREAM.asset_key), after_storage_id=after), limit=100, ascending=True,
    ).records
    valid = set(DAILY.get_partition_keys())
    days: dict[str, int] = {}
    for record in records:
        mat = record.asset_materialization
        event_dates = mat.metadata.get("event_dates") if mat else None
        dates = event_dates.value if event_dates is not None else []
        if not isinstance(dates, Sequence):  # raw_clickstream writes the sorted list of its days
            raise TypeError(f"event_dates of {RAW_CLICKSTREAM.asset_key} is {dates!r}, not a list of days")
        for d in set(dates) & valid:
            days[d] = max(days.get(d, 0), record.storage_id)
    requests = [
        dg.RunRequest(partition_key=d, run_key=f"late:{d}:{sid}")
        for d, sid in sorted(days.items())
        if not _derived_since(context.instance, d, sid)
    ]
    cursor = str(records[-1].storage_id) if records else context.cursor
    return dg.SensorResult(run_requests=requests, cursor=cursor)


def _derived_since(instance: dg.DagsterInstance, day: str, storage_id: int) -> bool:
    """True when curated_cleaned_events[day] was materialised after that raw landing: the run that
    landed it (daily_refresh, or `recmart materialize`) has derived the day already."""
    return bool(instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(CURATED_CLEANED_EVENTS.asset_key), asset_partitions=[day],
                              after_storage_id=storage_id), limit=1,
    ).records)
