"""Spark job: the day's transactions + catalogue -> daily sales by dimension, and the day's headline figures."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from recmart.tables import DAILY_SALES, RAW_PRODUCTS, RAW_TRANSACTIONS
from recmart.transforms.io import read_partitions, write_partition
from recmart.transforms.sales import daily_sales


def run(spark: SparkSession, spec: dict) -> dict:
    transactions = read_partitions(spark, RAW_TRANSACTIONS, spec["inputs"]["transactions"])
    catalogue = read_partitions(spark, RAW_PRODUCTS, spec["inputs"]["catalogue"]).drop("event_date")
    out = spec["outputs"]["daily_sales"]
    rows = write_partition(daily_sales(transactions, catalogue), DAILY_SALES, out, files=1)
    head = (
        spark.read.schema(DAILY_SALES.spark_schema()).parquet(out)
        .where(F.col("dimension") == "all").collect()
    )
    h = head[0] if head else None
    return {
        "rows": rows,
        "orders": int(h["orders"]) if h else 0,
        "units": int(h["units"]) if h else 0,
        "revenue": float(h["revenue"]) if h else 0.0,
        "buyers": int(h["buyers"]) if h else 0,
        "avg_basket": float(h["avg_basket"]) if h and h["avg_basket"] is not None else 0.0,
        "cancelled_orders": int(h["cancelled_orders"]) if h else 0,
    }


if __name__ == "__main__":
    from recmart.pipes_entry import main

    main(run)
