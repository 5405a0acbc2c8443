"""The one partitioning of the daily assets: UTC days, from the settings' first day."""

import dagster as dg

from recmart.config import Settings, get_settings


def daily_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(
        start_date=settings.first_day.isoformat(), timezone="UTC", fmt="%Y-%m-%d"
    )


# The assets and jobs take this at import; it is built from the code location's one read of the
# settings (`recmart.definitions` reads them, through `get_settings`, before it imports them).
DAILY = daily_partitions(get_settings())
