"""The Spark engine: a step's SQL on a SparkSession (local mode, a cluster, Glue or EMR).

The same transform text as the DuckDB engine, run by `spark.sql` as written. Inputs are read
and outputs written as the Spark ingest does (`recmart.transforms.io`: the tables' Spark
schemas, the partition column, Snappy Parquet in the output table's exact schema); each
statement becomes a temporary view, cached when a later statement reads it, so it is
computed once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recmart.engine.portable import Transform
from recmart.schema import Table

# What the portable SQL assumes of the session (see recmart.engine.portable): UTC days, and
# Spark's non-ANSI semantics for `cast` on both Spark 3.5 and 4 (4 defaults to ANSI).
SESSION_CONF = {"spark.sql.session.timeZone": "UTC", "spark.sql.ansi.enabled": "false"}


def run(
    spark,
    transform: Transform,
    inputs: Mapping[str, tuple[Table, Mapping[str, str]]],
    outputs: Mapping[str, tuple[Table, str]],
    params: Mapping[str, Any],
    metrics: Transform | None = None,
) -> dict[str, Any]:
    """As `recmart.engine.duckdb.run`, on Spark."""
    previous = {key: spark.conf.get(key, None) for key in SESSION_CONF}
    for key, value in SESSION_CONF.items():
        spark.conf.set(key, value)
    try:
        return _run(spark, transform, inputs, outputs, params, metrics)
    finally:  # the session may be shared (one per test run): leave it as it was
        for key, value in previous.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def _run(spark, transform, inputs, outputs, params, metrics) -> dict[str, Any]:
    from recmart.transforms.io import read_partitions, write_partition

    for name, (table, locations) in inputs.items():
        read_partitions(spark, table, locations).createOrReplaceTempView(name)
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
            rows[name] = write_partition(spark.table(name), table, folder)
            # The metrics read what was written, not the statement again (a view is computed
            # anew by each reader).
            spark.read.parquet(folder).createOrReplaceTempView(name)
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
