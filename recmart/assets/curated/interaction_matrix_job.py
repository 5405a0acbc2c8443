"""Spark job: cleaned events + transactions of one day -> the interaction matrix of the day."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from recmart.tables import CLEANED_EVENTS, INTERACTION_MATRIX, RAW_TRANSACTIONS
from recmart.transforms.io import read_partitions, write_partition
from recmart.transforms.matrix import interaction_matrix


def run(spark: SparkSession, spec: dict) -> dict:
    inputs = spec["inputs"]
    events = read_partitions(spark, CLEANED_EVENTS, inputs["cleaned_events"])
    transactions = read_partitions(spark, RAW_TRANSACTIONS, inputs["transactions"])
    out = spec["outputs"]["interaction_matrix"]
    rows = write_partition(interaction_matrix(events, transactions), INTERACTION_MATRIX, out)
    totals = spark.read.parquet(out).agg(
        *(F.sum(c).alias(c) for c in ("views", "add_to_carts", "remove_from_carts", "purchases", "units")),
        F.countDistinct("user_id").alias("users"),
        F.countDistinct("product_id").alias("products"),
    ).first().asDict()
    return {"rows": rows, **{k: int(v or 0) for k, v in totals.items()}}


if __name__ == "__main__":
    from recmart.pipes_entry import main

    main(run)
