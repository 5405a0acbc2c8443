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


def _publish_products(lake: LocalLake, day: str, ids: list[str]) -> None:
    import uuid
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.parquet as pq

    from recmart.tables import RAW_PRODUCTS

    staging = Path(lake.new_staging(RAW_PRODUCTS, day, uuid.uuid4().hex))
    staging.mkdir(parents=True, exist_ok=True)
    columns = {c: [pid if c == "product_id" else None for pid in ids] for c in RAW_PRODUCTS.column_names}
    pq.write_table(pa.Table.from_pydict(columns, schema=RAW_PRODUCTS.arrow_schema()), staging / "part-0.parquet")
    lake.publish(RAW_PRODUCTS, day, str(staging))


def test_the_kept_views_see_every_publish_and_removal_between_queries(tmp_path):
    import shutil

    from recmart.resources.sql import DuckDBLakeSql, _views
    from recmart.tables import RAW_PRODUCTS

    lake = LocalLake(root=str(tmp_path))
    sql = DuckDBLakeSql(lake=lake)
    count = "SELECT count(*), min(product_id) FROM raw_products"
    assert sql.query(count)[1] == [(0, None)]  # no file yet: the table's empty view
    _publish_products(lake, "2026-11-20", ["a", "b"])
    assert sql.query(count)[1] == [(2, "a")]  # published after the views were made
    _publish_products(lake, "2026-11-20", ["c"])  # the day republished, same file name
    _publish_products(lake, "2026-11-21", ["d", "e"])
    assert sql.query(count)[1] == [(3, "c")]
    con = _views(lake.uri())._con
    shutil.rmtree(tmp_path / RAW_PRODUCTS.path)  # every file of the table gone
    assert sql.query(count)[1] == [(0, None)]
    assert _views(lake.uri())._con is not con  # made again for that, and kept otherwise
    assert sql.query(count)[1] == [(0, None)] and _views(lake.uri())._con is _views(lake.uri())._con


def test_a_process_keeps_the_views_of_a_few_lakes_only(tmp_path):
    from recmart.resources import sql as sql_module

    for k in range(sql_module._KEPT_LAKES + 3):
        root = tmp_path / f"lake{k}"
        assert sql_module.DuckDBLakeSql(lake=LocalLake(root=str(root))).query("SELECT 1")[1] == [(1,)]
    assert len(sql_module._VIEWS) == sql_module._KEPT_LAKES and str(root) in sql_module._VIEWS
