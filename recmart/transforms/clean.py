"""Raw clickstream rows of one day -> cleaned events and quarantined records.

Each landed record ends in exactly one place: cleaned (the first copy of its event_id),
quarantine (with the first rule it breaks), or counted as a duplicate (`copies` - 1 on the
cleaned row it repeats). The reconciliation check relies on this.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from recmart.tables import CLEANED_EVENTS, EVENT_TYPES, QUARANTINED_EVENTS, REQUIRED_CLICK_FIELDS
from recmart.transforms.events import event_timestamp


def _blank(c: str) -> Column:
    return F.col(c).isNull() | (F.trim(F.col(c)) == "")


def _hash(c: str, salt: str) -> Column:
    """sha-256 of salt + value: ip and user agent never leave the raw layer in clear."""
    return F.when(~_blank(c), F.sha2(F.concat(F.lit(salt), F.col(c)), 256))


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


def clean_day(
    raw: DataFrame, day: dt.date, *, pii_salt: str, max_late_days: int, future_skew_minutes: int
) -> tuple[DataFrame, DataFrame]:
    """(cleaned events, quarantined records) of the raw rows assigned to `day`."""
    reason, detail = _rejection(day, max_late_days, future_skew_minutes)
    judged = raw.withColumn("_ts", event_timestamp("event_time")).select(
        "*", reason.alias("_reason"), detail.alias("_detail")
    )

    quarantined = judged.where(F.col("_reason").isNotNull()).select(
        "record", "source_file", "arrival_time",
        F.col("_reason").alias("reason"), F.col("_detail").alias("detail"),
        F.when(~_blank("event_id"), F.col("event_id")).alias("event_id"),
    )

    valid = judged.where(F.col("_reason").isNull()).select(
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
        F.xxhash64("record").alias("record_hash"),
    )
    # The same event_id twice is one event (producer retries): keep the first copy to land
    # (earliest arrival, then file, then a hash of the text: deterministic) and count the
    # others. The hash, not the line itself, so the shuffle does not carry every raw line.
    first_key = F.struct("arrival_time", "source_file", "record_hash")
    payload = [c for c in CLEANED_EVENTS.column_names if c not in ("event_id", "copies")]
    cleaned = (
        valid.groupBy("event_id")
        .agg(
            F.min_by(F.struct(*payload), first_key).alias("e"),
            F.count(F.lit(1)).cast("int").alias("copies"),
        )
        .select("event_id", "e.*", "copies")
        .select(*CLEANED_EVENTS.column_names)
    )
    return cleaned, quarantined.select(*QUARANTINED_EVENTS.column_names)
