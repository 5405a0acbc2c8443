"""The SQL resource's DuckDB: bounded memory, spilling outside the repository."""

from __future__ import annotations

import os

from recmart.resources.lake import LocalLake


def test_check_queries_run_in_bounded_memory_and_spill_outside_the_repository(tmp_path):
    from recmart.resources.sql import DuckDBLakeSql

    sql = DuckDBLakeSql(lake=LocalLake(root=str(tmp_path)))
    limit, spill = sql.query("SELECT current_setting('memory_limit'), current_setting('temp_directory')")[1][0]
    assert limit == "488.2 MiB"  # 512 MB, as DuckDB prints it
    assert spill.endswith("recmart-duckdb-spill") and not spill.startswith(os.getcwd())
