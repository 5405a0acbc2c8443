"""A check that had nothing to judge has proved nothing: on an empty input where data is
expected it fails as a warning (blocking nothing) that names the empty input, and says in its
metadata that nothing was judged."""

from __future__ import annotations

import dagster as dg
import pytest
import sqlalchemy as sa

from recmart.assets.curated import checks as curated
from recmart.assets.curated.marts import checks as marts
from recmart.assets.features import checks as features
from recmart.assets.raw import CHECKS as RAW_CHECKS
from recmart.assets.raw import raw_products, raw_transactions, raw_users
from recmart.assets.raw.checks import landed_vs_raw
from recmart.assets.table_checks import checks_of
from recmart.resources.lake import LocalLake
from recmart.resources.privacy import PiiSalt
from recmart.resources.source_db import SourceDatabase
from recmart.resources.sql import DuckDBLakeSql
from recmart.source.schema import create_source_tables
from recmart.tables import TABLES

DAY = "2026-11-20"


@pytest.fixture
def empty(tmp_path):
    """An empty lake and a source database whose tables exist and are empty."""
    url = f"sqlite:///{tmp_path / 'source.db'}"
    engine = sa.create_engine(url)
    create_source_tables(engine)
    engine.dispose()
    lake = LocalLake(root=str(tmp_path / "lake"))
    return lake, DuckDBLakeSql(lake=lake), SourceDatabase(url=url)


def _is_nothing_judged(result: dg.AssetCheckResult, names: str) -> None:
    assert not result.passed, result.description
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert names in result.description
    assert result.metadata["judged"].value == 0


@pytest.mark.parametrize(
    "check, names",
    [
        (curated.records_reconcile, "raw_clickstream"),
        (curated.matrix_matches_events, "curated_cleaned_events"),
        (marts.neighbours_well_formed, "curated_item_neighbours"),
        (marts.trending_well_formed, "curated_trending_products"),
        (marts.sales_reconcile, "raw_transactions"),
        (marts.served_blend_beats_popularity, "curated_recommendation_quality"),
        (features.user_features_reconcile, "curated_interaction_matrix"),
        (features.item_features_reconcile, "curated_interaction_matrix"),
        (features.interaction_features_reconcile, "curated_interaction_matrix"),
        (features.event_times_are_day_end("features_users"), "features_users"),
    ],
)
def test_a_check_on_an_empty_day_warns_naming_what_is_empty(empty, check, names):
    _, sql, _ = empty
    _is_nothing_judged(check(sql, DAY), names)


@pytest.mark.parametrize(
    "table, check", [(t, fn) for t in TABLES for fn, _ in checks_of(t)], ids=lambda x: getattr(x, "__name__", None)
)
def test_a_generated_check_on_an_empty_day_warns_naming_its_table(empty, table, check):
    _, sql, _ = empty
    if table.may_be_empty:  # quarantine: nothing refused is the good case
        assert check(sql, DAY).passed
    else:
        _is_nothing_judged(check(sql, DAY), table.sql_name)


def test_the_matrix_checks_that_read_the_catalog_and_the_source_warn_on_an_empty_day(empty):
    _, sql, source = empty
    _is_nothing_judged(curated.matrix_matches_source(sql, source, DAY), "curated_interaction_matrix")
    _is_nothing_judged(curated.products_in_catalog(sql, DAY), "curated_interaction_matrix")


def test_no_landing_file_for_the_day_warns_naming_the_landing_prefix(empty):
    lake, sql, _ = empty
    _is_nothing_judged(landed_vs_raw(lake, sql, DAY), "landing/clickstream")


def test_an_empty_store_database_gives_raw_exports_that_warn_naming_their_table(empty):
    """The users, products and orders tables are empty: each raw export says so."""
    lake, sql, source = empty
    result = dg.materialize(
        [raw_transactions, raw_products, raw_users, *RAW_CHECKS], partition_key=DAY,
        resources={"lake": lake, "lake_sql": sql, "source_db": source, "pii": PiiSalt(salt="test-salt-123")},
        selection=[raw_transactions, raw_products, raw_users],
    )
    assert result.success  # warnings block nothing
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}
    assert {table for table, _ in evaluations} == {"raw_transactions", "raw_products", "raw_users"}
    # Each export's has_rows and the checks generated from its schema (key, not null).
    assert len(evaluations) == 9
    for (table, _), evaluation in evaluations.items():
        assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
        assert table in evaluation.description and evaluation.metadata["judged"].value == 0
