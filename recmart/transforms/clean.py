"""Raw clickstream rows of one day -> cleaned events and quarantined records.

Each landed record ends in exactly one place: cleaned (the first copy of its event_id),
quarantine (with the first rule it breaks), or counted as a duplicate (`copies` - 1 on the
cleaned row it repeats). The reconciliation check relies on this.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from recmart.tables import (
    CLICK_FIELDS,
    CURATED_CLEANED_EVENTS,
    EVENT_TYPES,
    QUARANTINE_CLICKSTREAM,
    REQUIRED_CLICK_FIELDS,
)
from recmart.transforms.events import event_timestamp


def _blank(c: str) -> Column:
    return F.col(c).isNull() | (F.trim(F.col(c)) == "")


def _hash(c: str, salt: str) -> Column:
    """sha-256 of salt + value: ip and user agent never leave the raw layer in clear."""
    return F.when(~_blank(c), F.sha2(F.concat(F.lit(salt), F.col(c)), 256))


# Above this many repeated event_ids in a day, deduplication aggregates every record instead
# of broadcasting the repeated ids (about 100 bytes each on the driver and every executor).
MAX_REPEATED_IDS = 1_000_000


def _rejection(day: dt.date, max_late_days: int, future_skew_minutes: int) -> tuple[Column, Column]:
    """(reason, detail) of the first rule a record breaks; null reason when it is valid."""
    missing = F.concat_ws(",", *(F.when(_blank(f), F.lit(f)) for f in REQUIRED_CLICK_FIELDS))
    price = F.expr("try_cast(trim(price) as double)")
    ts = F.col("_ts")
    rules = [
        (F.col("corrupt"), "malformed_json", F.lit("not a JSON object")),
        (missing != "", "missing_field", missing),
        (~F.col("event_type").isin(*EVENT_TYPES), "invalid_event_type", F.col("event_type")),
        (ts.isNull(), "invalid_event_time", F.concat(F.lit("not ISO-8601 with a zone: "), F.col("event_time"))),
        (
            ts > F.col("arrival_time") + F.expr(f"INTERVAL {future_skew_minutes} MINUTES"),
            "event_time_in_future",
            F.concat(F.col("event_time"), F.lit(" is after arrival "), F.col("arrival_time").cast("string")),
        ),
        (
            ts < F.col("arrival_time") - F.expr(f"INTERVAL {max_late_days} DAYS"),
            "arrived_too_late",
            F.concat(F.lit(f"older than {max_late_days} days at arrival: "), F.col("event_time")),
        ),
        (F.to_date(ts) != F.lit(day), "wrong_day", F.col("event_time")),
        (
            ~_blank("price") & (price.isNull() | (price < 0) | F.isnan(price) | (price == float("inf"))),
            "invalid_price",
            F.col("price"),
        ),
    ]
    reason, detail = F.lit(None).cast("string"), F.lit(None).cast("string")
    for cond, name, why in reversed(rules):
        reason = F.when(cond, F.lit(name)).otherwise(reason)
        detail = F.when(cond, why).otherwise(detail)
    return reason, detail


def _judged(raw: DataFrame, day: dt.date, max_late_days: int, future_skew_minutes: int) -> DataFrame:
    """The raw rows with the parsed time and the first rule each breaks (`_reason`, `_detail`)."""
    reason, detail = _rejection(day, max_late_days, future_skew_minutes)
    return raw.withColumn("_ts", event_timestamp("event_time")).select(
        "*", reason.alias("_reason"), detail.alias("_detail")
    )


def _valid(judged: DataFrame, pii_salt: str) -> DataFrame:
    """The records that break no rule, as cleaned columns (before deduplication)."""
    return judged.where(F.col("_reason").isNull()).select(
        F.col("event_id"),
        F.col("event_type"),
        F.col("_ts").alias("event_time"),
        F.col("session_id"),
        F.when(~_blank("user_id"), F.col("user_id")).alias("user_id"),
        F.col("product_id"),
        F.expr("try_cast(trim(price) as double)").alias("price"),
        *(F.when(~_blank(c), F.col(c)).alias(c) for c in ("device", "page_url", "referrer")),
        _hash("user_agent", pii_salt).alias("user_agent_hash"),
        _hash("ip", pii_salt).alias("ip_hash"),
        F.col("source_file"),
        F.col("arrival_time"),
        _fields_hash().alias("record_hash"),
    )


def clean_day(
    raw: DataFrame, day: dt.date, *, pii_salt: str, max_late_days: int, future_skew_minutes: int
) -> tuple[DataFrame, DataFrame]:
    """(cleaned events, quarantined records) of the raw rows assigned to `day`."""
    quarantined = _judged(raw, day, max_late_days, future_skew_minutes).where(F.col("_reason").isNotNull()).select(
        "record", "source_file", "arrival_time",
        F.col("_reason").alias("reason"), F.col("_detail").alias("detail"),
        F.when(~_blank("event_id"), F.col("event_id")).alias("event_id"),
    )
    # The same event_id twice is one event (producer retries): keep the first copy to land
    # and count the others. Retries are rare, so the records whose id occurs once go
    # straight through and only the others are aggregated by event_id: aggregating every
    # record sorted the whole day and was most of this step's time.
    columns = CURATED_CLEANED_EVENTS.column_names

    def valid(df):
        return _valid(_judged(df, day, max_late_days, future_skew_minutes), pii_salt)

    repeated = _repeated_ids(raw)
    if repeated is None:  # retries beyond all reason: aggregate every record
        cleaned = _first_copies(valid(raw)).select(*columns)
    else:
        # Broadcast: a hash lookup per record instead of shuffling the day to join it.
        repeated = F.broadcast(repeated)
        single = valid(raw.join(repeated, "event_id", "left_anti")).withColumn("copies", F.lit(1))
        several = _first_copies(valid(raw.join(repeated, "event_id", "left_semi")))
        cleaned = single.select(*columns).unionByName(several.select(*columns))
    return cleaned, quarantined.select(*QUARANTINE_CLICKSTREAM.column_names)


def _fields_hash() -> Column:
    """A hash of the record's contract fields, the last tie-break between copies of an event.

    Copies that tie on it too carry the same fields from the same file, so they make the
    same cleaned row: the choice stays deterministic without reading the raw line (the
    widest column) on this pass.
    """
    return F.xxhash64(*(F.coalesce(F.col(f), F.lit("\u0000")) for f in CLICK_FIELDS))


def _repeated_ids(raw: DataFrame) -> DataFrame | None:
    """The event_ids that occur more than once among the day's raw records, valid or not.

    Counted on the raw event_id alone (a narrow scan, no validation) and collected: every
    event with several valid copies is among them, and an id that repeats only among
    rejected records just takes the longer way. None when there are more than
    MAX_REPEATED_IDS, too many to broadcast.
    """
    ids = [
        r[0]
        for r in raw.where(F.col("event_id").isNotNull()).groupBy("event_id").count()
        .where(F.col("count") > 1).select("event_id").limit(MAX_REPEATED_IDS + 1).collect()
    ]
    if len(ids) > MAX_REPEATED_IDS:
        return None
    return raw.sparkSession.createDataFrame([(i,) for i in ids], "event_id string")


def _first_copies(valid: DataFrame) -> DataFrame:
    """One row per event_id: the first copy to land (earliest arrival, then file, then the
    fields hash: deterministic) and the number of valid copies."""
    payload = [c for c in CURATED_CLEANED_EVENTS.column_names if c not in ("event_id", "copies")]
    first_key = F.struct("arrival_time", "source_file", "record_hash")
    return (
        valid.groupBy("event_id")
        .agg(
            F.min_by(F.struct(*payload), first_key).alias("e"),
            F.count(F.lit(1)).cast("int").alias("copies"),
        )
        .select("event_id", "e.*", "copies")
    )
