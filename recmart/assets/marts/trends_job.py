"""Spark job: interaction matrices of the day and its baseline + catalogue -> trending products and fashion trends."""

from __future__ import annotations

import datetime as dt

from pyspark import StorageLevel
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from recmart.tables import FASHION_TRENDS, INTERACTION_MATRIX, RAW_PRODUCTS, TRENDING_PRODUCTS
from recmart.transforms.io import read_partitions, write_partition
from recmart.transforms.trends import TrendSettings, fashion_trends, product_trends, trending_products


def run(spark: SparkSession, spec: dict) -> dict:
    day = dt.date.fromisoformat(spec["partition"])
    settings = TrendSettings(**spec["params"])
    matrices = read_partitions(spark, INTERACTION_MATRIX, spec["inputs"]["interaction_matrix"])
    catalogue = read_partitions(spark, RAW_PRODUCTS, spec["inputs"]["catalogue"]).drop("event_date")
    trends = product_trends(matrices, day, settings).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        trending = write_partition(
            trending_products(trends, catalogue, settings), TRENDING_PRODUCTS, spec["outputs"]["trending_products"]
        )
        fashion = write_partition(
            fashion_trends(trends, catalogue, settings), FASHION_TRENDS, spec["outputs"]["fashion_trends"]
        )
    finally:
        trends.unpersist()
    written = spark.read.schema(TRENDING_PRODUCTS.spark_schema()).parquet(spec["outputs"]["trending_products"])
    scopes = written.where(F.col("scope") != "all").select("scope").distinct().count()
    return {
        "trending_rows": trending,
        "fashion_rows": fashion,
        "category_scopes": scopes,
        "baseline_days_present": len([k for k in spec["inputs"]["interaction_matrix"] if k != spec["partition"]]),
    }


if __name__ == "__main__":
    from recmart.pipes_entry import main

    main(run)
