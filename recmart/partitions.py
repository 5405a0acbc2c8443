"""The one partitioning of the daily assets: UTC days."""

import dagster as dg

from recmart.config import load_settings

DAILY = dg.DailyPartitionsDefinition(
    start_date=load_settings().first_day.isoformat(), timezone="UTC", fmt="%Y-%m-%d"
)
