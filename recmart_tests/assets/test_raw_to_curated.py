"""The raw and curated layers end to end on the hand-made store: landing files and a source database in,
cleaned events, quarantine, the interaction matrix and scores out, every check green."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from recmart.definitions import build_definitions
from recmart.engine.lake_views import duckdb_connection
from recmart_tests.local_resources import local_test_resources
from recmart_tests.store_builder import D1, D, build_store, click, landing_path


@pytest.fixture()
def store(tmp_path, spark):
    lake_root = tmp_path / "lake"
    source = f"sqlite:///{tmp_path / 'source.db'}"
    build_store(lake_root, source)
    defs = build_definitions(local_test_resources(tmp_path, lake_root, source))
    instance = dg.DagsterInstance.ephemeral()

    def run(job: str, day: str) -> dg.ExecuteInProcessResult:
        result = defs.resolve_job_def(job).execute_in_process(partition_key=day, instance=instance)
        assert result.success
        return result

    return lake_root, run, instance, defs


def q(lake_root: Path, sql: str):
    con = duckdb_connection(str(lake_root))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def checks_of(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], bool]:
    """(asset, check) -> passed: check names repeat across assets (`not_null`, `has_rows`)."""
    return {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}


def test_a_day_end_to_end_with_late_duplicate_and_malformed_records(store):
    lake, run, _, _ = store
    landed = run("land_raw", D).asset_materializations_for_node("raw_clickstream")[0].metadata
    by_day = {k: v.value for k, v in landed.items() if k.startswith("rows_by_event_date/")}
    assert sum(by_day.values()) == landed["dagster/row_count"].value > 0
    assert landed["job_seconds"].value > 0
    run("land_raw", D1)
    result = run("refresh_event_day", D)

    assert q(lake, f"SELECT count(*) FROM raw_clickstream WHERE event_date = DATE '{D}'") == [(12,)]
    cleaned = dict(q(lake, f"SELECT event_id, copies FROM curated_cleaned_events WHERE event_date = DATE '{D}'"))
    assert cleaned == {"e1": 2, "e2": 2, "e3": 1, "e4": 1, "e5": 1, "e6": 1, "e7": 1, "late": 1}
    assert sorted(q(lake, "SELECT reason FROM quarantine_clickstream")) == [("invalid_event_time",), ("malformed_json",)]

    matrix = {
        (u, p): rest for u, p, *rest in q(
            lake, "SELECT user_id, product_id, views, add_to_carts, remove_from_carts, purchases, units, revenue "
            f"FROM curated_interaction_matrix WHERE event_date = DATE '{D}'")
    }
    assert matrix == {
        ("u1", "p1"): [2, 1, 1, 2, 3, Decimal("57.98")],
        ("u1", "p2"): [0, 0, 0, 1, 1, Decimal("5.01")],
        ("u2", "p2"): [1, 0, 0, 0, 0, Decimal("0.00")],
        ("u1", "p99"): [1, 0, 0, 0, 0, Decimal("0.00")],
        ("u3", "p3"): [1, 0, 0, 0, 0, Decimal("0.00")],
    }
    assert q(lake, f"SELECT count(*) FROM curated_interaction_scores WHERE event_date = DATE '{D}'") == [(5,)]

    checks = checks_of(result)
    assert checks.pop(("curated_interaction_matrix", "products_in_catalog")) is False  # p99: not in the catalog
    # The first day: no snapshot of the day before, so nothing was served to judge (a warning).
    assert checks.pop(("curated_recommendation_quality", "served_blend_beats_popularity")) is False
    (verdict,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "served_blend_beats_popularity"]
    assert verdict.severity == dg.AssetCheckSeverity.WARN and verdict.metadata["judged"].value == 0
    assert "no snapshot of the day before" in verdict.description
    assert checks and all(checks.values()), {k: v for k, v in checks.items() if not v}
    # The checks generated from the schemas ran on every table the day wrote (the raw exports are
    # land_raw's), and passed.
    generated = {a for a, name in checks if name == "not_null" or name.endswith("_key_unique")}
    assert generated == {"curated_cleaned_events", "quarantine_clickstream", "curated_interaction_matrix",
                         "curated_interaction_scores", "curated_item_neighbours", "curated_trending_products",
                         "curated_fashion_trends", "curated_daily_sales", "curated_recommendation_quality",
                         "features_users", "features_items", "features_interactions"}


def test_rerunning_a_day_is_identical_and_touches_no_other_day(store):
    lake, run, _, _ = store
    for day in (D, D1):
        run("land_raw", day)
    run("refresh_event_day", D1)
    run("refresh_event_day", D)
    other = lake / f"curated/interaction_matrix/event_date={D1}"
    other_files = {p.name: p.stat().st_ino for p in other.iterdir()}
    before = q(lake, f"SELECT * FROM curated_interaction_matrix WHERE event_date = DATE '{D}' ORDER BY ALL")
    cleaned_before = q(lake, "SELECT * EXCLUDE (event_date) FROM curated_cleaned_events ORDER BY ALL")
    run("daily_refresh", D)
    assert q(lake, f"SELECT * FROM curated_interaction_matrix WHERE event_date = DATE '{D}' ORDER BY ALL") == before
    assert q(lake, "SELECT * EXCLUDE (event_date) FROM curated_cleaned_events ORDER BY ALL") == cleaned_before
    assert {p.name: p.stat().st_ino for p in other.iterdir()} == other_files
    assert not list((lake / "_staging").rglob("*.parquet"))


def test_a_day_whose_landing_files_vanished_is_cleared(store):
    lake, run, _, _ = store
    run("land_raw", D1)
    assert q(lake, f"SELECT count(*) FROM raw_clickstream WHERE arrival_date = DATE '{D1}'") == [(3,)]
    landing_path(lake, "2026-11-21T00:03:00", "ccc.gz").unlink()
    run("land_raw", D1)
    assert q(lake, f"SELECT count(*) FROM raw_clickstream WHERE arrival_date = DATE '{D1}'") == [(0,)]
    assert not (lake / f"raw/clickstream/arrival_date={D1}").exists()


def test_a_failing_step_publishes_nothing_and_keeps_the_previous_version(store, monkeypatch):
    lake, run, instance, defs = store
    run("land_raw", D)
    run("refresh_event_day", D)
    before = q(lake, "SELECT count(*) FROM curated_interaction_matrix")

    import recmart.engine.duckdb as engine

    real_run = engine.run

    def broken(con, transform, inputs, outputs, *args, **kwargs):
        real_run(con, transform, inputs, outputs, *args, **kwargs)  # the whole output, written to staging
        raise RuntimeError("lost while reporting")

    monkeypatch.setattr(engine, "run", broken)
    result = defs.resolve_job_def("refresh_event_day").execute_in_process(
        partition_key=D, instance=instance, raise_on_error=False)
    assert not result.success
    assert q(lake, "SELECT count(*) FROM curated_interaction_matrix") == before


def test_sql_views_exist_for_every_table_even_before_data(tmp_path):
    con = duckdb_connection(str(tmp_path))
    from recmart.tables import TABLES

    for t in TABLES:
        assert con.execute(f'SELECT count(*) FROM "{t.sql_name}"').fetchone() == (0,)
        cols = [r[0] for r in con.execute(f'DESCRIBE "{t.sql_name}"').fetchall()]
        assert cols == t.column_names + t.partition_columns


def test_a_damaged_landing_file_is_read_as_far_as_it_goes_and_named_by_its_check(store):
    import gzip

    lake, run, _, _ = store

    lines = [click(f"t{i}", time="2026-11-20T14:00:00Z") for i in range(2000)]
    whole = gzip.compress(("\n".join(lines) + "\n").encode())
    damaged = landing_path(lake, "2026-11-20T14:05:00", "ddd.gz")
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(whole[: len(whole) // 2])  # cut off mid-stream, as an interrupted copy leaves it
    key = str(damaged.relative_to(lake))

    result = run("land_raw", D)
    meta = result.asset_materializations_for_node("raw_clickstream")[0].metadata
    assert list(meta["damaged_files"].value) == [key]
    # The cause, named: the default engine's words ("truncated gzip ..."), Spark's EOFException.
    assert any(w in meta["damaged_files"].value[key] for w in ("truncated gzip", "EOFException"))
    check = next(e for e in result.get_asset_check_evaluations()
                 if e.check_name == "raw_clickstream_has_every_landed_line")
    # Every intact file reconciles exactly; the damaged one fails the check as a warning, by name.
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert key in check.description and check.metadata["difference"].value == 0
    salvaged = q(lake, f"SELECT count(*) FROM raw_clickstream WHERE source_file = '{key}'")[0][0]
    assert 0 < salvaged < len(lines)

    run("refresh_event_day", D)  # a warning does not hold the day up
    cleaned = q(lake, f"SELECT count(*) FROM curated_cleaned_events WHERE source_file = '{key}'")[0][0]
    # The line the cut tore in two is quarantined as malformed; every whole line is cleaned.
    torn = q(lake, f"SELECT reason, count(*) FROM quarantine_clickstream WHERE source_file = '{key}' GROUP BY 1")
    assert cleaned + sum(n for _, n in torn) == salvaged and set(torn) <= {("malformed_json", 1)}


def test_a_file_not_named_the_firehose_way_is_landed_not_fatal(store):
    lake, run, _, _ = store
    by_hand = landing_path(lake, "2026-11-20T15:00:00", "x").parent / "replayed-by-hand.json"
    by_hand.parent.mkdir(parents=True)
    by_hand.write_text(click("by-hand", time="2026-11-20T15:30:00Z") + "\n")
    meta = run("land_raw", D).asset_materializations_for_node("raw_clickstream")[0].metadata
    assert meta["files_named_otherwise"].value == 1
    run("refresh_event_day", D)
    assert q(lake, "SELECT event_id FROM curated_cleaned_events WHERE event_id = 'by-hand'") == [("by-hand",)]
