"""SQL over the lake: DuckDB views locally, Athena over Glue tables on AWS, one interface."""

from __future__ import annotations

import glob
from abc import ABC, abstractmethod
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


def duckdb_connection(lake_root: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per lake table, derived from its schema definition."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for table in TABLES:
        uri = f"{lake_root}/{table.path}"
        levels = "/".join(f"{p}=*" for p in table.partition_columns)
        pattern = f"{uri}/{levels}/*.parquet" if levels else f"{uri}/*.parquet"
        if glob.glob(pattern):
            con.execute(table.duckdb_view_sql(uri))
        else:
            con.execute(table.duckdb_empty_view_sql())
    return con


class DuckDBLakeSql(LakeSql):
    """DuckDB views over the local lake's Parquet files."""

    lake: LocalLake

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        con = duckdb_connection(self.lake.uri())
        try:
            cur = con.execute(sql)
            return [d[0] for d in cur.description], cur.fetchall()
        finally:
            con.close()
