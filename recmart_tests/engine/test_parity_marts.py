"""The mart steps item_neighbours and recommendation_quality on DuckDB and on Spark, compared
row for row on hand-made inputs with the hard cases, each against the PySpark transform it
replaces, and a few figures computed by hand."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import duckdb
import pyarrow.parquet as pq
import pytest

from recmart.steps import REGISTRY
from recmart.steps.item_neighbours import NeighbourSettings
from recmart.steps.recommendation_quality import QualitySettings
from recmart.tables import (
    INTERACTION_MATRIX, INTERACTION_SCORES, ITEM_NEIGHBOURS, RAW_PRODUCTS, RECOMMENDATION_QUALITY, TRENDING_PRODUCTS,
)
from recmart_tests.engine.parity import assert_same_rows
from recmart_tests.engine.test_parity import DAY, matrix_row, product, run_both, t, write

DAY_BEFORE = (dt.date.fromisoformat(DAY) - dt.timedelta(days=1)).isoformat()


def score_row(user, product_id, score, purchases=0):
    return {"user_id": user, "product_id": product_id, "score": float(score), "views": 1, "add_to_carts": 0,
            "remove_from_carts": 0, "purchases": purchases, "units": purchases, "revenue": Decimal("0.00"),
            "active_days": 1, "last_event_time": t("2026-11-19T12:00:00")}


def rows_of(folder: str, sql: str = "SELECT * FROM t") -> list[tuple]:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{folder}/*.parquet')")
    return con.execute(sql).fetchall()


def _old_max_by_k_runs() -> bool:
    """The PySpark neighbours transform uses `max_by(.., k)`, which Spark 3.5 does not have."""
    import pyspark

    return int(pyspark.__version__.split(".")[0]) >= 4


# ---- item neighbours ----------------------------------------------------------------------------
SCORES = [
    # Cosine with shrinkage (the PySpark transform's own test): |A| = sqrt 5, |B| = sqrt 2, |C| = sqrt 10.
    score_row("u1", "A", 2), score_row("u1", "B", 1),
    score_row("u2", "A", 1), score_row("u2", "B", 1), score_row("u2", "C", 1),
    score_row("u3", "C", 3),
    score_row("u4", "A", -1), score_row("u4", "D", 1),  # a negative score takes no part; D alone has no pair
    score_row("u5", "A", 0), score_row("u5", "E", 5),  # a zero score takes no part either
    # Same score, different co-users (shrinkage 0): X-Z 2 / (2 * 2) = 0.5 through 2 users,
    # X-Y 1 / (2 * 1) = 0.5 through 1: Z ranks before Y though Y is the smaller id.
    score_row("v1", "X", 1), score_row("v1", "Y", 1),
    score_row("v2", "X", 1), score_row("v2", "Z", 1), score_row("v3", "X", 1), score_row("v3", "Z", 1),
    score_row("v4", "X", 1), score_row("v5", "Z", 1), score_row("v6", "Z", 1),
    # More than 3 products; with N = 3 the tie at score 3 goes to the smaller id: P5, P4, P2.
    score_row("bot", "P1", 1), score_row("bot", "P2", 3), score_row("bot", "P3", 3), score_row("bot", "P4", 4),
    score_row("bot", "P5", 5),
    # Non-ASCII ids, all scores equal: byte order a4 < b3 < é1 < é2; N = 3 keeps a4, b3, é1.
    score_row("ユーザー", "é2", 1), score_row("ユーザー", "é1", 1), score_row("ユーザー", "b3", 1),
    score_row("ユーザー", "a4", 1),
    score_row("ü", "é2", 1), score_row("ü", "Ω", 1),
]

NEIGHBOUR_SETTINGS = [
    NeighbourSettings(),
    NeighbourSettings(top_k=2, max_items_per_user=3, shrinkage=0, min_co_users=1),
    NeighbourSettings(top_k=3, max_items_per_user=3, shrinkage=2.5, min_co_users=2),
]


def _neighbours_inputs(tmp_path, rows):
    locations = {DAY: write(INTERACTION_SCORES, rows, tmp_path / "in" / "scores")} if rows is not None else {}
    return {"interaction_scores": (INTERACTION_SCORES, locations)}


@pytest.mark.parametrize("settings", NEIGHBOUR_SETTINGS, ids=["defaults", "top2-n3-noshrink", "min2-shrink2.5"])
def test_item_neighbours_same_rows_on_both_engines_and_as_the_pyspark_transform(spark, tmp_path, settings):
    step = REGISTRY["item_neighbours"]
    assert step.inputs["interaction_scores"].keys(DAY, settings) == [DAY]
    inputs = _neighbours_inputs(tmp_path, SCORES)
    folders, metrics = run_both(spark, tmp_path, step, inputs, settings)
    new = folders["duckdb"]["item_neighbours"]
    assert assert_same_rows(ITEM_NEIGHBOURS, new, folders["spark"]["item_neighbours"]) > 0
    assert metrics["duckdb"] == metrics["spark"]
    assert metrics["duckdb"]["products"] == {"products_with_scores": 18}

    if not _old_max_by_k_runs():
        return
    from recmart.transforms.io import read_partitions, write_partition
    from recmart.transforms.neighbours import item_neighbours, pair_counts, product_index, user_top_items

    scores = read_partitions(spark, INTERACTION_SCORES, inputs["interaction_scores"][1])
    old = str(tmp_path / "pyspark")
    write_partition(item_neighbours(scores, settings), ITEM_NEIGHBOURS, old)
    assert_same_rows(ITEM_NEIGHBOURS, new, old)
    counts = pair_counts(user_top_items(scores, settings, product_index(scores)), settings)
    assert metrics["duckdb"]["pairs"] == counts


def test_item_neighbours_by_hand(spark, tmp_path):
    step = REGISTRY["item_neighbours"]
    inputs = _neighbours_inputs(tmp_path, SCORES)
    runs = {}
    for name, settings in zip(("defaults", "n3", "min2"), NEIGHBOUR_SETTINGS):
        folders, metrics = run_both(spark, tmp_path / name, step, inputs, settings)
        got = {(r[0], r[1]): r[2:] for r in rows_of(folders["duckdb"]["item_neighbours"])}
        runs[name] = got, metrics["duckdb"]
    got, metrics = runs["defaults"]
    # sim(A, B) = (2*1 + 1*1) / (sqrt 5 * sqrt 2) * 2 / (2 + 20), over the users u1 and u2.
    rank, score, co = got["A", "B"]
    assert score == pytest.approx(3 / math.sqrt(10) * 2 / 22) and co == 2 and got["B", "A"][1] == score
    assert not any("D" in k or "E" in k for k in got)  # D and E have no partner with a positive score
    # With N = 50 every user item takes part: b3 and é1 tie exactly (by byte order), é2 has a larger norm.
    assert (got["a4", "b3"][0], got["a4", "é1"][0], got["a4", "é2"][0]) == (1, 2, 3)
    assert got["a4", "b3"][1] == got["a4", "é1"][1] == pytest.approx(1 / 21)
    assert metrics["pairs"]["candidate_pairs"] == 1 + 3 + 1 + 1 + 1 + 10 + 6 + 1

    got, metrics = runs["n3"]  # top 2, N = 3, no shrinkage
    assert (got["X", "Z"][:1], got["X", "Y"][:1]) == ((1,), (2,))  # equal 0.5, Z has more co-users
    assert got["X", "Z"][1] == got["X", "Y"][1] == 0.5 and (got["X", "Z"][2], got["X", "Y"][2]) == (2, 1)
    assert got["A", "B"][1] == pytest.approx(3 / math.sqrt(10))
    assert {p for p, _ in got if p.startswith("P")} == {"P2", "P4", "P5"}  # bot's best 3, tie to P2
    assert {k for k in got if k[0] == "a4"} == {("a4", "b3"), ("a4", "é1")}  # é2 fell outside N = 3
    assert (got["a4", "b3"][0], got["a4", "é1"][0]) == (1, 2)
    assert ("é2", "Ω") in got and ("é1", "é2") not in got
    assert all(r[0] <= 2 for r in got.values())
    # users with a positive score: u1-u5, v1-v6, bot, ユーザー, ü; kept: min(positive, 3) each.
    assert metrics["pairs"] == {"users": 14, "user_items_kept": 25, "max_items_of_a_user": 3,
                                "candidate_pairs": 14, "pair_bound": 25}
    assert metrics["neighbours"]["max_neighbours_of_a_product"] == 2

    got, _ = runs["min2"]  # only pairs seen through two users survive: A-B and X-Z
    assert set(got) == {("A", "B"), ("B", "A"), ("X", "Z"), ("Z", "X")}
    assert got["X", "Z"][1] == pytest.approx(2 / (2 * 2) * 2 / 4.5)


def test_item_neighbours_of_no_scores_are_empty_on_both_engines(spark, tmp_path):
    step = REGISTRY["item_neighbours"]
    for name, rows in (("no_partition", None), ("no_rows", []), ("no_positive", [score_row("u", "A", 0),
                                                                                    score_row("u", "B", -2)])):
        folders, metrics = run_both(spark, tmp_path / name, step, _neighbours_inputs(tmp_path / name, rows))
        assert metrics["duckdb"] == metrics["spark"]
        assert metrics["duckdb"]["item_neighbours"] == 0
        assert metrics["duckdb"]["pairs"] == {"users": 0, "user_items_kept": 0, "max_items_of_a_user": 0,
                                              "candidate_pairs": 0, "pair_bound": 0}
        for engine in ("duckdb", "spark"):
            written = pq.read_table(folders[engine]["item_neighbours"]).schema
            assert [(f.name, f.type) for f in written] == [
                (f.name, f.type) for f in ITEM_NEIGHBOURS.arrow_schema()], engine


# ---- recommendation quality ---------------------------------------------------------------------
def neighbour(p, n, rank, score, co=1):
    return {"product_id": p, "neighbour_id": n, "rank": rank, "score": score, "co_users": co}


def trend(scope, p, rank):
    return {"scope": scope, "product_id": p, "rank": rank, "trend_score": 2.0, "weighted_interactions": 4.0,
            "baseline": 1.0}


HEAVY = [f"P{k:02d}" for k in range(22)]
HISTORY = [
    score_row("u1", "A", 5.0), score_row("u1", "X", 10.0, purchases=1),  # X is bought: never recommended to u1
    score_row("u2", "B", 1.0), score_row("u2", "Z", 0.0), score_row("u2", "N", -1.0),  # Z, N: no seed, no vote
    score_row("ユーザー", "é", 2.0), score_row("ユーザー", "A", 1.0),
    score_row("neg", "N", -3.0),  # judged (a history), but seeds nothing
    # 22 products of equal score: the 20 seeds are the smaller ids P00..P19; P00 is bought.
    *[score_row("h", p, 1.0, purchases=1 if p == "P00" else 0) for p in HEAVY],
]
NEIGHBOURS = [
    neighbour("A", "C", 1, 0.9, 2), neighbour("A", "X", 2, 0.8, 2), neighbour("A", "D", 3, 0.5),
    neighbour("B", "E", 1, 0.7), neighbour("B", "F", 2, 0.6), neighbour("é", "C", 1, 0.45),
    neighbour("P20", "G", 1, 0.3),  # P20 is not among h's seeds
]
TRENDING = [trend("all", "F", 1), trend("all", "G", 2), trend("master_category=X", "H", 1)]
TARGETS = [matrix_row(u, p, DAY, views=1) for u, p in (
    ("u1", "C"), ("u2", "F"), ("u3", "A"),  # u3 is new: cold
    ("ユーザー", "C"), ("neg", "A"), ("h", "P18"),
)]
CATALOGUE = [product(p) for p in ("A", "B", "C", "D", "E", "F", "G", "H", "X", "Y", "é")]

QUALITY_SETTINGS = [QualitySettings(), QualitySettings(seed_items=1, global_list_slack=0)]


def _quality_inputs(tmp_path, empty=False):
    step = REGISTRY["recommendation_quality"]
    catalogue_keys = step.inputs["catalogue"].keys(DAY, None)
    assert DAY not in catalogue_keys and catalogue_keys[0] == DAY_BEFORE  # the snapshot of the day before
    for name in ("interaction_scores", "item_neighbours", "trending_products"):
        assert step.inputs[name].keys(DAY, None) == [DAY_BEFORE]
    if empty:
        return {name: (inp.table, {}) for name, inp in step.inputs.items()}
    folder = tmp_path / "in"
    return {
        "interaction_matrix": (INTERACTION_MATRIX, {DAY: write(INTERACTION_MATRIX, TARGETS, folder / "m")}),
        "interaction_scores": (INTERACTION_SCORES, {DAY_BEFORE: write(INTERACTION_SCORES, HISTORY, folder / "s")}),
        "item_neighbours": (ITEM_NEIGHBOURS, {DAY_BEFORE: write(ITEM_NEIGHBOURS, NEIGHBOURS, folder / "n")}),
        "trending_products": (TRENDING_PRODUCTS, {DAY_BEFORE: write(TRENDING_PRODUCTS, TRENDING, folder / "t")}),
        # The newest snapshot of the window (the engine is handed only that one).
        "catalogue": (RAW_PRODUCTS, {catalogue_keys[3]: write(RAW_PRODUCTS, CATALOGUE, folder / "c")}),
    }


def _old_quality(spark, inputs, settings, folder: str) -> str:
    from recmart.transforms.io import read_partitions, write_partition
    from recmart.transforms.quality import recommendation_quality

    def read(name):
        table, locations = inputs[name]
        return read_partitions(spark, table, locations).drop(table.partition_column)

    report = recommendation_quality(
        targets=read("interaction_matrix"), history=read("interaction_scores"), neighbours=read("item_neighbours"),
        trending=read("trending_products"), catalogue=read("catalogue"), settings=settings,
    )
    write_partition(report, RECOMMENDATION_QUALITY, folder, files=1)
    return folder


@pytest.mark.parametrize("settings", QUALITY_SETTINGS, ids=["defaults", "seed1-slack0"])
def test_recommendation_quality_same_rows_on_both_engines_and_as_the_pyspark_transform(spark, tmp_path, settings):
    step = REGISTRY["recommendation_quality"]
    inputs = _quality_inputs(tmp_path)
    folders, metrics = run_both(spark, tmp_path, step, inputs, settings)
    new = folders["duckdb"]["recommendation_quality"]
    assert assert_same_rows(RECOMMENDATION_QUALITY, new, folders["spark"]["recommendation_quality"]) == 3
    assert assert_same_rows(RECOMMENDATION_QUALITY, new,
                            _old_quality(spark, inputs, settings, str(tmp_path / "pyspark"))) == 3
    for name in ("item_neighbours", "trending", "popularity"):
        assert metrics["duckdb"][name] == pytest.approx(metrics["spark"][name], rel=1e-12), name


def test_recommendation_quality_by_hand(spark, tmp_path):
    step = REGISTRY["recommendation_quality"]
    inputs = _quality_inputs(tmp_path)
    report = {}
    for name, settings in zip(("defaults", "tight"), QUALITY_SETTINGS):
        folders, metrics = run_both(spark, tmp_path / name, step, inputs, settings)
        cols = RECOMMENDATION_QUALITY.column_names
        report[name] = {r[0]: dict(zip(cols, r)) for r in rows_of(folders["duckdb"]["recommendation_quality"])}
        report[name, "metrics"] = metrics["duckdb"]
    nb, tr, pop = (report["defaults"][r] for r in ("item_neighbours", "trending", "popularity"))
    # Judged: u1, u2, ユーザー, neg, h; u3 is cold.
    assert (nb["users"], nb["cold_users"], nb["catalogue_products"]) == (5, 1, 11)
    # u1: C 4.5, D 2.5 (X bought) -> hit at 1; u2: E, F -> hit at 2; ユーザー: C 2 x 0.45 + 0.9 = 1.8, X, D
    # -> hit at 1; neg and h: nothing.
    assert (nb["hits_at_10"], nb["hits_at_20"], nb["hr_at_20"]) == (3, 3, 0.6)
    assert nb["mrr_at_20"] == pytest.approx(2.5 / 5) and nb["avg_list_length"] == pytest.approx(7 / 5)
    assert (nb["recommended_products"], nb["coverage"]) == (5, pytest.approx(5 / 11))
    # Trending F, G for everyone: u2 hits F at 1.
    assert (tr["hits_at_20"], tr["hr_at_20"], tr["mrr_at_20"], tr["avg_list_length"]) == (1, 0.2, 0.2, 2.0)
    # Popularity: A (2 users), then B, P00..P21, X, é by id (N, Z have no positive score); everyone's top
    # 20 is A, B, P00..P17, but h's (P00 bought) is A, B, P01..P18: neg hits A at 1, h hits P18 at 20.
    assert (pop["hits_at_10"], pop["hits_at_20"], pop["avg_list_length"]) == (1, 2, 20.0)
    assert pop["mrr_at_20"] == pytest.approx((1 + 1 / 20) / 5) and pop["recommended_products"] == 21
    assert report["defaults", "metrics"]["popularity"]["hr_at_20"] == pytest.approx(0.4)

    nb, pop = report["tight"]["item_neighbours"], report["tight"]["popularity"]
    # One seed: u1's is X (no neighbours), h's P00 (none): u2 and ユーザー hit, at 2 and 1.
    assert (nb["hits_at_20"], nb["mrr_at_20"]) == (2, pytest.approx(1.5 / 5))
    # No slack: the global list is cut at 20 before h's purchase is removed, so h gets 19 and misses P18.
    assert (pop["hits_at_20"], pop["avg_list_length"], pop["recommended_products"]) == (1, (4 * 20 + 19) / 5, 20)


def test_recommendation_quality_of_empty_inputs_on_both_engines_and_as_the_pyspark_transform(spark, tmp_path):
    step = REGISTRY["recommendation_quality"]
    inputs = _quality_inputs(tmp_path, empty=True)
    folders, metrics = run_both(spark, tmp_path, step, inputs)
    new = folders["duckdb"]["recommendation_quality"]
    assert assert_same_rows(RECOMMENDATION_QUALITY, new, folders["spark"]["recommendation_quality"]) == 3
    assert_same_rows(RECOMMENDATION_QUALITY, new, _old_quality(spark, inputs, QualitySettings(),
                                                               str(tmp_path / "pyspark")))
    assert metrics["duckdb"] == metrics["spark"]
    # No judged user: the rates are null; no catalogue: the coverage too.
    assert rows_of(new, "SELECT DISTINCT users, cold_users, hits_at_20, hr_at_20, mrr_at_20, avg_list_length, "
                        "recommended_products, catalogue_products, coverage FROM t") == [
        (0, 0, 0, None, None, None, 0, 0, None)]
    assert metrics["duckdb"]["item_neighbours"] == {
        "users": 0, "cold_users": 0, "hr_at_10": None, "hr_at_20": None, "mrr_at_20": None, "coverage": None,
        "avg_list_length": None}
