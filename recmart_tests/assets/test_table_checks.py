"""The checks generated from the table definitions (`recmart.assets.table_checks`): every
partitioned lake table an asset writes has a blocking key check when it has a key and a
not-null check over its columns declared not nullable; each fails, exactly, on a hand-written
Parquet partition with a repeated key or a null where the schema allows none."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recmart.assets.table_checks import (
    NOT_NULL,
    key_check_name,
    key_unique,
    not_null,
    not_null_columns,
)
from recmart.partitions import DAILY
from recmart.resources.lake import LocalLake
from recmart.resources.sql import DuckDBLakeSql
from recmart.schema import Table
from recmart.tables import (
    CURATED_CLEANED_EVENTS,
    CURATED_INTERACTION_MATRIX,
    QUARANTINE_CLICKSTREAM,
    RAW_CLICKSTREAM,
    RAW_TRANSACTIONS,
    TABLES,
)

DAY, OTHER_DAY = "2026-11-20", "2026-11-21"
AT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone.utc)


def write(lake: Path, table: Table, rows: list[dict], day: str = DAY, name: str = "part-00000") -> None:
    """A partition written by hand, as a broken writer would: every field nullable."""
    schema = pa.schema([f.with_nullable(True) for f in table.arrow_schema()])
    folder = lake / table.partition_path(day)
    if table.subpartition_column:
        folder = folder / f"{table.subpartition_column}={day}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema),
                   folder / f"{name}.parquet")


def sql_over(lake: Path) -> DuckDBLakeSql:
    return DuckDBLakeSql(lake=LocalLake(root=str(lake)))


def meta(result: dg.AssetCheckResult) -> dict:
    return {k: v.value for k, v in result.metadata.items()}


def pair(user, product, **over) -> dict:
    return {"user_id": user, "product_id": product, "views": 1, "add_to_carts": 0, "remove_from_carts": 0,
            "purchases": 0, "units": 0, "revenue": Decimal("0.00"), "first_event_time": AT,
            "last_event_time": AT, **over}


def event(event_id, **over) -> dict:
    return {"event_id": event_id, "event_type": "view", "event_time": AT, "session_id": "s1", "user_id": "u1",
            "product_id": "p1", "source_file": "landing/x.gz", "arrival_time": AT, "copies": 1, **over}


# ---- which checks, where ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def graph():
    from recmart.definitions import defs

    return defs.resolve_asset_graph()


def test_every_partitioned_table_written_by_an_asset_has_its_generated_checks(graph):
    assets = {k.to_user_string() for k in graph.get_all_asset_keys()}
    checks = {(k.asset_key.to_user_string(), k.name): k for k in graph.asset_check_keys}
    tables = [t for t in TABLES if t.partition_column and t.asset_key in assets]
    assert len(tables) == len(TABLES)  # every lake table today
    for table in tables:
        expected = ([key_check_name(table)] if table.key else []) + ([NOT_NULL] if not_null_columns(table) else [])
        assert expected, table.sql_name
        for name in expected:
            spec = graph.get_check_spec(checks[table.asset_key, name])
            assert spec.blocking, (table.sql_name, name)
            assert graph.get(dg.AssetKey(table.asset_key)).partitions_def == DAILY
    generated = {k for k in checks if k[1] == NOT_NULL or k[1].endswith("_key_unique")}
    assert len(generated) == sum(bool(t.key) + bool(not_null_columns(t)) for t in tables)
    # Only the tables without a natural key have none: a landed line, a quarantined record.
    assert {t.sql_name for t in tables if not t.key} == {"raw_clickstream", "quarantine_clickstream"}


def test_the_key_checks_are_named_after_their_key():
    assert key_check_name(CURATED_CLEANED_EVENTS) == "event_id_key_unique"
    assert key_check_name(CURATED_INTERACTION_MATRIX) == "user_id_product_id_key_unique"
    assert key_check_name(RAW_TRANSACTIONS) == "order_id_line_no_key_unique"


# ---- the key check ----------------------------------------------------------------------------
def test_a_repeated_key_and_a_null_key_fail_the_key_check_exactly(tmp_path):
    write(tmp_path, CURATED_INTERACTION_MATRIX, [
        pair("u1", "p1"), pair("u1", "p1", views=2), pair("u1", "p1", views=3),  # one key, three rows
        pair("u2", "p2"), pair("u2", "p3"), pair(None, "p3"),                      # a null user
    ])
    write(tmp_path, CURATED_INTERACTION_MATRIX, [pair("u9", "p9"), pair("u9", "p9")], day=OTHER_DAY)
    verdict = key_unique(CURATED_INTERACTION_MATRIX)(sql_over(tmp_path), DAY)
    assert not verdict.passed and verdict.severity == dg.AssetCheckSeverity.ERROR
    assert meta(verdict) == {"rows": 6, "distinct_keys": 4, "repeated_keys": 1, "rows_with_repeated_keys": 3,
                             "null_keys": 1}
    assert verdict.description == (
        "curated_interaction_matrix: 1 repeated (user_id, product_id) key (3 rows for them, 2 rows more than "
        "keys), 1 row with a null key")


def test_one_row_per_key_passes_and_the_other_days_are_not_read(tmp_path):
    write(tmp_path, CURATED_INTERACTION_MATRIX, [pair("u1", "p1"), pair("u1", "p2"), pair("u2", "p1")])
    write(tmp_path, CURATED_INTERACTION_MATRIX, [pair("u1", "p1"), pair("u1", "p1")], day=OTHER_DAY)
    verdict = key_unique(CURATED_INTERACTION_MATRIX)(sql_over(tmp_path), DAY)
    assert verdict.passed, verdict.description
    assert meta(verdict) == {"rows": 3, "distinct_keys": 3, "repeated_keys": 0, "rows_with_repeated_keys": 0,
                             "null_keys": 0}
    assert not key_unique(CURATED_INTERACTION_MATRIX)(sql_over(tmp_path), OTHER_DAY).passed


def test_a_repeated_event_id_fails_naming_the_table(tmp_path):
    write(tmp_path, CURATED_CLEANED_EVENTS, [event("e1"), event("e2"), event("e2"), event("e3"), event("e3")])
    verdict = key_unique(CURATED_CLEANED_EVENTS)(sql_over(tmp_path), DAY)
    assert not verdict.passed
    assert meta(verdict) == {"rows": 5, "distinct_keys": 3, "repeated_keys": 2, "rows_with_repeated_keys": 4,
                             "null_keys": 0}
    assert verdict.description == ("curated_cleaned_events: 2 repeated event_id keys (4 rows for them, 2 rows "
                                   "more than keys), 0 rows with a null key")


def order(order_id, line_no, **over) -> dict:
    return {"order_id": order_id, "user_id": "u1", "created_at": AT, "status": "paid", "line_no": line_no,
            "product_id": None if line_no is None else "p1", "quantity": None if line_no is None else 1,
            "unit_price": None if line_no is None else Decimal("5.00"), **over}


def test_a_key_column_declared_nullable_holds_null_as_a_value(tmp_path):
    """Raw transactions: an order without items has one row, line_no null; that is its key."""
    write(tmp_path, RAW_TRANSACTIONS, [order("o1", 1), order("o1", 2), order("o2", None)])
    check = key_unique(RAW_TRANSACTIONS)
    verdict = check(sql_over(tmp_path), DAY)
    assert verdict.passed, verdict.description
    assert meta(verdict)["null_keys"] == 0 and meta(verdict)["distinct_keys"] == 3

    write(tmp_path, RAW_TRANSACTIONS, [order("o2", None)], name="part-00001")  # the empty order twice
    verdict = check(sql_over(tmp_path), DAY)
    assert not verdict.passed
    assert meta(verdict) == {"rows": 4, "distinct_keys": 3, "repeated_keys": 1, "rows_with_repeated_keys": 2,
                             "null_keys": 0}


# ---- the not-null check -----------------------------------------------------------------------
def test_nulls_in_columns_declared_not_nullable_fail_the_not_null_check_exactly(tmp_path):
    write(tmp_path, CURATED_CLEANED_EVENTS, [
        event("e1"), event("e2", event_type=None), event("e3", product_id=None, event_type=None),
        event("e4", user_id=None, price=None),  # nullable columns: nulls allowed
    ])
    verdict = not_null(CURATED_CLEANED_EVENTS)(sql_over(tmp_path), DAY)
    assert not verdict.passed and verdict.severity == dg.AssetCheckSeverity.ERROR
    assert meta(verdict) == {"rows": 4, **{f"nulls/{c}": 0 for c in not_null_columns(CURATED_CLEANED_EVENTS)},
                             "nulls/event_type": 2, "nulls/product_id": 1}
    assert verdict.description == ("curated_cleaned_events: nulls in columns declared not nullable: "
                                   "event_type (2 rows), product_id (1 row)")


def test_nulls_only_where_the_schema_allows_them_pass(tmp_path):
    write(tmp_path, CURATED_CLEANED_EVENTS, [event("e1"), event("e2", user_id=None, device=None)])
    verdict = not_null(CURATED_CLEANED_EVENTS)(sql_over(tmp_path), DAY)
    assert verdict.passed, verdict.description
    assert set(meta(verdict)) == {"rows", *(f"nulls/{c}" for c in not_null_columns(CURATED_CLEANED_EVENTS))}
    assert "nulls/user_id" not in meta(verdict)


def test_the_raw_clickstream_is_checked_on_its_arrival_day(tmp_path):
    landed = {"source_file": "landing/x.gz", "arrival_time": AT, "corrupt": False}
    write(tmp_path, RAW_CLICKSTREAM, [{**landed, "record": "{}"}, {**landed, "record": None}])
    verdict = not_null(RAW_CLICKSTREAM)(sql_over(tmp_path), DAY)
    assert not verdict.passed and meta(verdict)["nulls/record"] == 1
    assert verdict.description == "raw_clickstream: nulls in columns declared not nullable: record (1 row)"


def test_a_table_without_a_key_has_no_key_check():
    with pytest.raises(ValueError, match="raw_clickstream has no key"):
        key_unique(RAW_CLICKSTREAM)


def test_an_empty_day_warns_naming_the_table_but_an_empty_quarantine_passes(tmp_path):
    write(tmp_path, CURATED_CLEANED_EVENTS, [])
    write(tmp_path, QUARANTINE_CLICKSTREAM, [])
    for check in (not_null(CURATED_CLEANED_EVENTS), key_unique(CURATED_CLEANED_EVENTS)):
        verdict = check(sql_over(tmp_path), DAY)
        assert not verdict.passed and verdict.severity == dg.AssetCheckSeverity.WARN
        assert verdict.description.startswith(f"nothing judged: curated_cleaned_events has no rows on {DAY}")
    # Nothing refused is the good case (Table.may_be_empty); no other table may be empty.
    verdict = not_null(QUARANTINE_CLICKSTREAM)(sql_over(tmp_path), DAY)
    assert verdict.passed and meta(verdict) == {"rows": 0}
    assert [t.sql_name for t in TABLES if t.may_be_empty] == ["quarantine_clickstream"]
