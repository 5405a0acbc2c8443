"""SQL over the lake: DuckDB views locally, Athena over Glue tables on AWS, one interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import dagster as dg

from recmart.engine.lake_views import duckdb_connection
from recmart.resources.lake import LocalLake


class LakeSql(dg.ConfigurableResource, ABC):
    """Runs a query against the lake's tables, named `<layer>_<table>`."""

    @abstractmethod
    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column names and rows."""

    def scalar(self, sql: str) -> Any:
        return self.query(sql)[1][0][0]


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
