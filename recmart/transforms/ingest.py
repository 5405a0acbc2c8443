"""Landed Firehose lines -> raw clickstream rows (schema-on-read: every field as text)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from recmart.tables import CLICK_FIELDS, RAW_CLICKSTREAM
from recmart.transforms.events import assigned_date, event_timestamp

_CORRUPT = "_corrupt_record"
# Every contract field read as text: a number stays its digits, an object its JSON, so the
# raw layer never rejects or alters a value; cleaning decides what is valid.
_AS_TEXT = T.StructType(
    [T.StructField(f, T.StringType()) for f in CLICK_FIELDS] + [T.StructField(_CORRUPT, T.StringType())]
)
# The arrival time Firehose writes into every file name: ...-YYYY-MM-DD-HH-MM-SS-<uuid>[.gz]
_NAME_TIME = r"-(\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-[^/]*$"


def landed_lines(spark, files: list[str]) -> DataFrame:
    """One row per line of the landed files (gzip by extension): `line`, `file_uri`."""
    return spark.read.text(files).select(
        F.col("value").alias("line"), F.col("_metadata.file_path").alias("file_uri")
    )


def to_raw(lines: DataFrame, max_late_days: int, future_skew_minutes: int) -> DataFrame:
    """Raw clickstream rows with the assigned `event_date` partition column."""
    parsed = F.from_json("line", _AS_TEXT, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": _CORRUPT})
    df = lines.select(
        F.col("line").alias("record"),
        F.regexp_extract("file_uri", r"(landing/.*)$", 1).alias("source_file"),
        F.to_timestamp(F.regexp_extract("file_uri", _NAME_TIME, 1), "yyyy-MM-dd-HH-mm-ss").alias("arrival_time"),
        parsed.alias("j"),
    )
    # A line is corrupt when it is not one JSON object, including `{...} trailing text`,
    # which Spark's parser would otherwise accept.
    corrupt = (
        F.col("j").isNull()
        | F.col(f"j.{_CORRUPT}").isNotNull()
        | ~F.trim("record").rlike(r"^\{.*\}$")
    )
    df = df.select(
        "record", "source_file", "arrival_time", corrupt.alias("corrupt"),
        *(F.when(~corrupt, F.col(f"j.{f}")).alias(f) for f in CLICK_FIELDS),
    )
    event_date = assigned_date(
        event_timestamp("event_time"), F.col("arrival_time"), max_late_days, future_skew_minutes
    )
    return df.withColumn("event_date", event_date).select(
        *RAW_CLICKSTREAM.column_names, "event_date"
    )
