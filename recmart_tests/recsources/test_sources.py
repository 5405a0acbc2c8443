"""The candidate-source tables and the serving-time blend, on sessions small enough to work out by hand."""

from __future__ import annotations

import math

import pytest

from recmart.recsources.blend import BlendSettings, blend, seeds
from recmart.recsources.tables import (
    completed,
    popularity,
    sequential_rules,
    session_neighbours,
    sessions_from_clicks,
)

DAY = 86400.0


def sessions(*lists, end=0.0):
    """Sessions s0, s1, ... with their clicks one second apart, the last ending at `end`."""
    out = {}
    for k, items in enumerate(lists):
        out[f"s{k}"] = [(item, end - len(items) + 1 + t) for t, item in enumerate(items)]
    return out


def test_sessions_from_clicks_orders_by_time_and_keeps_ties_in_input_order():
    clicks = [("1", "b", 20.0), ("2", "x", 5.0), ("1", "a", 10.0), ("1", "c", 20.0)]
    assert sessions_from_clicks(clicks) == {"1": [("a", 10.0), ("b", 20.0), ("c", 20.0)], "2": [("x", 5.0)]}


def test_sequential_rules_weigh_by_distance_and_divide_by_the_item_clicks():
    table = sequential_rules(sessions(["a", "b", "c"], ["a", "c"]), steps=2, power=1.0, row_power=1.0)
    # a: b at distance 1 (1), c at 2 (1/2) and at 1 in s1 (1); a has two clicks with a successor
    assert table == {"a": [("c", 0.75), ("b", 0.5)], "b": [("c", 1.0)]}


def test_sequential_rules_skip_repeats_cut_at_steps_and_row_power():
    table = sequential_rules(sessions(["a", "a", "b", "c"]), steps=2, power=2.0, row_power=0.5)
    # a (twice): a->b at 2 (1/4) and 1 (1), a->c at 2 from the second a (1/4); c is 3 from the first a
    assert table["a"] == [("b", pytest.approx(1.25 / math.sqrt(2))), ("c", pytest.approx(0.25 / math.sqrt(2)))]
    assert "a" not in dict(table["a"])


def test_sequential_rules_half_life_weighs_older_sessions_less():
    older = {"old": [("a", 0.0), ("b", 1.0)]}
    newer = {"new": [("a", DAY), ("c", DAY + 1.0)]}
    table = sequential_rules({**older, **newer}, steps=1, half_life_days=1.0)
    # old ends (at 1 s) a day before the newest click (a day and 1 s): weight 1/2; a's clicks
    # with a successor weigh 1 + 1/2
    assert table["a"] == [("c", pytest.approx(1 / 1.5)), ("b", pytest.approx(0.5 / 1.5))]


def test_session_neighbours_count_each_item_once_per_session():
    log = sessions(["a", "b", "c"], ["a", "b", "a"])
    table = session_neighbours(log, power=1.0, damping=0.0, row_power=1.0)
    # pairs by distance among distinct items: s0 a-b 1, a-c 1/2, b-c 1; s1 (a, b) a-b 1
    # sessions with a 2, b 2, c 1
    assert table["a"] == [("b", 1.0), ("c", 0.25)]
    assert table["b"] == [("a", 1.0), ("c", 0.5)]
    assert table["c"] == [("b", 1.0), ("a", 0.5)]


def test_session_neighbours_damping_length_and_cut():
    log = sessions(["a", "b", "c"], ["a", "b"])
    damped = session_neighbours(log, power=1.0, damping=1.0, row_power=1.0)
    assert damped["c"] == [("b", 0.5), ("a", 0.25)]  # b: 1 / 2 sessions of b; a: 1/2 / 2
    by_length = session_neighbours(log, power=0.0, damping=0.0, length_power=1.0, row_power=1.0, max_neighbours=1)
    assert by_length["a"] == [("b", pytest.approx((1 / 3 + 1 / 2) / 2))]
    assert by_length["c"] == [("a", pytest.approx(1 / 3))]  # a and b tie: the cut keeps the smaller id


def test_completed_fills_short_rows_with_neighbours_of_neighbours():
    table = {"a": [("b", 1.0)], "b": [("c", 0.5), ("a", 0.4), ("d", 0.2)], "c": [("e", 1.0)]}
    full = completed(table, discount=0.5, fan_out=1, max_neighbours=3)
    # a reaches c through b (0.5 x 1.0 x 0.5); b's other neighbours are a itself or lie past
    # its best 2 x fan_out (d); c's only neighbour e has no row, so c reaches nothing
    assert full["a"] == [("b", 1.0), ("c", 0.25)]
    assert full["b"] == table["b"]  # already full
    assert full["c"] == [("e", 1.0)]
    assert completed(table, discount=0.0) == table


def test_popularity_shares_and_ties():
    assert popularity(sessions(["b", "a"], ["a", "c"]), n=2) == [("a", 0.5), ("b", 0.25)]


TABLES = {
    "sr": {"c": [("x", 1.0), ("y", 0.5)], "b": [("y", 1.0), ("c", 1.0)]},
    "sn": {"c": [("z", 0.8)]},
}
POPULAR = [("c", 0.4), ("p", 0.3), ("x", 0.2), ("q", 0.1)]


def test_blend_by_source_weight_and_recency_in_events_never_the_current_product():
    settings = BlendSettings(top_n=5, window=10, half_life_events=1.0, harmonic_power=0.0,
                             weights={"sr": 1.0, "sn": 0.5})
    # c (newest) weighs 1: x 1, y 0.5, z 0.5 x 0.8; b (one event back) weighs 0.5: y + 0.5, c (current) dropped;
    # x and y tie at 1.0 (by id); then popularity fills below: half the last score (0.2) over 1, 2, ...: p 0.2, q 0.1 (c and x taken)
    expected = [("x", 1.0), ("y", 1.0), ("z", pytest.approx(0.4)), ("p", pytest.approx(0.2)), ("q", pytest.approx(0.1))]
    assert blend(["b", "c"], TABLES, POPULAR, settings) == expected
    # a product seen again counts once, at its newest position; the older clicks of it do not add
    assert blend(["c", "b", "c"], TABLES, POPULAR, settings) == expected


def test_blend_window_harmonic_decay_and_weights():
    only_newest = BlendSettings(top_n=2, window=1, weights={"sr": 1.0, "sn": 0.5})
    assert BlendSettings().harmonic_power > 0  # the halving and the harmonic term multiply:
    both = BlendSettings(top_n=2, half_life_events=1.0, harmonic_power=1.0, weights={"sr": 1.0})
    assert blend(["b", "c"], TABLES, POPULAR, both) == [("x", 1.0), ("y", 0.5 + 0.5 / 2)]
    assert blend(["b", "c"], TABLES, POPULAR, only_newest) == [("x", 1.0), ("y", 0.5)]
    harmonic = BlendSettings(top_n=3, half_life_events=math.inf, harmonic_power=2.0, weights={"sr": 1.0})
    # b is one event back: 1 / 2**2 of its row: y 0.5 + 0.25
    assert blend(["b", "c"], TABLES, POPULAR, harmonic) == [("x", 1.0), ("y", 0.75), ("p", 0.375)]
    assert blend(["b", "c"], TABLES, POPULAR, BlendSettings(top_n=1, weights={"sn": 1.0})) == [("z", 0.8)]


def test_blend_without_history_or_rows_is_popularity():
    assert blend([], TABLES, POPULAR, BlendSettings(top_n=2)) == [("c", 0.4), ("p", 0.3)]
    assert [p for p, _ in blend(["unknown"], TABLES, POPULAR, BlendSettings(top_n=3))] == ["c", "p", "x"]


def test_seeds_are_distinct_products_with_events_back():
    assert seeds(["a", "b", "a", "c"], BlendSettings(window=3)) == [("c", 0), ("a", 1), ("b", 2)]
    assert seeds(["a", "b", "a", "c"], BlendSettings(window=2)) == [("c", 0), ("a", 1)]
