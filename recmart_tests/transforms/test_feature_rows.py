"""The feature and mart transforms on tiny hand-made inputs whose right answers are known."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from recmart.tables import (
    CURATED_INTERACTION_MATRIX,
    CURATED_INTERACTION_SCORES,
    RAW_PRODUCTS,
    RAW_TRANSACTIONS,
)
from recmart.transforms.feature_rows import interaction_features, item_features, user_features
from recmart.transforms.neighbours import (
    NeighbourSettings,
    item_neighbours,
    neighbours_from_items,
    pair_counts,
    product_index,
    user_top_items,
)
from recmart.transforms.sales import daily_sales
from recmart.transforms.trends import (
    TrendSettings,
    fashion_trends,
    product_trends,
    trending_products,
)

D = dt.date(2026, 11, 20)


def day(offset: int) -> dt.date:
    return D + dt.timedelta(days=offset)


def scores_df(spark, rows):
    """rows: (user, product, score[, purchases])"""
    full = [
        (u, p, float(s), 0, 0, 0, rest[0] if rest else 0, 0, Decimal("0.00"), 1, dt.datetime(2026, 11, 20, 12))
        for u, p, s, *rest in rows
    ]
    return spark.createDataFrame(full, CURATED_INTERACTION_SCORES.spark_schema())


def matrix_df(spark, rows):
    """rows: (day offset, user, product, views, add_to_carts, purchases[, revenue])"""
    full = []
    for off, u, p, v, c, b, *rev in rows:
        t = dt.datetime.combine(day(off), dt.time(12))
        full.append((u, p, v, c, 0, b, b, Decimal(rev[0] if rev else "0.00"), t, t, day(off)))
    schema = CURATED_INTERACTION_MATRIX.spark_schema(with_partition=True)
    return spark.createDataFrame(full, schema)


def catalogue_df(spark, rows):
    """rows: (product, master_category, article_type, gender, base_colour)"""
    full = [(p, f"Product {p}", g, mc, "Sub", at, col, "Fall", 2024, "Casual", Decimal("19.99"))
            for p, mc, at, g, col in rows]
    return spark.createDataFrame(full, RAW_PRODUCTS.spark_schema())


# ---- item neighbours ----------------------------------------------------------------------------
def test_neighbours_are_cosine_of_co_interactions_with_shrinkage(spark):
    scores = scores_df(spark, [
        ("u1", "A", 2), ("u1", "B", 1),
        ("u2", "A", 1), ("u2", "B", 1), ("u2", "C", 1),
        ("u3", "C", 3),
        ("u4", "A", -1), ("u4", "D", 1),  # a negative score takes no part; D alone has no pair
    ])
    got = {(r.product_id, r.neighbour_id): r for r in item_neighbours(scores, NeighbourSettings(shrinkage=0)).collect()}
    assert set(got) == {("A", "B"), ("A", "C"), ("B", "A"), ("B", "C"), ("C", "A"), ("C", "B")}
    assert got["A", "B"].score == pytest.approx(3 / math.sqrt(5 * 2))
    assert got["A", "C"].score == pytest.approx(1 / math.sqrt(5 * 10))
    assert got["C", "B"].score == pytest.approx(1 / math.sqrt(2 * 10))
    assert (got["A", "B"].rank, got["A", "C"].rank, got["C", "B"].rank, got["C", "A"].rank) == (1, 2, 1, 2)
    assert (got["A", "B"].co_users, got["A", "C"].co_users) == (2, 1)

    shrunk = {(r.product_id, r.neighbour_id): r.score
              for r in item_neighbours(scores, NeighbourSettings(shrinkage=2)).collect()}
    assert shrunk["A", "B"] == pytest.approx(3 / math.sqrt(10) * 2 / 4)
    assert shrunk["A", "C"] == pytest.approx(1 / math.sqrt(50) / 3)


def test_top_k_keeps_the_best_neighbours(spark):
    scores = scores_df(spark, [("u1", "A", 1), ("u1", "B", 3), ("u1", "C", 2), ("u2", "A", 1), ("u2", "C", 1)])
    got = [(r.neighbour_id, r.rank) for r in item_neighbours(scores, NeighbourSettings(top_k=1, shrinkage=0)).collect()
           if r.product_id == "A"]
    assert got == [("C", 1)]


def test_a_heavy_user_contributes_only_their_best_items(spark):
    heavy = [("bot", f"P{k:02d}", float(k)) for k in range(1, 41)]  # 40 products, best: P40, P39, P38
    scores = scores_df(spark, heavy + [("u1", "P01", 1), ("u1", "P02", 1)])
    settings = NeighbourSettings(max_items_per_user=3, shrinkage=0)
    index = product_index(scores)
    items = user_top_items(scores, settings, index)
    counts = pair_counts(items, settings)
    # bot: 3 items -> 3 pairs; u1: 2 items -> 1 pair. The bound is (N-1)/2 per kept row.
    assert counts["candidate_pairs"] == 4 and counts["user_items_kept"] == 5 and counts["max_items_of_a_user"] == 3
    assert counts["candidate_pairs"] <= counts["pair_bound"] == 5
    pairs = {(r.product_id, r.neighbour_id) for r in neighbours_from_items(items, index, settings).collect()}
    assert {p for p, _ in pairs} == {"P38", "P39", "P40", "P01", "P02"}
    assert ("P01", "P02") in pairs and ("P40", "P38") in pairs and ("P01", "P40") not in pairs


# ---- trends -------------------------------------------------------------------------------------
def _trend_inputs(spark):
    matrices = matrix_df(spark, [
        (-2, "u1", "P1", 10, 0, 0), (-1, "u1", "P1", 10, 0, 0), (0, "u1", "P1", 30, 0, 0),  # 10/day -> 30
        (0, "u2", "P2", 2, 0, 0),  # 0 -> 2: tiny
        (-1, "u3", "P3", 40, 0, 0), (0, "u3", "P3", 5, 0, 0),  # falling
        (0, "u4", "P5", 0, 1, 0),  # one add-to-cart weighs 4
        (-9, "u5", "P1", 500, 0, 0),  # before the baseline: ignored
        (1, "u5", "P3", 900, 0, 0),  # after the day: ignored
    ])
    catalogue = catalogue_df(spark, [
        ("P1", "Apparel", "Tshirts", "Men", "Blue"), ("P2", "Footwear", "Heels", "Women", "Red"),
        ("P3", "Apparel", "Tshirts", "Men", "Blue"), ("P5", "Apparel", "Shirts", "Men", "Blue"),
    ])
    return matrices, catalogue


def test_trending_products_rise_against_their_baseline_and_tiny_counts_stay_low(spark):
    matrices, catalogue = _trend_inputs(spark)
    settings = TrendSettings(prior=10.0, baseline_days=7)
    trends = product_trends(matrices, D, settings)
    # Baseline days present: D-2 and D-1 (the mean is over days the store has).
    assert {r.product_id: (r.x, r.baseline) for r in trends.collect()} == {
        "P1": (30.0, 10.0), "P2": (2.0, 0.0), "P3": (5.0, 20.0), "P5": (4.0, 0.0),
    }
    rows = trending_products(trends, catalogue, settings).collect()
    by_scope = {}
    for r in sorted(rows, key=lambda r: (r.scope, r.rank)):
        by_scope.setdefault(r.scope, []).append((r.product_id, round(r.trend_score, 6)))
    assert by_scope == {
        "all": [("P1", 2.0), ("P5", 1.4), ("P2", 1.2)],
        "master_category=Apparel": [("P1", 2.0), ("P5", 1.4)],
        "master_category=Footwear": [("P2", 1.2)],
    }


def test_fashion_trends_sum_their_products(spark):
    matrices, catalogue = _trend_inputs(spark)
    settings = TrendSettings(attribute_prior=100.0)
    rows = fashion_trends(product_trends(matrices, D, settings), catalogue, settings).collect()
    colour = {(r.scope, r.value): r for r in rows if r.attribute == "base_colour"}
    blue = colour["all", "Blue"]
    assert (blue.weighted_interactions, blue.baseline, blue.products) == (39.0, 30.0, 3)
    assert blue.trend_score == pytest.approx(139 / 130) and blue.rank == 1
    assert colour["all", "Red"].trend_score == pytest.approx(1.02) and colour["all", "Red"].rank == 2
    assert ("master_category=Footwear", "Blue") not in colour
    assert {(r.attribute, r.value) for r in rows if r.scope == "master_category=Footwear"} == {
        ("article_type", "Heels"), ("base_colour", "Red"), ("season", "Fall"), ("gender", "Women"), ("usage", "Casual"),
    }


# ---- daily sales --------------------------------------------------------------------------------
def test_daily_sales_by_dimension(spark):
    t = dt.datetime(2026, 11, 20, 10)
    tx = spark.createDataFrame([
        ("o1", "u1", t, "paid", 1, "p1", 2, Decimal("10.00")),
        ("o1", "u1", t, "paid", 2, "p2", 1, Decimal("5.50")),
        ("o2", "u2", t, "cancelled", 1, "p1", 1, Decimal("10.00")),
        ("o3", None, t, "paid", 1, "p3", 1, Decimal("3.00")),  # a guest, a product not in the catalogue
        ("o4", "u1", t, "pending", None, None, None, None),  # an order without items
    ], RAW_TRANSACTIONS.spark_schema())
    catalogue = catalogue_df(spark, [("p1", "Apparel", "Tshirts", "Men", "Blue"),
                                     ("p2", "Footwear", "Heels", "Women", "Red")])
    got = {(r.dimension, r.value): r.asDict() for r in daily_sales(tx, catalogue).collect()}
    fields = ("orders", "units", "revenue", "buyers", "guest_orders", "products", "cancelled_orders", "avg_basket")
    pick = {k: tuple(v[f] for f in fields) for k, v in got.items()}
    assert pick["all", "all"] == (2, 4, Decimal("28.50"), 1, 1, 3, 1, Decimal("14.25"))
    assert pick["master_category", "Apparel"] == (1, 2, Decimal("20.00"), 1, 0, 1, 1, Decimal("20.00"))
    assert pick["master_category", "Footwear"] == (1, 1, Decimal("5.50"), 1, 0, 1, 0, Decimal("5.50"))
    assert pick["master_category", "unknown"] == (1, 1, Decimal("3.00"), 0, 1, 1, 0, Decimal("3.00"))
    assert pick["gender", "Men"][:3] == (1, 2, Decimal("20.00"))
    for dim in ("master_category", "article_type", "gender", "base_colour"):
        assert sum(v["revenue"] for (d, _), v in got.items() if d == dim) == Decimal("28.50")
    assert {d for d, _ in got} == {"all", "master_category", "article_type", "gender", "base_colour"}


# ---- features -----------------------------------------------------------------------------------
FEATURE_ROWS = [
    (0, "u1", "p1", 2, 1, 1, "10.00"),
    (-3, "u1", "p2", 5, 0, 0),
    (-10, "u1", "p1", 1, 0, 0),
    (-29, "u2", "p2", 1, 0, 0),  # the window's first day
    (-30, "u2", "p3", 7, 0, 0),  # the day before the window
    (-30, "u3", "p1", 1, 0, 0),  # only before the window: no user row
    (0, "u5", "p9", 1, 0, 0),  # a product missing from the catalogue
]
LATER_ROWS = [(1, "u1", "p2", 100, 3, 2, "99.00"), (1, "u4", "p1", 1, 0, 0), (2, "u2", "p1", 3, 0, 1, "5.00")]


def _feature_inputs(spark, later: bool):
    matrices = matrix_df(spark, FEATURE_ROWS + (LATER_ROWS if later else []))
    catalogue = catalogue_df(spark, [("p1", "Apparel", "Tshirts", "Men", "Blue"),
                                     ("p2", "Footwear", "Heels", "Women", "Red"),
                                     ("p3", "Apparel", "Shirts", "Men", "White")])
    scores = scores_df(spark, [("u1", "p1", 12.0), ("u1", "p2", 3.0), ("u2", "p2", 0.1), ("u5", "p9", 1.0)])
    return matrices, catalogue, scores


def _all_rows(spark, later: bool):
    m, c, s = _feature_inputs(spark, later)
    return (
        {r.user_id: r.asDict() for r in user_features(m, c, D).collect()},
        {r.product_id: r.asDict() for r in item_features(m, c, D).collect()},
        {r.record_id: r.asDict() for r in interaction_features(m, s, D).collect()},
    )


def test_user_features_count_the_window(spark):
    users, _, _ = _all_rows(spark, later=False)
    assert set(users) == {"u1", "u2", "u5"}
    u1 = users["u1"]
    assert (u1["views_1d"], u1["views_7d"], u1["views_30d"]) == (2, 7, 8)
    assert (u1["add_to_carts_1d"], u1["purchases_1d"], u1["purchases_30d"], u1["units_30d"]) == (1, 1, 1, 1)
    assert (u1["revenue_7d"], u1["revenue_30d"]) == (Decimal("10.00"), Decimal("10.00"))
    assert (u1["distinct_products_7d"], u1["distinct_products_30d"], u1["active_days_30d"]) == (2, 2, 3)
    assert (u1["days_since_last_purchase"], u1["days_since_last_event"]) == (0, 0)
    # p1: 2+1 views + 4 (cart) + 10 (purchase) = 17 against p2's 5.
    assert (u1["favourite_master_category"], u1["favourite_article_type"], u1["favourite_colour"]) == (
        "Apparel", "Tshirts", "Blue")
    u2 = users["u2"]
    assert (u2["views_30d"], u2["days_since_last_event"], u2["days_since_last_purchase"]) == (1, 29, None)
    assert u2["favourite_colour"] == "Red"
    assert users["u5"]["favourite_master_category"] is None  # p9 is not in the catalogue
    assert all(u["event_time"] == dt.datetime(2026, 11, 21) for u in users.values())


def test_item_and_interaction_features(spark):
    _, items, pairs = _all_rows(spark, later=False)
    assert set(items) == {"p1", "p2", "p3", "p9"}
    p1 = items["p1"]
    assert (p1["views_1d"], p1["views_30d"], p1["users_30d"], p1["purchases_30d"], p1["in_catalogue"]) == (2, 3, 1, 1, 1)
    assert p1["cart_rate_30d"] == pytest.approx(1 / 3) and p1["buyer_share_30d"] == 1.0
    assert (items["p3"]["views_30d"], items["p3"]["cart_rate_30d"], items["p3"]["trend_score"]) == (0, None, 1.0)
    assert (items["p9"]["in_catalogue"], items["p9"]["master_category"]) == (0, None)
    assert items["p2"]["article_type"] == "Heels" and items["p2"]["price"] == Decimal("19.99")
    # p1 on D: 2 views + 1 cart (4) + 1 purchase (10) = 16 against an empty baseline; prior 10.
    assert p1["trend_score"] == pytest.approx((16 + 10) / 10)

    assert set(pairs) == {"u1#p1", "u1#p2", "u2#p2", "u5#p9"}
    a = pairs["u1#p1"]
    assert (a["views_1d"], a["views_7d"], a["views_30d"], a["active_days_30d"], a["days_since_last_interaction"]) == (
        2, 2, 3, 2, 0)
    assert (a["score"], a["score_rank"], pairs["u1#p2"]["score_rank"]) == (12.0, 1, 2)
    assert (a["user_id"], a["product_id"], a["revenue_30d"]) == ("u1", "p1", Decimal("10.00"))


def test_feature_rows_of_a_day_ignore_later_data(spark):
    assert _all_rows(spark, later=True) == _all_rows(spark, later=False)
