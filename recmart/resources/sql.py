"""SQL over the lake: DuckDB views locally, Athena over Glue tables on AWS, one interface."""

from __future__ import annotations

import glob
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from recmart.resources.lake import LocalLake
from recmart.tables import TABLES


class LakeSql(dg.ConfigurableResource, ABC):
    """Runs a query against the lake's tables, named `<layer>_<table>`."""

    @abstractmethod
    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column names and rows."""

    def scalar(self, sql: str) -> Any:
        return self.query(sql)[1][0][0]


def duckdb_connection(lake_root: str, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per lake table, derived from its schema definition.

    `memory_limit` (DuckDB's setting, e.g. "512MB"): beyond it DuckDB spills to a folder
    under the system's temporary directory rather than growing.
    """
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = '{Path(tempfile.gettempdir()) / 'recmart-duckdb-spill'}'")
    for table in TABLES:
        uri = f"{lake_root}/{table.path}"
        levels = "/".join(f"{p}=*" for p in table.partition_columns)
        pattern = f"{uri}/{levels}/*.parquet" if levels else f"{uri}/*.parquet"
        if glob.glob(pattern):
            con.execute(table.duckdb_view_sql(uri))
        else:
            con.execute(table.duckdb_empty_view_sql())
    return con


# The checks' queries run inside the Dagster process, beside the Spark JVM: bounded, they
# do not add to the run's peak memory what a distinct count over a 10 M-event day would
# take unbounded (bench/spine/check_query_memory.py measures both).
CHECK_QUERY_MEMORY = "512MB"


class DuckDBLakeSql(LakeSql):
    """DuckDB views over the local lake's Parquet files."""

    lake: LocalLake

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        con = duckdb_connection(self.lake.uri(), memory_limit=CHECK_QUERY_MEMORY)
        try:
            cur = con.execute(sql)
            return [d[0] for d in cur.description], cur.fetchall()
        finally:
            con.close()
