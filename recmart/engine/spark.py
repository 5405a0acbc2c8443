"""The Spark engine: a step's SQL on a SparkSession (local mode, a cluster, Glue or EMR).

The same transform text as the DuckDB engine, run by `spark.sql` as written. Inputs are
read with the tables' Spark schemas and their partition column; each statement becomes a
temporary view (cached when a later statement reads it, so it is computed once); outputs are
written as Snappy Parquet in the output table's exact schema.
"""

from __future__ import annotations

from functools import reduce
from typing import Any, Mapping

from recmart.engine.portable import Transform
from recmart.schema import Table, spark_type

# What the portable SQL assumes of the session (see recmart.engine.portable): UTC days, and
# Spark's non-ANSI semantics for `cast` on both Spark 3.5 and 4 (4 defaults to ANSI).
SESSION_CONF = {"spark.sql.session.timeZone": "UTC", "spark.sql.ansi.enabled": "false"}


def input_frame(spark, table: Table, locations: Mapping[str, str]):
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    schema = table.spark_schema()
    part = table.partition_column
    frames = []
    for key, folder in sorted(locations.items()):
        df = spark.read.schema(schema).parquet(folder)
        frames.append(df.withColumn(part, F.lit(key).cast("date")) if part else df)
    if not frames:
        return spark.createDataFrame([], table.spark_schema(with_partition=bool(part))).select(
            *table.column_names, *([part] if part else [])
        )
    return reduce(DataFrame.unionByName, frames)


def output_frame(spark, table: Table, relation: str):
    cols = ", ".join(f"CAST(`{c.name}` AS {spark_type(c.type)}) AS `{c.name}`" for c in table.columns)
    return spark.sql(f"SELECT {cols} FROM `{relation}`")


def run(
    spark,
    transform: Transform,
    inputs: Mapping[str, tuple[Table, Mapping[str, str]]],
    outputs: Mapping[str, tuple[Table, str]],
    params: Mapping[str, Any],
    files: Mapping[str, int] | None = None,
    metrics: Transform | None = None,
) -> dict[str, Any]:
    """As `recmart.engine.duckdb.run`, on Spark; `files`: output files per output (default: Spark's)."""
    previous = {key: spark.conf.get(key, None) for key in SESSION_CONF}
    for key, value in SESSION_CONF.items():
        spark.conf.set(key, value)
    try:
        return _run(spark, transform, inputs, outputs, params, files, metrics)
    finally:  # the session may be shared (one per test run): leave it as it was
        for key, value in previous.items():
            spark.conf.unset(key) if value is None else spark.conf.set(key, value)


def _run(spark, transform, inputs, outputs, params, files, metrics) -> dict[str, Any]:
    for name, (table, locations) in inputs.items():
        input_frame(spark, table, locations).createOrReplaceTempView(name)
    rendered = transform.render("spark", params)
    read_later = _read_later(transform)
    cached = []
    for name, sql in rendered.items():
        df = spark.sql(sql)
        if name in read_later:
            df = df.cache()
            cached.append(df)
        df.createOrReplaceTempView(name)
    rows = {}
    try:
        for name, (table, folder) in outputs.items():
            out = output_frame(spark, table, name)
            if files and files.get(name):
                out = out.repartition(files[name])
            out.write.mode("overwrite").parquet(folder)
            rows[name] = spark.read.parquet(folder).count()
        for name, sql in (metrics.render("spark", params) if metrics else {}).items():
            rows[name] = spark.sql(sql).first().asDict()
    finally:
        for df in cached:
            df.unpersist()
        for name in list(transform.statements) + list(inputs):
            spark.catalog.dropTempView(name)
    return rows


def _read_later(transform: Transform) -> set[str]:
    """Statements that a later statement reads."""
    from sqlglot import exp

    names = list(transform.statements)
    parsed = transform.parsed()
    read = set()
    for i, name in enumerate(names):
        for later in names[i + 1 :]:
            if any(t.name == name for t in parsed[later].find_all(exp.Table)):
                read.add(name)
                break
    return read
