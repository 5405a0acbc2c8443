"""The protocol's figures on hand-made sessions, against answers worked out by hand."""

from __future__ import annotations

import math

import pytest

from recmart.evaluation.protocol import evaluate, training_popularity


def fixed(ranking):
    return lambda history, n: ranking[:n]


def by_scope(results, name):
    return {r.scope: r for r in results if r.recommender == name}


TRAIN = {"t1": ["x", "y", "x"], "t2": ["y", "z"], "t3": ["y"]}  # clicks: x 2, y 3, z 1


def test_hit_rate_mrr_and_ndcg_on_both_scopes():
    test = {"a": ["x", "y", "x"], "b": ["z", "z"]}
    r = by_scope(evaluate(TRAIN, test, {"fixed": fixed(["y", "x", "z"])}), "fixed")
    # all: a1 -> y at rank 1, a2 -> x at rank 2, b1 -> z at rank 3
    assert r["all"].positions == 3
    assert r["all"].hr_at_10 == r["all"].hr_at_20 == 1.0
    assert r["all"].mrr_at_20 == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    assert r["all"].ndcg_at_20 == pytest.approx((1 + 1 / math.log2(3) + 1 / math.log2(4)) / 3)
    # next is another product: b1 repeats z and drops out; the current product leaves each
    # list, so a1 (current x) ranks y first of [y, z] and a2 (current y) ranks x first of [x, z]
    assert r["next_is_other"].positions == 2
    assert r["next_is_other"].mrr_at_20 == 1.0
    assert r["next_is_other"].ndcg_at_20 == 1.0


def test_cutoffs_and_the_slot_the_current_product_frees():
    ranking = ["c"] + [f"p{k}" for k in range(20)]  # 21 items: p9 ranks 11th, p19 ranks 21st
    test = {"s1": ["c", "p9"], "s2": ["c", "p19"]}
    r = by_scope(evaluate(TRAIN, test, {"fixed": fixed(ranking)}), "fixed")
    # all: p9 at 11 is a hit at 20 but not at 10; p19 at 21 is past the cutoff
    assert r["all"].hr_at_10 == 0.0
    assert r["all"].hr_at_20 == 0.5
    assert r["all"].mrr_at_20 == pytest.approx((1 / 11) / 2)
    assert r["all"].ndcg_at_20 == pytest.approx((1 / math.log2(12)) / 2)
    # without the current product c, p9 ranks 10th and p19 20th: both hits, p9 within 10
    assert r["next_is_other"].hr_at_10 == 0.5
    assert r["next_is_other"].hr_at_20 == 1.0
    assert r["next_is_other"].mrr_at_20 == pytest.approx((1 / 10 + 1 / 20) / 2)


def test_coverage_and_popularity_bias():
    assert training_popularity(TRAIN) == {"x": 2 / 3, "y": 1.0, "z": 1 / 3}
    test = {"a": ["x", "y", "z"]}
    lists = {("x",): ["y", "x"], ("x", "y"): ["z", "q"]}  # q never clicked in training: popularity 0
    r = by_scope(evaluate(TRAIN, test, {"h": lambda history, n: lists[tuple(history)][:n]}), "h")
    # shown: y, x, z, q; the catalogue is what training clicked: x, y, z
    assert r["all"].coverage == pytest.approx(4 / 3)
    assert r["all"].popularity_bias == pytest.approx(((1.0 + 2 / 3) / 2 + (1 / 3 + 0.0) / 2) / 2)
    # current product removed: [y] after x, [z, q] after y
    assert r["next_is_other"].coverage == pytest.approx(3 / 3)
    assert r["next_is_other"].popularity_bias == pytest.approx((1.0 + (1 / 3) / 2) / 2)


def test_recommender_sees_the_session_so_far_and_is_asked_for_one_spare():
    calls = []

    def spy(history, n):
        calls.append((list(history), n))
        return []

    r = by_scope(evaluate(TRAIN, {"a": ["x", "y", "z"], "single": ["y"]}, {"spy": spy}), "spy")
    assert calls == [(["x"], 21), (["x", "y"], 21)]  # a one-click session has no next click
    assert r["all"].positions == 2 and r["all"].hr_at_20 == 0.0 and r["all"].popularity_bias == 0.0


def test_nothing_to_judge_is_zero_positions():
    r = by_scope(evaluate(TRAIN, {"single": ["x"]}, {"f": fixed(["x"])}), "f")
    assert r["all"].positions == 0 and r["next_is_other"].positions == 0
