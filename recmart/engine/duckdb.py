"""The DuckDB engine: a step's SQL in the Dagster process, embedded, nothing to install.

Inputs are Parquet partitions read as views (with their partition column, as the Spark
engine reads them); each statement of the transform becomes a temporary table, and each
output is written as one Snappy Parquet file in the output table's exact schema (column
order, types), so the files are the ones the Spark engine writes but for their names.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from recmart.engine.portable import Transform
from recmart.schema import Table, duckdb_type

# DuckDB spills to disk beyond this: the peak memory of a step stays bounded on a laptop.
DEFAULT_MEMORY_LIMIT = "1GB"


def connect(memory_limit: str = DEFAULT_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # partitions are UTC days
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET temp_directory = '{Path(tempfile.gettempdir()) / 'recmart-duckdb-spill'}'")
    # Row order is not part of any result: let DuckDB write in whatever order is fastest.
    con.execute("SET preserve_insertion_order = false")
    return con


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _casts(table: Table, null: bool = False) -> str:
    """The table's columns in order, each cast to its type (NULLs of the type with `null`)."""
    def value(c) -> str:
        return "NULL" if null else f'"{c.name}"'

    return ", ".join(f'CAST({value(c)} AS {duckdb_type(c.type)}) AS "{c.name}"' for c in table.columns)


def input_relation(table: Table, locations: Mapping[str, str]) -> str:
    """SQL of the rows of `table` at {partition key: folder}, with its partition column."""
    part = table.partition_column
    if not locations:
        key_col = f', CAST(NULL AS DATE) AS "{part}"' if part else ""
        return f"SELECT {_casts(table, null=True)}{key_col} WHERE false"
    selects = []
    for key, folder in sorted(locations.items()):
        src = f"read_parquet({_quote(folder.rstrip('/') + '/*.parquet')})"
        key_col = f', DATE {_quote(key)} AS "{part}"' if part else ""
        selects.append(f"SELECT {_casts(table)}{key_col} FROM {src}")
    return " UNION ALL ".join(selects)


def output_select(table: Table, relation: str) -> str:
    return f'SELECT {_casts(table)} FROM "{relation}"'


def run(
    con: duckdb.DuckDBPyConnection,
    transform: Transform,
    inputs: Mapping[str, tuple[Table, Mapping[str, str]]],
    outputs: Mapping[str, tuple[Table, str]],
    params: Mapping[str, Any],
    metrics: Transform | None = None,
) -> dict[str, Any]:
    """Run `transform` on {relation: (table, {key: folder})}; write {statement: (table, folder)}.

    Returns the rows written per output and, per metric query, its one row as a dict. The
    output folders are created; what was in them is the caller's (staging folders are fresh).
    """
    for name, (table, locations) in inputs.items():
        con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {input_relation(table, locations)}')
    for name, sql in transform.render("duckdb", params).items():
        # A table, not a view: a view would be computed again by each reader (a later
        # statement, the output's COPY, its row count, the metrics).
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {sql}')
    rows = {}
    for name, (table, folder) in outputs.items():
        Path(folder).mkdir(parents=True, exist_ok=True)
        target = str(Path(folder) / "part-00000.parquet")
        con.execute(f"COPY ({output_select(table, name)}) TO {_quote(target)} (FORMAT parquet, COMPRESSION snappy)")
        count = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()
        if count is None:
            raise RuntimeError(f"SELECT count(*) FROM {name} returned no row")
        rows[name] = count[0]
    for name, sql in (metrics.render("duckdb", params) if metrics else {}).items():
        cur = con.execute(sql)
        values = cur.fetchone()
        if values is None:
            raise RuntimeError(f"metrics query {name} of {transform.name} returned no row")
        rows[name] = dict(zip([d[0] for d in cur.description], values, strict=True))
    for name in transform.statements:
        con.execute(f'DROP TABLE IF EXISTS "{name}"')
    return rows
