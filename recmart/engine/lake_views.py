"""The lake's tables as DuckDB views: what `recmart sql` and the local checks query.

Free of Dagster, so `recmart sql` starts in a fraction of a second.
"""

from __future__ import annotations

import glob
import tempfile
from pathlib import Path

import duckdb

from recmart.tables import TABLES


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
