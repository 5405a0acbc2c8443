"""Feature rows and marts end to end on a small sample store (planted per-user taste):
every check green, counts that reconcile, a quality report where the item neighbours beat
popularity, and checks that fail when the data they guard is broken."""

from __future__ import annotations

import datetime as dt
import shutil

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recmart.assets.curated.marts.checks import sales_reconcile
from recmart.assets.features.checks import (
    event_times_are_day_end,
    interaction_features_reconcile,
    item_features_reconcile,
    user_features_reconcile,
)
from recmart.assets.features.feature_rows import feature_rows
from recmart.definitions import build_definitions
from recmart.engine.lake_views import duckdb_connection
from recmart.resources.lake import LocalLake
from recmart.resources.sql import DuckDBLakeSql
from recmart.sample.seed import seed_sample
from recmart.tables import FEATURES_USERS, TABLES
from recmart_tests.local_resources import local_test_resources

START = dt.date(2026, 11, 1)
DAYS = [(START + dt.timedelta(days=k)).isoformat() for k in range(3)]
D1, D2, D3 = DAYS
MY_TABLES = ("features_users", "features_items", "features_interactions", "curated_item_neighbours",
             "curated_trending_products", "curated_fashion_trends", "curated_daily_sales",
             "curated_recommendation_quality")


@pytest.fixture(scope="module")
def sample(tmp_path_factory, spark):
    root = tmp_path_factory.mktemp("sample")
    source = f"sqlite:///{root / 'source.db'}"
    seed_sample(str(root / "lake"), source, START, len(DAYS), 4_000, 300, 7, None, products=500, progress=False)
    resources = local_test_resources(root, root / "lake", source)
    defs = build_definitions(resources)
    instance = dg.DagsterInstance.ephemeral()
    results = {}
    for job in ("land_raw", "refresh_event_day"):
        for day in DAYS:
            result = defs.resolve_job_def(job).execute_in_process(partition_key=day, instance=instance)
            assert result.success
            results[job, day] = result
    return root / "lake", results, resources, instance


def q(lake_root, sql: str):
    con = duckdb_connection(str(lake_root))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_every_feature_and_mart_check_runs_and_passes(sample):
    _, results, _, _ = sample
    for day in DAYS:
        checks = {(e.asset_key.to_user_string(), e.check_name): e.passed
                  for e in results["refresh_event_day", day].get_asset_check_evaluations()}
        mine = {k: v for k, v in checks.items() if k[0] in (
            "features_users", "features_items", "features_interactions", "curated_item_neighbours",
            "curated_trending_products", "curated_fashion_trends", "curated_daily_sales")}
        # 6 hand-written (3 reconciliations, 3 event times) on the features, 3 on the marts (ranks and
        # scores, rising trends, sales), and a generated key and not-null check on each of the 7 tables.
        assert len(mine) == 6 + 3 + 2 * 7, sorted(mine)
        assert all(mine.values()), {k: v for k, v in mine.items() if not v}
    # Two days of history: the served blend beats popularity and the warning stays quiet.
    q3 = {e.check_name: e for e in results["refresh_event_day", D3].get_asset_check_evaluations()}
    assert q3["served_blend_beats_popularity"].passed
    assert q3["served_blend_beats_popularity"].severity == dg.AssetCheckSeverity.WARN


def test_the_raw_layer_checks_generated_from_the_schemas_pass_on_the_sample(sample):
    """The raw exports and the landed clickstream: one row per order line, product and user, and
    no null where the schema allows none, as the store's database and the landing guarantee."""
    _, results, _, _ = sample
    for day in DAYS:
        checks = {(e.asset_key.to_user_string(), e.check_name): e
                  for e in results["land_raw", day].get_asset_check_evaluations()}
        assert {k for k in checks if k[1] == "not_null" or k[1].endswith("_key_unique")} == {
            ("raw_clickstream", "not_null"), ("raw_transactions", "not_null"), ("raw_products", "not_null"),
            ("raw_users", "not_null"), ("raw_transactions", "order_id_line_no_key_unique"),
            ("raw_products", "product_id_key_unique"), ("raw_users", "user_id_key_unique")}
        assert all(e.passed for e in checks.values()), {k: e.description for k, e in checks.items() if not e.passed}


def test_new_tables_have_views_with_rows(sample, tmp_path):
    lake, _, _, _ = sample
    con = duckdb_connection(str(tmp_path))  # an empty lake: typed, empty views
    empty = {t.sql_name: t for t in TABLES}
    for name in MY_TABLES:
        cols = [r[0] for r in con.execute(f'DESCRIBE "{name}"').fetchall()]
        assert cols == empty[name].column_names + empty[name].partition_columns
    con.close()
    for name in MY_TABLES:
        assert q(lake, f"SELECT count(*) FROM {name} WHERE event_date = DATE '{D3}'")[0][0] > 0, name


def test_feature_rows_reconcile_with_the_matrices(sample):
    lake, _, resources, _ = sample
    sql = resources["lake_sql"]
    users = user_features_reconcile(sql, D3)
    assert users.passed and users.metadata["rows"].value == q(
        lake, "SELECT count(DISTINCT user_id) FROM curated_interaction_matrix")[0][0]
    assert item_features_reconcile(sql, D3).passed
    pairs = interaction_features_reconcile(sql, D3)
    assert pairs.passed and pairs.metadata["rows"].value == q(
        lake, f"SELECT count(*) FROM curated_interaction_scores WHERE event_date = DATE '{D3}'")[0][0]
    # One user, spot-checked by hand: views of the day = the matrix's.
    user, views = q(lake, f"SELECT user_id, views_1d FROM features_users WHERE event_date = DATE '{D3}' "
                          "ORDER BY views_1d DESC, user_id LIMIT 1")[0]
    assert views == q(lake, f"SELECT sum(views) FROM curated_interaction_matrix WHERE event_date = DATE '{D3}' "
                            f"AND user_id = '{user}'")[0][0]


def _rewrite(lake, table, day: str, change) -> None:
    folder = lake / table.partition_path(day)
    data = pa.concat_tables([pq.read_table(p) for p in sorted(folder.glob("*.parquet"))])
    shutil.rmtree(folder)
    folder.mkdir()
    pq.write_table(change(data).cast(table.arrow_schema()), folder / "part-00000.parquet")


def test_checks_fail_on_broken_feature_rows(sample, tmp_path):
    lake, _, _, _ = sample
    copy = tmp_path / "lake"
    shutil.copytree(lake, copy)
    sql = DuckDBLakeSql(lake=LocalLake(root=str(copy)))

    def one_more_view(t: pa.Table) -> pa.Table:
        views = t["views_1d"].to_pylist()
        views[0] += 1
        return t.set_column(t.schema.get_field_index("views_1d"), "views_1d", pa.array(views, pa.int64()))

    _rewrite(copy, FEATURES_USERS, D3, one_more_view)
    broken = user_features_reconcile(sql, D3)
    assert not broken.passed and broken.metadata["users_not_matching"].value == 1
    _rewrite(copy, FEATURES_USERS, D3, lambda t: t.slice(1))  # a user goes missing
    assert not user_features_reconcile(sql, D3).passed
    _rewrite(copy, FEATURES_USERS, D3, lambda t: t.set_column(
        1, "event_time", pa.array([dt.datetime(2026, 11, 3, tzinfo=dt.timezone.utc)] * t.num_rows,
                                  pa.timestamp("us", tz="UTC"))))
    assert not event_times_are_day_end("features_users")(sql, D3).passed
    assert event_times_are_day_end("features_items")(sql, D3).passed


def test_feature_rows_of_a_day_do_not_change_when_later_days_arrive(sample):
    lake, _, resources, instance = sample
    query = f"SELECT * FROM features_users WHERE event_date = DATE '{D2}' ORDER BY user_id"
    before = q(lake, query)
    result = dg.materialize([feature_rows], partition_key=D2, resources=resources, instance=instance)
    assert result.success
    assert q(lake, query) == before and before


def test_daily_sales_metadata_carries_the_headline_figures(sample):
    lake, results, resources, _ = sample
    events = results["refresh_event_day", D3].get_asset_materialization_events()
    meta = next(e.materialization.metadata for e in events if e.asset_key == dg.AssetKey("curated_daily_sales"))
    orders, revenue, buyers, basket = q(
        lake, f"SELECT orders, revenue, buyers, avg_basket FROM curated_daily_sales "
              f"WHERE event_date = DATE '{D3}' AND dimension = 'all'")[0]
    assert orders > 0
    assert (meta["orders"].value, meta["buyers"].value) == (orders, buyers)
    assert meta["revenue"].value == pytest.approx(float(revenue)) and meta["avg_basket"].value == pytest.approx(float(basket))
    assert isinstance(meta["revenue"], dg.FloatMetadataValue)
    assert sales_reconcile(resources["lake_sql"], D3).passed


def test_quality_report_judges_hundreds_of_positions_a_day_on_the_sample(sample):
    lake, _, _, _ = sample
    rows = {(r[0], r[1]): r[2:] for r in q(
        lake, "SELECT recommender, scope, positions, users_judged, hr_at_20, mrr_at_20, coverage "
              f"FROM curated_recommendation_quality WHERE event_date = DATE '{D3}'")}
    assert {r for r, _ in rows} >= {"served_blend", "sequential_rules", "session_neighbours", "item_neighbours",
                                    "popularity"}
    served, pop = rows["served_blend", "next_is_other"], rows["popularity", "next_is_other"]
    assert rows["served_blend", "all"][0] >= 200 and served[1] > 50  # positions, users judged
    assert served[2] > pop[2] and served[3] > pop[3]  # HR@20, MRR@20
    # The first day has no snapshot before it (no source, no neighbours): popularity is empty too,
    # and the day's positions are still judged (they are the day's events).
    assert q(lake, f"SELECT count(*) FROM curated_recommendation_quality WHERE event_date = DATE '{D1}'") == [(8,)]  # no item neighbours row
