"""How a click's time is read and which day a landed record belongs to, as portable SQL.

Ingest (on either engine) routes each record to a day and cleaning judges it with these same
expressions, so a record can never be routed by one rule and judged by another, and DuckDB
and Spark read every spelling of a time alike: the rules are the pattern below and integer
arithmetic, not each engine's own timestamp parser (DuckDB's cast takes `T24:00:00Z` and
offsets beyond ±18:00, Spark's does not; Spark's takes forms DuckDB's does not).
"""

from __future__ import annotations

# ISO-8601 date-time with a zone (Z or ±hh[:mm] / ±hhmm), upper-cased and trimmed first:
# `T` or a space, seconds optional, `.` or `,` before a fraction of up to 9 digits (kept to
# the microsecond, as Spark keeps it). Without a zone a time is ambiguous and the contract
# rejects it. Hours 00-23, minutes and seconds 00-59, offsets up to 18:00 (java.time's bound).
# The real-time path's pattern (recmart.realtime.timeutil.ISO_WITH_ZONE) accepts the same
# spellings; the range checks there are Python's datetime's.
PATTERN = (
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]((?:[01][0-9]|2[0-3]):[0-5][0-9])"
    r"(?::([0-5][0-9])(?:[.,]([0-9]{1,9}))?)?(?:Z|([+-][0-9]{2})(?::?([0-5][0-9]))?)$"
)


# The spellings nearly every producer writes (`2026-11-20T13:45:12.123Z` or `...+01:00`:
# seconds, a fraction of up to 6 digits, Z or an offset within ±18:00), within PATTERN: read
# by position after one match instead of PATTERN's seven group extractions (that was a third
# of the landing and cleaning steps' time at 1 M events). The same timestamp PATTERN's path gives.
COMMON = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:[.][0-9]{1,6})?"
          r"(?:Z|[+-](?:0[0-9]|1[0-7]):[0-5][0-9]|[+-]18:00)$")


def event_time_sql(column: str) -> str:
    """Spark SQL: the UTC timestamp of a text column, null when it is not a valid time."""
    n = f"length({column})"
    utc = f"substring({column}, {n}, 1) = 'Z'"
    local = (f"try_cast(concat(substring({column}, 1, 10), ' ', "
             f"substring({column}, 12, {n} - CASE WHEN {utc} THEN 12 ELSE 17 END)) AS timestamp)")
    minutes = (f"CASE WHEN {utc} THEN 0 ELSE (CASE WHEN substring({column}, {n} - 5, 1) = '-' THEN -1 ELSE 1 END) * "
               f"(cast(substring({column}, {n} - 4, 2) AS int) * 60 + cast(substring({column}, {n} - 1, 2) AS int)) END")
    common = f"timestamp_micros(unix_micros({local}) - cast({minutes} AS bigint) * 60000000)"
    return f"CASE WHEN regexp_like({column}, '{COMMON}') THEN {common} ELSE {_any_spelling_sql(column)} END"


def _any_spelling_sql(column: str) -> str:
    text = f"upper(trim({column}))"

    def group(n: int) -> str:
        return f"regexp_extract({text}, '{PATTERN}', {n})"

    local = (
        f"try_cast(concat({group(1)}, ' ', {group(2)}, ':', coalesce(nullif({group(3)}, ''), '00'), '.', "
        f"substring(concat({group(4)}, '000000'), 1, 6)) AS timestamp)"
    )
    # Signed hours as one group (`-01`), its sign applied to the minutes too (`-00:30`).
    hours = group(5)
    offset_minutes = (
        f"(CASE WHEN substring({hours}, 1, 1) = '-' THEN -1 ELSE 1 END * "
        f"(abs(coalesce(try_cast(nullif({hours}, '') AS int), 0)) * 60 "
        f"+ coalesce(try_cast(nullif({group(6)}, '') AS int), 0)))"
    )
    return (
        f"CASE WHEN regexp_like({text}, '{PATTERN}') AND abs({offset_minutes}) <= 1080 "
        f"THEN timestamp_micros(unix_micros({local}) - cast({offset_minutes} AS bigint) * 60000000) END"
    )


def plausible_sql(ts: str, arrival: str) -> str:
    """Spark SQL: the time is no older than `:max_late_days` and no later than the arrival
    plus `:future_skew_minutes` (integer microseconds: exact on both engines)."""
    return (
        f"(unix_micros({ts}) >= unix_micros({arrival}) - :max_late_days * 86400000000 "
        f"AND unix_micros({ts}) <= unix_micros({arrival}) + cast(:future_skew_minutes AS bigint) * 60000000)"
    )


def assigned_date_sql(ts: str, arrival: str) -> str:
    """Spark SQL: the day a landed record belongs to: its event day when its time is
    plausible for its arrival, else its arrival day (where cleaning quarantines it with the
    reason). Every record gets exactly one day."""
    return (
        f"CASE WHEN {ts} IS NOT NULL AND {plausible_sql(ts, arrival)} THEN to_date({ts}) "
        f"ELSE to_date({arrival}) END"
    )
