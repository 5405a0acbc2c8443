"""Which engine runs the steps' SQL: DuckDB in this process, or Spark through the step runner."""

from __future__ import annotations

from typing import Literal, get_args

import dagster as dg

EngineName = Literal["duckdb", "spark"]
ENGINES = get_args(EngineName)


class StepEngine(dg.ConfigurableResource):
    """`duckdb`: embedded, the local default (a local folder lake only). `spark`: the step
    runner's Spark (local mode, a standalone cluster, Glue or EMR through Pipes)."""

    engine: EngineName = "duckdb"
    duckdb_memory_limit: str = "1GB"
