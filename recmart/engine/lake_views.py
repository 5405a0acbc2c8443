"""The lake's tables as DuckDB views: what `recmart sql` and the local checks query.

Free of Dagster, so `recmart sql` starts in a fraction of a second.
"""

from __future__ import annotations

import glob
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import duckdb

from recmart.tables import TABLES


def duckdb_connection(lake_root: str, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per lake table, derived from its schema definition.

    `memory_limit` (DuckDB's setting, e.g. "512MB"): beyond it DuckDB spills to a folder
    under the system's temporary directory rather than growing.
    """
    return _connect(lake_root, memory_limit)[0]


def _connect(lake_root: str, memory_limit: str | None) -> tuple[duckdb.DuckDBPyConnection, list]:
    """`duckdb_connection`, and the tables that had no file (their views are empty)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = '{Path(tempfile.gettempdir()) / 'recmart-duckdb-spill'}'")
    empty = []
    for table in TABLES:
        has_files = bool(glob.glob(_pattern(lake_root, table)))
        _create_view(con, lake_root, table, has_files)
        if not has_files:
            empty.append(table)
    return con, empty


def _pattern(lake_root: str, table) -> str:
    uri = f"{lake_root}/{table.path}"
    levels = "/".join(f"{p}=*" for p in table.partition_columns)
    return f"{uri}/{levels}/*.parquet" if levels else f"{uri}/*.parquet"


def _create_view(con: duckdb.DuckDBPyConnection, lake_root: str, table, has_files: bool) -> None:
    con.execute(table.duckdb_view_sql(f"{lake_root}/{table.path}") if has_files else table.duckdb_empty_view_sql())


class LakeViews:
    """One `duckdb_connection` kept for many queries (the checks run dozens a day, and opening
    one took longer than most of their queries: 40 ms against 4).

    A view over files lists them again at each query, so partitions published since are
    read; what can go stale is which tables had no file when the views were made (an empty
    view), so those are looked for again before each query, and a table whose files all went
    (DuckDB: "No files found") has the views made again and the query retried once. Queries
    are serialised (a connection is not for concurrent use); a forked process opens its own.
    """

    def __init__(self, lake_root: str, memory_limit: str | None = None) -> None:
        self.lake_root, self.memory_limit = lake_root, memory_limit
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._pid = -1
        self._empty: list = []

    def _open(self) -> duckdb.DuckDBPyConnection:
        if self._con is not None:
            self._con.close()
        self._con, self._empty = _connect(self.lake_root, self.memory_limit)
        self._pid = os.getpid()
        return self._con

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
            self._con = None

    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self._lock:
            con = self._con if self._con is not None and self._pid == os.getpid() else self._open()
            found = [t for t in self._empty if glob.glob(_pattern(self.lake_root, t))]
            for table in found:
                _create_view(con, self.lake_root, table, True)
                self._empty.remove(table)
            try:
                cur = con.execute(sql)
            except duckdb.IOException as exc:
                if "No files found" not in str(exc):
                    raise
                cur = self._open().execute(sql)
            return [d[0] for d in cur.description], cur.fetchall()
