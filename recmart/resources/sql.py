"""SQL over the lake: DuckDB views locally, Athena over Glue tables on AWS, one interface."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Any

import dagster as dg

from recmart.engine.lake_views import LakeViews
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
        return _views(self.lake.uri()).query(sql)


# The views of the lake roots queried last, for the life of the process (`LakeViews`); a
# process rarely has more than one lake, a test run has one per test.
_VIEWS: dict[str, LakeViews] = {}
_KEPT_LAKES = 4
_VIEWS_LOCK = threading.Lock()


def _views(lake_root: str) -> LakeViews:
    with _VIEWS_LOCK:
        views = _VIEWS.pop(lake_root, None) or LakeViews(lake_root, memory_limit=CHECK_QUERY_MEMORY)
        _VIEWS[lake_root] = views  # the newest last
        while len(_VIEWS) > _KEPT_LAKES:
            _VIEWS.pop(next(iter(_VIEWS))).close()
        return views
