"""How a click's time is read, as PySpark columns: the portable expressions of
`recmart.steps.event_time`, so the PySpark transforms route and judge records exactly as the
declared steps do on either engine."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from recmart.engine.portable import render_expression
from recmart.steps.cleaned_events import FUTURE_SKEW_MINUTES, MAX_LATE_DAYS
from recmart.steps.event_time import assigned_date_sql, event_time_sql

__all__ = ["FUTURE_SKEW_MINUTES", "MAX_LATE_DAYS", "assigned_date", "event_timestamp"]


def event_timestamp(raw_time_col: str) -> Column:
    """UTC timestamp of an ISO-8601 string column with a zone; null when invalid or zone-less."""
    return F.expr(render_expression(event_time_sql(f"`{raw_time_col}`"), "spark", {}))


def assigned_date(ts_col: str, arrival_col: str, max_late_days: int, future_skew_minutes: int) -> Column:
    """The day a landed record belongs to (see `recmart.steps.event_time.assigned_date_sql`)."""
    params = {"max_late_days": max_late_days, "future_skew_minutes": future_skew_minutes}
    return F.expr(render_expression(assigned_date_sql(f"`{ts_col}`", f"`{arrival_col}`"), "spark", params))
