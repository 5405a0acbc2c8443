"""The feature_rows step on DuckDB and on Spark, row for row, and against the PySpark
transform it replaces (`recmart.transforms.feature_rows`), on hand-made inputs with the hard
cases: a window with a missing day, days outside it on both sides, non-ASCII and empty ids,
ties broken by byte order, a product absent from the catalogue, catalogue snapshots of
which the newest up to the day must win."""

from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from recmart.steps import REGISTRY
from recmart.steps.feature_rows import WINDOW_DAYS, FeatureSettings
from recmart.tables import CURATED_INTERACTION_MATRIX, CURATED_INTERACTION_SCORES, RAW_PRODUCTS
from recmart_tests.engine.parity import assert_same_rows
from recmart_tests.engine.test_parity import DAY, matrix_row, product, run_both, t, write

STEP = REGISTRY["feature_rows"]
D = dt.date.fromisoformat(DAY)


def k(offset: int) -> str:
    """The partition key `offset` days from the day (negative: before)."""
    return (D + dt.timedelta(days=offset)).isoformat()


def score_row(user, product_id, score):
    return {"user_id": user, "product_id": product_id, "score": score, "views": 1, "add_to_carts": 0,
            "remove_from_carts": 0, "purchases": 0, "units": 0, "revenue": Decimal("0.00"), "active_days": 1,
            "last_event_time": t(f"{DAY}T02:00:00")}


# Matrix partitions by day offset. D-1, D-2, D-4 ... have none (a missing day in the window).
MATRICES = {
    0: [matrix_row("u1", "p1", k(0), views=2, carts=1, purchases=1, units=1, revenue="10.00"),
        matrix_row("ユーザー", "prod-é", k(0), views=1),  # non-ASCII ids
        matrix_row("u5", "p9", k(0), views=1),  # p9 is not in the newest catalogue
        matrix_row("u6", "p1", k(0), removes=2),  # no weight: no favourite
        matrix_row("", "p1", k(0), views=1),  # an empty user id: record id '#p1'
        # A tie of weights between colours: the smaller value in byte order wins ('Z' < 'É').
        matrix_row("ut", "tA", k(0), views=2), matrix_row("ut", "tB", k(0), views=2)],
    -3: [matrix_row("u1", "p2", k(-3), views=5)],
    -5: [matrix_row("u7", "p2", k(-5), views=3)],
    -10: [matrix_row("u1", "p1", k(-10), views=1)],
    -(WINDOW_DAYS - 1): [matrix_row("u2", "p2", k(-(WINDOW_DAYS - 1)), views=1)],  # the window's first day
    -WINDOW_DAYS: [matrix_row("u2", "p3", k(-WINDOW_DAYS), views=7),  # the day before the window
                   matrix_row("u3", "p1", k(-WINDOW_DAYS), views=1)],  # only before it: no user row
    1: [matrix_row("u1", "p2", k(1), views=100, carts=3, purchases=2, units=2, revenue="99.00"),  # after D
        matrix_row("u4", "p1", k(1), views=1)],
}
CATALOGUE = [product("p1"), product("p2", master="Footwear", article="Heels", gender="Women", colour="Red"),
             product("p3", article="Shirts", colour="White"), product("tA", colour="Zinc"),
             product("tB", colour="Écru"), product("prod-é", master="Footwear", gender="Unisex"),
             product("pn", master=None, article=None, gender=None, colour=None)]  # every attribute null
SNAPSHOTS = {
    k(-1): CATALOGUE,  # the newest up to D: the one used
    k(-4): [product("p1", master="Old"), product("p9")],  # older: p9 was in it, p1 otherwise
    k(1): [product("p1", master="Future"), product("p9")],  # after D: never used
}
SCORES = {
    k(0): [score_row("u1", "p1", 12.0), score_row("u1", "p2", 3.0),
           score_row("u1", "pX", 50.0),  # not in the window: no row, but it ranks first
           score_row("ユーザー", "prod-é", 1.0), score_row("ユーザー", "prod-z", 1.0),  # a tie: 'z' < 'é'
           score_row("u5", "p9", 0.5)],
    k(-1): [score_row("u2", "p2", 99.0)],  # another day's scores: ignored
}

CUSTOM = FeatureSettings(baseline_days=2, prior=0.5, view_weight=2.0, add_to_cart_weight=0.0, purchase_weight=3.0)


def _inputs(tmp_path: Path) -> dict:
    inp = tmp_path / "in"
    return {
        "interaction_matrix": (CURATED_INTERACTION_MATRIX, {k(o): write(CURATED_INTERACTION_MATRIX, rows, inp / "im" / k(o))
                                                    for o, rows in MATRICES.items()}),
        "interaction_scores": (CURATED_INTERACTION_SCORES, {key: write(CURATED_INTERACTION_SCORES, rows, inp / "sc" / key)
                                                    for key, rows in SCORES.items()}),
        "catalogue": (RAW_PRODUCTS, {key: write(RAW_PRODUCTS, rows, inp / "cat" / key)
                                     for key, rows in SNAPSHOTS.items()}),
    }


def _old_transform(spark, inputs: dict, folder: Path, settings: FeatureSettings) -> dict[str, str]:
    """The PySpark transform as the old job ran it: the window's matrices, the day's scores and
    the newest catalogue snapshot up to the day (what `catalogue_location` picked)."""
    from recmart.transforms.feature_rows import (
        interaction_features,
        item_features,
        user_features,
        window_rows,
    )
    from recmart.transforms.io import read_partitions, write_partition
    from recmart.transforms.trends import TrendSettings

    trend = TrendSettings(baseline_days=settings.baseline_days, prior=settings.prior,
                          view_weight=settings.view_weight, add_to_cart_weight=settings.add_to_cart_weight,
                          purchase_weight=settings.purchase_weight)
    window = window_rows(read_partitions(spark, CURATED_INTERACTION_MATRIX, inputs["interaction_matrix"][1]), D).drop("age")
    scores = read_partitions(spark, CURATED_INTERACTION_SCORES, {DAY: inputs["interaction_scores"][1][DAY]}).drop("event_date")
    newest = k(-1)
    catalogue = read_partitions(spark, RAW_PRODUCTS, {newest: inputs["catalogue"][1][newest]}).drop("event_date")
    frames = {
        "user_features": user_features(window, catalogue, D, trend),
        "item_features": item_features(window, catalogue, D, trend),
        "interaction_features": interaction_features(window, scores, D),
    }
    out = {}
    for name, frame in frames.items():
        out[name] = str(folder / name)
        write_partition(frame, STEP.outputs[name], out[name])
    return out


def rows_by(folder: str, key: str) -> dict:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cur = con.execute(f"SELECT * FROM read_parquet('{folder}/*.parquet')")
    names = [d[0] for d in cur.description]
    return {r[names.index(key)]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


@pytest.mark.parametrize("settings", [FeatureSettings(), CUSTOM], ids=["defaults", "custom"])
def test_feature_rows_same_rows_on_both_engines_and_as_the_pyspark_transform(spark, tmp_path, settings):
    inputs = _inputs(tmp_path)
    folders, metrics = run_both(spark, tmp_path, STEP, inputs, settings)
    old = _old_transform(spark, inputs, tmp_path / "pyspark", settings)
    counts = {}
    for name, table in STEP.outputs.items():
        counts[name] = assert_same_rows(table, folders["duckdb"][name], folders["spark"][name])
        assert assert_same_rows(table, folders["duckdb"][name], old[name]) == counts[name]
    # Users of the window; catalogue products and those of the window; pairs of the window.
    assert counts == {"user_features": 8, "item_features": 8, "interaction_features": 10}
    assert metrics["duckdb"] == metrics["spark"] == counts


def test_feature_rows_by_hand(spark, tmp_path):
    folders, _ = run_both(spark, tmp_path, STEP, _inputs(tmp_path))
    users = rows_by(folders["duckdb"]["user_features"], "user_id")
    items = rows_by(folders["duckdb"]["item_features"], "product_id")
    pairs = rows_by(folders["duckdb"]["interaction_features"], "record_id")
    end = dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)

    assert set(users) == {"u1", "u2", "u5", "u6", "u7", "ut", "", "ユーザー"}  # not u3 (before), not u4 (after)
    u1 = users["u1"]
    assert (u1["views_1d"], u1["views_7d"], u1["views_30d"], u1["active_days_30d"]) == (2, 7, 8, 3)
    assert (u1["purchases_30d"], u1["revenue_7d"], u1["revenue_30d"]) == (1, Decimal("10.00"), Decimal("10.00"))
    assert (u1["days_since_last_purchase"], u1["days_since_last_event"]) == (0, 0)
    # p1 weighs 3 views + 4 (cart) + 10 (purchase) = 17 against p2's 5; the newest catalogue's values.
    assert (u1["favourite_master_category"], u1["favourite_article_type"], u1["favourite_colour"]) == (
        "Apparel", "Tshirts", "Blue")
    assert (users["u2"]["views_30d"], users["u2"]["days_since_last_event"],
            users["u2"]["days_since_last_purchase"], users["u2"]["favourite_colour"]) == (1, WINDOW_DAYS - 1, None, "Red")
    assert users["u5"]["favourite_master_category"] is None  # p9: only in an older and a later snapshot
    assert users["u6"]["favourite_colour"] is None and users["u6"]["views_30d"] == 0
    assert users["ut"]["favourite_colour"] == "Zinc"  # tie: 'Z' (0x5A) before 'É' (0xC3)
    assert all(u["event_time"] == end for u in users.values())

    assert set(items) == {"p1", "p2", "p3", "p9", "tA", "tB", "prod-é", "pn"}
    p1 = items["p1"]
    assert (p1["views_30d"], p1["users_30d"], p1["in_catalogue"], p1["master_category"]) == (4, 3, 1, "Apparel")
    assert (p1["cart_rate_30d"], p1["purchase_rate_30d"]) == (0.25, 0.25)
    assert p1["buyer_share_30d"] == pytest.approx(1 / 3)
    # Baseline days present: D-3 and D-5 (D-1, D-2, D-4, D-6, D-7 have no matrix).
    assert p1["trend_score"] == pytest.approx((17 + 10) / (0 / 2 + 10))  # on D: 16 (u1) + 1 ('') + 0 (u6)
    assert items["p2"]["trend_score"] == pytest.approx((0 + 10) / (8 / 2 + 10))
    p3 = items["p3"]
    assert (p3["views_30d"], p3["cart_rate_30d"], p3["trend_score"], p3["in_catalogue"]) == (0, None, 1.0, 1)
    assert (items["p9"]["in_catalogue"], items["p9"]["master_category"], items["p9"]["price"]) == (0, None, None)
    assert items["pn"]["in_catalogue"] == 1 and items["pn"]["revenue_30d"] == Decimal("0.00")

    assert set(pairs) == {"u1#p1", "u1#p2", "u2#p2", "u5#p9", "u6#p1", "ut#tA", "ut#tB", "#p1",
                          "ユーザー#prod-é", "u7#p2"}
    a = pairs["u1#p1"]
    assert (a["views_1d"], a["views_7d"], a["views_30d"], a["active_days_30d"], a["days_since_last_interaction"]) == (
        2, 2, 3, 2, 0)
    # Ranks among all the user's scores of the day: pX (not in the window) is first.
    assert (a["score"], a["score_rank"], pairs["u1#p2"]["score_rank"]) == (12.0, 2, 3)
    assert pairs["ユーザー#prod-é"]["score_rank"] == 2  # tie with prod-z: 'z' before 'é'
    assert pairs["u2#p2"]["score"] is None  # the scores of D-1 are not read
    assert (pairs["#p1"]["user_id"], pairs["#p1"]["product_id"], pairs["#p1"]["score"]) == ("", "p1", None)


def test_feature_rows_without_inputs_are_empty_with_their_schemas(spark, tmp_path):
    inputs = {name: (inp.table, {}) for name, inp in STEP.inputs.items()}
    folders, metrics = run_both(spark, tmp_path, STEP, inputs)
    assert metrics["duckdb"] == metrics["spark"] == {name: 0 for name in STEP.outputs}
    import pyarrow.parquet as pq

    for engine in ("duckdb", "spark"):
        for name, table in STEP.outputs.items():
            written = pq.read_table(folders[engine][name]).schema
            assert [(f.name, f.type) for f in written] == [(f.name, f.type) for f in table.arrow_schema()]


def test_feature_rows_inputs_and_settings():
    keys = STEP.inputs["interaction_matrix"].keys(DAY, STEP.default_settings())
    assert (len(keys), keys[0], keys[-1]) == (WINDOW_DAYS, DAY, k(-(WINDOW_DAYS - 1)))
    assert STEP.inputs["interaction_scores"].keys(DAY, None) == [DAY]
    assert STEP.inputs["catalogue"].newest_only and STEP.inputs["catalogue"].table is RAW_PRODUCTS
    # The defaults are those of the trends (the item trend score is trending_products').
    from recmart.transforms.trends import TrendSettings

    trend = TrendSettings()
    assert {f: getattr(trend, f) for f in FeatureSettings.__dataclass_fields__} == vars(FeatureSettings())
    with pytest.raises(ValueError, match="baseline_days"):
        FeatureSettings(baseline_days=WINDOW_DAYS)


def test_the_step_module_imports_no_pyspark():
    import recmart.steps.feature_rows as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m and (m.startswith("pyspark") or m.startswith("recmart.transforms"))}
    # The old names stay importable from the PySpark transform.
    from recmart.transforms import feature_rows

    assert feature_rows.WINDOW_DAYS == WINDOW_DAYS and feature_rows.HORIZONS == (1, 7, 30)
