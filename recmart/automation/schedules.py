"""The nightly run: at 00:01 UTC, everything for the day that just closed."""

import dagster as dg

from recmart.automation.jobs import daily_refresh

# build_schedule_from_partitioned_job requests the last complete partition: yesterday.
daily_refresh_schedule = dg.build_schedule_from_partitioned_job(
    daily_refresh,
    hour_of_day=0,
    minute_of_hour=1,
    name="daily_refresh_at_0001_utc",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
