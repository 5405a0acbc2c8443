"""The step cleaned_events[D]: the raw records assigned to day D, judged, into curated_cleaned_events[D]
and quarantine_clickstream[D] (the transform's statements `cleaned_events`, `quarantined_events`).

Each landed record ends in exactly one place: cleaned (the first copy of its event_id),
quarantine (with the first rule it breaks), or counted as a duplicate (`copies` - 1 on the
cleaned row it repeats). The reconciliation check relies on this.

The raw records of D sit in the raw partitions of the landing days D-1 .. D+MAX_LATE_DAYS
(producer clocks run ahead by up to an hour; events arrive up to MAX_LATE_DAYS late).
"""

from dataclasses import dataclass

from recmart.engine.portable import Transform
from recmart.steps.event_time import event_time_sql, plausible_sql
from recmart.steps.step import Input, Step, register
from recmart.tables import (
    CLICK_FIELDS,
    CURATED_CLEANED_EVENTS,
    EVENT_TYPES,
    QUARANTINE_CLICKSTREAM,
    RAW_CLICKSTREAM,
    REQUIRED_CLICK_FIELDS,
)

# A record older than this at arrival is quarantined as arrived_too_late; it fixes how many
# later landing days can still change a day, which the step's input window states too.
MAX_LATE_DAYS = 7
# Producer clocks may run ahead of Firehose's; beyond this a time is in the future.
FUTURE_SKEW_MINUTES = 60


@dataclass(frozen=True)
class CleanSettings:
    pii_salt: str = ""  # the deployment's salt (resources.privacy.PiiSalt), never a default in use
    max_late_days: int = MAX_LATE_DAYS
    future_skew_minutes: int = FUTURE_SKEW_MINUTES


def _blank(c: str) -> str:
    return f"({c} IS NULL OR trim({c}) = '')"


def _text(c: str) -> str:
    return f"CASE WHEN NOT {_blank(c)} THEN {c} END"


def _hash(c: str) -> str:
    """sha-256 of salt + value: ip and user agent never leave the raw layer in clear."""
    return f"CASE WHEN NOT {_blank(c)} THEN sha2(concat(:pii_salt, {c}), 256) END"


# A price is a plain decimal number (an optional sign, digits, a point, an exponent): the
# spellings both engines' double casts read alike (Spark's also takes `1.5d` and hex).
_PRICE = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
_PRICE_VALUE = "try_cast(trim(price) AS double)"

# The rules, in the order they are applied: (condition, reason, detail).
# A line that was not UTF-8 is stored by both ingests with U+FFFD for each bad byte and
# marked corrupt: that is how cleaning tells it from other corrupt lines (a corrupt line
# that spells U+FFFD itself is refused as not_utf8 too: refused either way, with a reason).
_RULES = [
    ("corrupt AND record LIKE '%\ufffd%'", "not_utf8", "'not UTF-8: each bad byte is shown as U+FFFD'"),
    ("corrupt", "malformed_json", "'not a JSON object'"),
    ("_missing <> ''", "missing_field", "_missing"),
    (f"event_type NOT IN ({', '.join(repr(t) for t in EVENT_TYPES)})", "invalid_event_type", "event_type"),
    ("_ts IS NULL", "invalid_event_time", "concat('not ISO-8601 with a zone: ', event_time)"),
    ("unix_micros(_ts) > unix_micros(arrival_time) + cast(:future_skew_minutes AS bigint) * 60000000", "event_time_in_future",
     "concat(event_time, ' is more than ', :future_skew_minutes, ' minutes after its arrival')"),
    (f"NOT {plausible_sql('_ts', 'arrival_time')}", "arrived_too_late",
     "concat('older than ', :max_late_days, ' days at arrival: ', event_time)"),
    ("to_date(_ts) <> :day", "wrong_day", "event_time"),
    (f"NOT {_blank('price')} AND (NOT regexp_like(trim(price), '{_PRICE}') OR {_PRICE_VALUE} IS NULL "
     f"OR {_PRICE_VALUE} < 0 OR {_PRICE_VALUE} = cast('Infinity' AS double))", "invalid_price", "price"),
]
REASONS = tuple(r for _, r, _ in _RULES)
_REASON = "CASE " + " ".join(f"WHEN {c} THEN '{r}'" for c, r, _ in _RULES) + " END"
# Keyed by the reason rather than by the rules again: a record's rules are tested once.
_DETAIL = "CASE _reason " + " ".join(f"WHEN '{r}' THEN {d}" for _, r, d in _RULES) + " END"
_MISSING = "concat_ws(',', " + ", ".join(f"CASE WHEN {_blank(f)} THEN '{f}' END" for f in REQUIRED_CLICK_FIELDS) + ")"

# Ip and user agent never leave the raw layer in clear, in a refused record's text too: their
# values are replaced wherever the line still spells them as a JSON member.
_REDACTED = "record"
for _field in ("ip", "user_agent"):
    _REDACTED = (
        f"""regexp_replace({_REDACTED}, '"{_field}"[ \\t]*:[ \\t]*("([^"\\\\\\\\]|\\\\\\\\.)*"|[^,}} \\t]*)', """
        f"""'"{_field}":"(removed)"')"""
    )

_CLEANED = ", ".join([
    "event_id", "event_type", "_ts AS event_time", "session_id", f"{_text('user_id')} AS user_id",
    "product_id", f"{_PRICE_VALUE} AS price",
    *(f"{_text(c)} AS {c}" for c in ("device", "page_url", "referrer")),
    f"{_hash('user_agent')} AS user_agent_hash", f"{_hash('ip')} AS ip_hash",
    "source_file", "arrival_time",
])
_FIELDS = ", ".join(CLICK_FIELDS)

TRANSFORM = Transform(
    name="cleaned_events",
    outputs=("cleaned_events", "quarantined_events"),
    params=("day", "pii_salt", "max_late_days", "future_skew_minutes"),
    statements={
        # Every record with the first rule it breaks; the line's text only for those refused.
        "judged": f"""
            SELECT {_FIELDS}, source_file, arrival_time, _ts, _reason, _detail,
                   CASE WHEN _reason IS NOT NULL THEN {_REDACTED} END AS _record
            FROM (SELECT *, {_DETAIL} AS _detail
                  FROM (SELECT *, {_REASON} AS _reason
                        FROM (SELECT *, {event_time_sql('event_time')} AS _ts, {_MISSING} AS _missing
                              FROM raw_clickstream)))""",
        "quarantined_events": f"""
            SELECT _record AS record, source_file, arrival_time, _reason AS reason, _detail AS detail,
                   {_text('event_id')} AS event_id
            FROM judged WHERE _reason IS NOT NULL""",
        # The same event_id twice is one event (producer retries): the first copy to land is
        # kept (earliest arrival, then file, then its fields: a total order, and copies equal
        # in all of them make the same row) and the others counted. Retries are rare, so only
        # the records whose id repeats are ranked; the others go straight through.
        "repeated": "SELECT event_id AS repeated_id FROM judged WHERE _reason IS NULL GROUP BY event_id "
                    "HAVING count(*) > 1",
        "cleaned_events": f"""
            SELECT {_CLEANED}, 1 AS copies
            FROM judged LEFT JOIN repeated ON event_id = repeated_id
            WHERE _reason IS NULL AND repeated_id IS NULL
            UNION ALL
            SELECT {', '.join(c for c in CURATED_CLEANED_EVENTS.column_names)} FROM (
                SELECT {_CLEANED},
                       row_number() OVER (PARTITION BY event_id ORDER BY arrival_time, source_file,
                                          {', '.join(f + ' NULLS FIRST' for f in CLICK_FIELDS)}) AS _n,
                       count(*) OVER (PARTITION BY event_id) AS copies
                FROM judged JOIN repeated ON event_id = repeated_id
                WHERE _reason IS NULL)
            WHERE _n = 1""",
    },
)

STEP = register(
    Step(
        name="cleaned_events",
        transform=TRANSFORM,
        inputs={
            # Landing days D-1 .. D+MAX_LATE_DAYS, each its sub-partition of records assigned to D.
            "raw_clickstream": Input(RAW_CLICKSTREAM, days=MAX_LATE_DAYS + 2, end_offset=MAX_LATE_DAYS,
                                     subpartition=True),
        },
        outputs={"cleaned_events": CURATED_CLEANED_EVENTS, "quarantined_events": QUARANTINE_CLICKSTREAM},
        settings=CleanSettings,
        doc=CURATED_CLEANED_EVENTS.doc,
        metrics={
            "cleaned_totals": "SELECT count(*) AS cleaned, coalesce(sum(copies - 1), 0) AS duplicates "
                              "FROM cleaned_events",
            "quarantine_reasons": "SELECT " + ", ".join(f"count_if(reason = '{r}') AS {r}" for r in REASONS)
                                  + " FROM quarantined_events",
        },
    )
)
