"""Every registered step on DuckDB and on Spark, compared row for row on hand-made inputs
with the hard cases; and each against the PySpark transform it replaces."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recmart.engine import duckdb as duck_engine
from recmart.engine import spark as spark_engine
from recmart.steps import REGISTRY
from recmart.tables import (
    CURATED_CLEANED_EVENTS,
    CURATED_DAILY_SALES,
    CURATED_FASHION_TRENDS,
    CURATED_INTERACTION_MATRIX,
    CURATED_INTERACTION_SCORES,
    CURATED_TRENDING_PRODUCTS,
    RAW_PRODUCTS,
    RAW_TRANSACTIONS,
)
from recmart.transforms.scores import ScoreSettings
from recmart.transforms.trends import TrendSettings
from recmart_tests.engine.parity import assert_same_rows

DAY = "2026-11-20"
UTC = dt.timezone.utc


def t(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=UTC)


def write(table, rows: list[dict], folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    schema = table.arrow_schema()
    data = {c: [r.get(c) for r in rows] for c in schema.names}
    pq.write_table(pa.table(data, schema=schema), folder / "part-00000.parquet")
    return str(folder)


def event(event_id, user, product, etype="view", at="2026-11-20T10:00:00", **kw):
    return {
        "event_id": event_id, "event_type": etype, "event_time": t(at), "session_id": f"s-{user}",
        "user_id": user, "product_id": product, "source_file": "landing/clickstream/x", "arrival_time": t(at),
        "copies": 1, **kw,
    }


def order(order_id, user, line_no, product, qty, price, status="placed", at="2026-11-20T12:00:00"):
    return {"order_id": order_id, "user_id": user, "created_at": t(at), "status": status,
            "line_no": line_no, "product_id": product, "quantity": qty,
            "unit_price": None if price is None else Decimal(price)}


EVENTS = [
    event("e1", "u1", "p1"), event("e2", "u1", "p1", at="2026-11-20T00:00:00"),
    event("e3", "u1", "p1", "add_to_cart", at="2026-11-20T23:59:59.999999"),
    event("e4", "u1", "p2", "remove_from_cart"),
    event("e5", None, "p1"),  # anonymous: no matrix row
    event("e6", "ユーザー", "prod-é", at="2026-11-20T05:00:00"),  # non-ASCII ids
    event("e7", "u2", "p3", at="2026-11-20T08:00:00"), event("e8", "u2", "p3", at="2026-11-20T08:00:00"),  # tie
    event("e9", "u3", "p1", "add_to_cart"),
]
ORDERS = [
    order("o1", "u1", 1, "p1", 2, "19.99", at="2026-11-20T23:59:59.999999"),  # after the last click
    order("o1", "u1", 2, "p4", 1, "5.00"),  # bought without a click
    order("o2", "u1", 1, "p1", 1, "19.99", at="2026-11-20T00:00:00"),  # before the first click
    order("o3", "u2", 1, "p3", 3, "1.10", status="cancelled"),
    order("o4", None, 1, "p1", 1, "19.99"),  # a guest order: no user row
    order("o5", "u4", None, None, None, None),  # an order without items
    order("o6", "ユーザー", 1, "prod-é", 1, "0.01"),
]


def run_both(spark, tmp_path, step, inputs, settings=None):
    """The step on each engine; {engine: output folder per output} and their metrics."""
    params = step.params(DAY, settings)
    folders, metrics = {}, {}
    for engine in ("duckdb", "spark"):
        outs = {name: (table, str(tmp_path / engine / name)) for name, table in step.outputs.items()}
        if engine == "duckdb":
            result = duck_engine.run(duck_engine.connect(), step.transform, inputs, outs, params, step.metric_queries)
        else:
            result = spark_engine.run(spark, step.transform, inputs, outs, params, metrics=step.metric_queries)
        folders[engine] = {name: folder for name, (_, folder) in outs.items()}
        metrics[engine] = result
    return folders, metrics


def test_interaction_matrix_same_rows_on_both_engines_and_as_the_pyspark_transform(spark, tmp_path):
    from recmart.transforms.io import read_partitions, write_partition
    from recmart.transforms.matrix import interaction_matrix

    step = REGISTRY["interaction_matrix"]
    inputs = {
        "cleaned_events": (CURATED_CLEANED_EVENTS, {DAY: write(CURATED_CLEANED_EVENTS, EVENTS, tmp_path / "in" / "ce")}),
        "transactions": (RAW_TRANSACTIONS, {DAY: write(RAW_TRANSACTIONS, ORDERS, tmp_path / "in" / "tx")}),
    }
    folders, metrics = run_both(spark, tmp_path, step, inputs)
    rows = assert_same_rows(CURATED_INTERACTION_MATRIX, folders["duckdb"]["interaction_matrix"],
                            folders["spark"]["interaction_matrix"])
    # u1: p1, p2, p4; u2: p3 (the cancelled order adds nothing); u3: p1; ユーザー: prod-é
    assert rows == 6
    assert metrics["duckdb"] == metrics["spark"]
    assert metrics["duckdb"]["totals"] == {
        "rows": 6, "views": 5, "add_to_carts": 2, "remove_from_carts": 1, "purchases": 4, "units": 5,
        "users": 4, "products": 5,
    }
    old = str(tmp_path / "pyspark")
    write_partition(
        interaction_matrix(read_partitions(spark, CURATED_CLEANED_EVENTS, inputs["cleaned_events"][1]),
                           read_partitions(spark, RAW_TRANSACTIONS, inputs["transactions"][1])),
        CURATED_INTERACTION_MATRIX, old,
    )
    assert_same_rows(CURATED_INTERACTION_MATRIX, folders["duckdb"]["interaction_matrix"], old)
    import duckdb

    u1p1 = duckdb.sql(
        f"SELECT views, add_to_carts, purchases, units, revenue, first_event_time, last_event_time "
        f"FROM read_parquet('{folders['duckdb']['interaction_matrix']}/*.parquet') "
        "WHERE user_id = 'u1' AND product_id = 'p1'"
    ).fetchall()[0]
    assert u1p1[:5] == (2, 1, 2, 3, Decimal("59.97"))
    assert (u1p1[5], u1p1[6]) == (t("2026-11-20T00:00:00"), t("2026-11-20T23:59:59.999999"))


def matrix_row(user, product, day, views=0, carts=0, removes=0, purchases=0, units=0, revenue="0.00"):
    return {"user_id": user, "product_id": product, "views": views, "add_to_carts": carts,
            "remove_from_carts": removes, "purchases": purchases, "units": units, "revenue": Decimal(revenue),
            "first_event_time": t(f"{day}T01:00:00"), "last_event_time": t(f"{day}T02:00:00")}


@pytest.mark.parametrize("settings", [ScoreSettings(), ScoreSettings(window_days=3, half_life_days=2.5,
                                                                     remove_from_cart_weight=-7.0)])
def test_interaction_scores_same_rows_on_both_engines_and_as_the_pyspark_transform(spark, tmp_path, settings):
    from recmart.transforms.io import read_partitions, write_partition
    from recmart.transforms.scores import interaction_scores

    step = REGISTRY["interaction_scores"]
    days = {
        "2026-11-20": [matrix_row("u1", "p1", "2026-11-20", views=3, carts=1),
                       matrix_row("ユーザー", "prod-é", "2026-11-20", removes=2)],
        "2026-11-18": [matrix_row("u1", "p1", "2026-11-18", purchases=1, units=2, revenue="3.30"),
                       matrix_row("u2", "p2", "2026-11-18", views=1)],
        "2026-11-17": [matrix_row("u2", "p2", "2026-11-17", views=5)],  # outside a 3-day window
        "2026-10-22": [matrix_row("u3", "p3", "2026-10-22", views=1)],  # the 30th day back
    }
    keys = step.inputs["interaction_matrix"].keys(DAY, settings)
    assert len(keys) == settings.window_days
    locations = {k: write(CURATED_INTERACTION_MATRIX, rows, tmp_path / "in" / k) for k, rows in days.items() if k in keys}
    inputs = {"interaction_matrix": (CURATED_INTERACTION_MATRIX, locations)}
    folders, _ = run_both(spark, tmp_path, step, inputs, settings)
    rows = assert_same_rows(CURATED_INTERACTION_SCORES, folders["duckdb"]["interaction_scores"],
                            folders["spark"]["interaction_scores"])
    assert rows == (4 if settings.window_days == 30 else 3)
    old = str(tmp_path / "pyspark")
    matrices = read_partitions(spark, CURATED_INTERACTION_MATRIX, locations)
    write_partition(interaction_scores(matrices, dt.date.fromisoformat(DAY), settings), CURATED_INTERACTION_SCORES, old)
    assert_same_rows(CURATED_INTERACTION_SCORES, folders["duckdb"]["interaction_scores"], old)


def test_a_step_without_input_partitions_writes_an_empty_output_on_both_engines(spark, tmp_path):
    step = REGISTRY["interaction_matrix"]
    inputs = {"cleaned_events": (CURATED_CLEANED_EVENTS, {}), "transactions": (RAW_TRANSACTIONS, {})}
    folders, metrics = run_both(spark, tmp_path, step, inputs)
    assert metrics["duckdb"]["interaction_matrix"] == metrics["spark"]["interaction_matrix"] == 0
    for engine in ("duckdb", "spark"):
        written = pq.read_table(folders[engine]["interaction_matrix"]).schema
        expected = CURATED_INTERACTION_MATRIX.arrow_schema()
        assert [(f.name, f.type) for f in written] == [(f.name, f.type) for f in expected], engine


def product(pid, master="Apparel", article="Tshirts", gender="Men", colour="Blue"):
    return {"product_id": pid, "name": pid, "gender": gender, "master_category": master, "sub_category": None,
            "article_type": article, "base_colour": colour, "season": None, "year": None, "usage": None,
            "price": Decimal("1.00")}


def test_daily_sales_same_rows_on_both_engines_and_as_the_pyspark_transform(spark, tmp_path):
    from recmart.transforms.io import read_partitions, write_partition
    from recmart.transforms.sales import daily_sales

    step = REGISTRY["daily_sales"]
    # Two orders of 10.01 in all: an average basket of 5.005, rounded half up to 5.01.
    orders = ORDERS + [order("o7", "u5", 1, "p9", 1, "5.00"), order("o8", "u5", 1, "p9", 1, "5.01")]
    catalogue = [product("p1"), product("p3", master=None), product("p4", article="Jeans", colour=None),
                 product("prod-é", master="Footwear", gender="Unisex")]  # p9 is missing: 'unknown'
    keys = step.inputs["catalogue"].keys(DAY, None)
    inputs = {
        "transactions": (RAW_TRANSACTIONS, {DAY: write(RAW_TRANSACTIONS, orders, tmp_path / "in" / "tx")}),
        "catalogue": (RAW_PRODUCTS, {keys[3]: write(RAW_PRODUCTS, catalogue, tmp_path / "in" / "cat")}),
    }
    folders, metrics = run_both(spark, tmp_path, step, inputs)
    assert_same_rows(CURATED_DAILY_SALES, folders["duckdb"]["daily_sales"], folders["spark"]["daily_sales"])
    assert metrics["duckdb"] == metrics["spark"]
    old = str(tmp_path / "pyspark")
    write_partition(daily_sales(read_partitions(spark, RAW_TRANSACTIONS, inputs["transactions"][1]),
                                read_partitions(spark, RAW_PRODUCTS, inputs["catalogue"][1]).drop("event_date")),
                    CURATED_DAILY_SALES, old)
    assert_same_rows(CURATED_DAILY_SALES, folders["duckdb"]["daily_sales"], old)
    import duckdb

    rows = dict(duckdb.sql(
        f"SELECT value, avg_basket FROM read_parquet('{folders['duckdb']['daily_sales']}/*.parquet') "
        "WHERE dimension = 'master_category'").fetchall())
    assert rows["unknown"] == Decimal("5.01")


@pytest.mark.parametrize("settings", [TrendSettings(), TrendSettings(baseline_days=2, top_n=2, prior=0.5)])
def test_trends_same_rows_on_both_engines_and_as_the_pyspark_transform(spark, tmp_path, settings):
    from recmart.transforms.io import read_partitions, write_partition
    from recmart.transforms.trends import fashion_trends, product_trends, trending_products

    step = REGISTRY["trends"]
    days = {
        "2026-11-20": [matrix_row("u1", "p1", "2026-11-20", views=9, carts=1),
                       matrix_row("u2", "p3", "2026-11-20", views=2), matrix_row("u2", "p4", "2026-11-20", views=2),
                       matrix_row("u3", "prod-é", "2026-11-20", views=1, purchases=1),
                       matrix_row("u3", "p9", "2026-11-20", views=3)],  # not in the catalogue
        "2026-11-19": [matrix_row("u1", "p1", "2026-11-19", views=1), matrix_row("u2", "p4", "2026-11-19", views=7)],
        "2026-11-17": [matrix_row("u1", "p3", "2026-11-17", views=4)],  # outside a 2-day baseline
    }
    catalogue = [product("p1"), product("p3", master=None), product("p4", article="Jeans", colour=None),
                 product("prod-é", master="Footwear", gender="Unisex")]
    keys = step.inputs["interaction_matrix"].keys(DAY, settings)
    assert len(keys) == settings.baseline_days + 1
    inputs = {
        "interaction_matrix": (CURATED_INTERACTION_MATRIX, {k: write(CURATED_INTERACTION_MATRIX, r, tmp_path / "in" / k)
                                                    for k, r in days.items() if k in keys}),
        "catalogue": (RAW_PRODUCTS, {DAY: write(RAW_PRODUCTS, catalogue, tmp_path / "in" / "cat")}),
    }
    folders, metrics = run_both(spark, tmp_path, step, inputs, settings)
    for name, table in step.outputs.items():
        assert assert_same_rows(table, folders["duckdb"][name], folders["spark"][name]) > 0
    assert metrics["duckdb"] == metrics["spark"]
    matrices = read_partitions(spark, CURATED_INTERACTION_MATRIX, inputs["interaction_matrix"][1])
    cat = read_partitions(spark, RAW_PRODUCTS, inputs["catalogue"][1]).drop("event_date")
    trends = product_trends(matrices, dt.date.fromisoformat(DAY), settings)
    for name, frame, table in (("trending_products", trending_products(trends, cat, settings), CURATED_TRENDING_PRODUCTS),
                               ("fashion_trends", fashion_trends(trends, cat, settings), CURATED_FASHION_TRENDS)):
        old = str(tmp_path / "pyspark" / name)
        write_partition(frame, table, old)
        assert_same_rows(table, folders["duckdb"][name], old)
