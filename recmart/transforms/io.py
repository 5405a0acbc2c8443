"""Reading and writing lake partitions from Spark (no dagster: remote Spark drivers use it too)."""

from __future__ import annotations

import datetime as dt
from functools import reduce

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from recmart.schema import Table


def read_partitions(spark: SparkSession, table: Table, locations: dict[str, str]) -> DataFrame:
    """The table's rows from the given {partition key: location}, with the partition column.

    Missing partitions are simply absent from `locations`; none at all gives an empty frame
    with the table's schema, so a day without input produces an empty, not a stale, output.
    """
    column = table.partition_column
    if column is None:
        raise ValueError(f"{table.path} is not partitioned: no partitions to read")
    schema = table.spark_schema()
    frames = [
        spark.read.schema(schema).parquet(uri).withColumn(column, F.lit(dt.date.fromisoformat(key)))
        for key, uri in sorted(locations.items())
    ]
    if not frames:
        return spark.createDataFrame([], table.spark_schema(with_partition=True)).select(
            *table.column_names, column
        )
    return reduce(DataFrame.unionByName, frames)


def write_partition(df: DataFrame, table: Table, uri: str, files: int | None = None) -> int:
    """Write one partition's rows as Snappy Parquet with the table's exact schema; rows written."""
    schema = table.spark_schema()
    out = df.select(*(F.col(f.name).cast(f.dataType).alias(f.name) for f in schema.fields))
    if files:
        # repartition, not coalesce: coalesce(1) would pull the whole upstream stage (a scan of
        # the day's raw records, for the quarantine) into a single task on a single core.
        out = out.repartition(files)
    out.write.mode("overwrite").parquet(uri)
    return parquet_rows(df.sparkSession, uri)


def parquet_rows(spark: SparkSession, uri: str) -> int:
    """Row count from the Parquet footers (no data scan)."""
    return spark.read.parquet(uri).count()
