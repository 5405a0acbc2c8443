"""Column expressions shared by ingestion and cleaning: how a click's time is read.

Ingestion routes each record to a day and cleaning validates it with the same expressions,
so a record can never be routed by one rule and judged by another.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

# ISO-8601 date-time with a zone designator (Z or +hh:mm / +hhmm / +hh). Without a zone a
# time is ambiguous, and the contract rejects it. The real-time path's own pattern, so that
# both paths accept and reject the same clicks: `T`, `t` or a space between date and time,
# seconds optional, `.` or `,` before a fraction.
from recmart.realtime.timeutil import ISO_WITH_ZONE


def event_timestamp(raw_time_col: str) -> Column:
    """UTC timestamp of an ISO-8601 string column with a zone; null when invalid or zone-less.

    Requires the session time zone to be UTC (every recmart session sets it).
    """
    text = F.upper(F.trim(F.col(raw_time_col)))  # Spark's cast wants an upper-case T and Z
    # The forms Spark's cast does not read (no seconds, a decimal comma) are rewritten into
    # one it does, but only for the times the plain cast rejects: the hot path stays one cast.
    rewritten = F.regexp_replace(
        F.regexp_replace(text, ",", "."), r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2})([Z+-])", "$1:00$2"
    )
    return F.when(
        F.trim(F.col(raw_time_col)).rlike(ISO_WITH_ZONE),
        F.coalesce(F.try_to_timestamp(text), F.try_to_timestamp(rewritten)),
    )


def assigned_date(
    event_ts: Column, arrival_time: Column, max_late_days: int, future_skew_minutes: int
) -> Column:
    """The day a landed record belongs to.

    Its event day when its time is plausible for its arrival (no older than `max_late_days`,
    no later than the arrival plus clock skew), else its arrival day, where cleaning
    quarantines it with the reason. Every record gets exactly one day.
    """
    plausible = (event_ts >= arrival_time - F.expr(f"INTERVAL {max_late_days} DAYS")) & (
        event_ts <= arrival_time + F.expr(f"INTERVAL {future_skew_minutes} MINUTES")
    )
    return F.when(event_ts.isNotNull() & plausible, F.to_date(event_ts)).otherwise(F.to_date(arrival_time))


# A record older than this at arrival is quarantined as arrived_too_late; it fixes how many
# later landing days can still change a day, which the asset lineage states too.
MAX_LATE_DAYS = 7
# Producer clocks may run ahead of Firehose's; beyond this a time is in the future.
FUTURE_SKEW_MINUTES = 60
