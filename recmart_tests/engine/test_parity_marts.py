"""The mart step item_neighbours on DuckDB and on Spark, compared
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
from recmart.tables import (
    CURATED_INTERACTION_SCORES,
    CURATED_ITEM_NEIGHBOURS,
)
from recmart_tests.engine.parity import assert_same_rows
from recmart_tests.engine.test_parity import DAY, run_both, t, write

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
    locations = {DAY: write(CURATED_INTERACTION_SCORES, rows, tmp_path / "in" / "scores")} if rows is not None else {}
    return {"interaction_scores": (CURATED_INTERACTION_SCORES, locations)}


@pytest.mark.parametrize("settings", NEIGHBOUR_SETTINGS, ids=["defaults", "top2-n3-noshrink", "min2-shrink2.5"])
def test_item_neighbours_same_rows_on_both_engines_and_as_the_pyspark_transform(spark, tmp_path, settings):
    step = REGISTRY["item_neighbours"]
    assert step.inputs["interaction_scores"].keys(DAY, settings) == [DAY]
    inputs = _neighbours_inputs(tmp_path, SCORES)
    folders, metrics = run_both(spark, tmp_path, step, inputs, settings)
    new = folders["duckdb"]["item_neighbours"]
    assert assert_same_rows(CURATED_ITEM_NEIGHBOURS, new, folders["spark"]["item_neighbours"]) > 0
    assert metrics["duckdb"] == metrics["spark"]
    assert metrics["duckdb"]["products"] == {"products_with_scores": 18}

    if not _old_max_by_k_runs():
        return
    from recmart.transforms.io import read_partitions, write_partition
    from recmart.transforms.neighbours import (
        item_neighbours,
        pair_counts,
        product_index,
        user_top_items,
    )

    scores = read_partitions(spark, CURATED_INTERACTION_SCORES, inputs["interaction_scores"][1])
    old = str(tmp_path / "pyspark")
    write_partition(item_neighbours(scores, settings), CURATED_ITEM_NEIGHBOURS, old)
    assert_same_rows(CURATED_ITEM_NEIGHBOURS, new, old)
    counts = pair_counts(user_top_items(scores, settings, product_index(scores)), settings)
    assert metrics["duckdb"]["pairs"] == counts


def test_item_neighbours_by_hand(spark, tmp_path):
    step = REGISTRY["item_neighbours"]
    inputs = _neighbours_inputs(tmp_path, SCORES)
    runs = {}
    for name, settings in zip(("defaults", "n3", "min2"), NEIGHBOUR_SETTINGS, strict=True):
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
                (f.name, f.type) for f in CURATED_ITEM_NEIGHBOURS.arrow_schema()], engine

# recommendation_quality is no longer a SQL step: it replays the day through the real-time
# scorer in Python (recmart.steps.recommendation_quality), so it has no parity case here; its
# tests are recmart_tests/evaluation/test_quality_report.py.
