"""Spark job: the day's interactions against what each recommender of the day before would have shown."""

from __future__ import annotations

from pyspark.sql import SparkSession

from recmart.tables import (
    INTERACTION_MATRIX, INTERACTION_SCORES, ITEM_NEIGHBOURS, RAW_PRODUCTS, RECOMMENDATION_QUALITY, TRENDING_PRODUCTS,
)
from recmart.transforms.io import read_partitions, write_partition
from recmart.transforms.quality import QualitySettings, recommendation_quality, report_rows


def run(spark: SparkSession, spec: dict) -> dict:
    inputs = spec["inputs"]
    settings = QualitySettings(**spec["params"])

    def read(table, name):
        return read_partitions(spark, table, inputs[name]).drop(table.partition_column)

    report = recommendation_quality(
        targets=read(INTERACTION_MATRIX, "interaction_matrix"),
        history=read(INTERACTION_SCORES, "interaction_scores"),
        neighbours=read(ITEM_NEIGHBOURS, "item_neighbours"),
        trending=read(TRENDING_PRODUCTS, "trending_products"),
        catalogue=read(RAW_PRODUCTS, "catalogue"),
        settings=settings,
    )
    out = spec["outputs"]["recommendation_quality"]
    rows = write_partition(report, RECOMMENDATION_QUALITY, out, files=1)
    written = report_rows(spark.read.schema(RECOMMENDATION_QUALITY.spark_schema()).parquet(out))
    numbers = ("users", "cold_users", "hr_at_10", "hr_at_20", "mrr_at_20", "coverage", "avg_list_length")
    return {
        "rows": rows,
        **{f"{name}/{k}": row[k] for name, row in sorted(written.items()) for k in numbers if row[k] is not None},
    }


if __name__ == "__main__":
    from recmart.pipes_entry import main

    main(run)
