"""The fast candidate-source tables give the very same tables as the plain reference
(bench/quality/tables_before.py): same rows in the same order, same neighbours in the same
order, every score equal to the last bit (==, and the same float repr), on random sessions."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

from recmart.recsources import tables as fast

REFERENCE = Path(__file__).resolve().parents[2] / "bench" / "quality" / "tables_before.py"


@pytest.fixture(scope="module")
def ref():
    spec = importlib.util.spec_from_file_location("recmart_tables_before", REFERENCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["recmart_tables_before"] = module
    spec.loader.exec_module(module)
    return module


def random_clicks(seed: int) -> list[tuple[str, str, float]]:
    """Clicks of sessions of varied lengths (some longer than any window), few or many items
    (so ties and repeats within a session are common), equal times within and across sessions."""
    rng = random.Random(seed)
    items = rng.choice([2, 5, 30, 400])
    clicks = []
    for s in range(rng.randint(0, 250)):
        length = rng.choice([1, 1, 2, 2, 3, 4, 6, 9, 15, 40, 70])
        t = float(rng.randint(0, 20)) * 86400.0 * rng.random()
        for _ in range(length):
            clicks.append((f"s{s % 180}", f"i{int(items * rng.random() ** 2)}", t))
            t += rng.choice([0.0, 1.0, 30.0, 0.5])
    rng.shuffle(clicks)
    return clicks


def run(fn, *args):
    """fn(*args), or the name of the error it raises (a half-life of minutes weighs old
    sessions 0.0, and the plain form then divides by zero)."""
    try:
        return fn(*args)
    except ZeroDivisionError as exc:
        return f"ZeroDivisionError: {exc}"


def same(x, y) -> bool:
    """Equal, order of keys and lists included, every float the same bits."""
    if isinstance(x, dict):
        return list(x) == list(y) and all(same(x[k], y[k]) for k in x)
    return x == y and repr(x) == repr(y)


SEEDS = range(12)
HALF_LIVES = [None, 3.0, 0.01]


@pytest.mark.parametrize("seed", SEEDS)
def test_sessions_from_clicks_and_popularity(ref, seed):
    clicks = random_clicks(seed)
    sessions = fast.sessions_from_clicks(clicks)
    assert same(sessions, ref.sessions_from_clicks(clicks))
    for n in (0, 1, 3, 100, 10_000):
        assert same(fast.popularity(sessions, n), ref.popularity(sessions, n))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("half_life", HALF_LIVES)
def test_sequential_rules(ref, seed, half_life):
    sessions = ref.sessions_from_clicks(random_clicks(seed))
    for steps, power, row_power, k in [(5, 1.0, 0.5, 100), (10, 0.5, 1.0, 3), (1, 2, 1, 1), (0, 1.0, 1.0, 5),
                                       (80, 0.3, 0.0, 0), (3, 1.5, 0.7, 10_000)]:
        args = (sessions, steps, power, row_power, half_life, k)
        assert same(run(fast.sequential_rules, *args), run(ref.sequential_rules, *args)), args[1:]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("half_life", HALF_LIVES)
def test_session_neighbours(ref, seed, half_life):
    sessions = ref.sessions_from_clicks(random_clicks(seed))
    for window, power, damping, length_power, row_power, k in [
            (50, 0.5, 0.1, 0.0, 0.5, 100), (5, 1.0, 0.5, 1.0, 1.0, 3), (3, 0.3, 0.0, 0.5, 0.7, 1),
            (50, 2, 1.0, 0.0, 1, 10_000), (60, 0.5, 0.5, 0.0, 0.0, 0), (1, 0.5, 0.5, 0.0, 0.5, 10)]:
        args = (sessions, window, power, damping, length_power, row_power, half_life, k)
        assert same(run(fast.session_neighbours, *args), run(ref.session_neighbours, *args)), args[1:]


@pytest.mark.parametrize("seed", SEEDS)
def test_completed(ref, seed):
    sessions = ref.sessions_from_clicks(random_clicks(seed))
    for table in (ref.sequential_rules(sessions, 5, 1.0, 0.5, 3.0, 100),
                  ref.session_neighbours(sessions, 50, 0.5, 0.1, 0.0, 0.5, None, 8)):
        for discount, fan_out, k in [(0.3, 10, 100), (0.5, 2, 8), (0.0, 10, 100), (0.3, 1, 3), (1.0, 0, 5)]:
            assert same(fast.completed(table, discount, fan_out, k), ref.completed(table, discount, fan_out, k))


def test_empty_and_single_click_sessions(ref):
    for sessions in ({}, {"s": []}, {"s": [("a", 1.0)]}, {"s": [("a", 1.0), ("a", 2.0)]},
                     {"s": [("a", 1.0)], "t": [("b", 1.0), ("a", 5.0)]}):
        assert same(fast.sequential_rules(sessions, 5), ref.sequential_rules(sessions, 5))
        assert same(fast.session_neighbours(sessions), ref.session_neighbours(sessions))
        assert same(fast.popularity(sessions), ref.popularity(sessions))


@pytest.mark.parametrize("seed", SEEDS)
def test_completed_on_random_tables(ref, seed):
    """Rows of any length, neighbours without a row of their own, tied scores, and scores so
    small that discount x s1 x s2 is 0.0 (kept, as the plain form keeps them)."""
    rng = random.Random(seed)
    items = [f"i{k}" for k in range(rng.choice([3, 20, 200]))]
    values = [1.0, 0.5, 0.25, 1e-200, 3e-170, 0.1, 0.3]
    table = {}
    for item in rng.sample(items, k=len(items) // 2 + 1):
        others = [x for x in items + ["x1", "x2"] if x != item]
        row = rng.sample(others, k=rng.randint(0, min(len(others), 30)))
        table[item] = sorted(((nb, rng.choice(values)) for nb in row), key=lambda kv: (-kv[1], kv[0]))
    for discount, fan_out, k in [(0.3, 10, 100), (0.5, 2, 8), (0.3, 1, 3), (1.0, 0, 5), (0.3, -2, 12), (2, 3, 1),
                                 (-1.0, 10, 100)]:
        assert same(fast.completed(table, discount, fan_out, k), ref.completed(table, discount, fan_out, k))
