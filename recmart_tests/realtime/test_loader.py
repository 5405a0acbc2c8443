"""Loading snapshots: rows grouped, capped and checked before they reach the store."""

from __future__ import annotations

import pytest

from recmart.realtime.loader import group_neighbours, group_trending, load_snapshot

from .factories import trending_rows


def test_rows_are_grouped_best_first_capped_and_cleaned():
    rows = [{"product_id": "A", "neighbour_id": "C", "rank": 2, "score": 0.5},
            {"product_id": "A", "neighbour_id": "B", "rank": 1, "score": 0.9},
            {"product_id": "A", "neighbour_id": "A", "rank": 1, "score": 1.0},  # itself: dropped
            {"product_id": "A", "neighbour_id": "C", "rank": 5, "score": 0.1},  # duplicate: best rank wins
            {"product_id": "A", "neighbour_id": "D", "rank": 3, "score": 0.2}]
    assert group_neighbours(rows, limit=2) == {"A": [("B", 0.9), ("C", 0.5)]}
    assert group_trending(trending_rows("all", ["X", "Y"])) == {"all": [("X", 100.0), ("Y", 99.0)]}
    with pytest.raises(ValueError, match="item_neighbours row without neighbour_id"):
        group_neighbours([{"product_id": "A", "rank": 1, "score": 1.0}])


def test_load_snapshot_needs_a_version(sqlite_store):
    with pytest.raises(ValueError, match="version"):
        load_snapshot(sqlite_store, [], [], "")


# ---- the session sources, pre-blended (rt-sessions-3) -----------------------------------------

import json  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402

from recmart.evaluation.recommenders import recommenders, snapshot_items  # noqa: E402
from recmart.realtime.history import HistoryEvent, UserHistory  # noqa: E402
from recmart.realtime.loader import SOURCE_WEIGHTS, blend_sources  # noqa: E402
from recmart.realtime.scoring import ScoringSettings, recommend  # noqa: E402
from recmart.realtime.store.base import ItemInfo  # noqa: E402

SOURCES = {"sequential_rules": {"A": [("B", 0.5), ("C", 0.25), ("D", 0.125)], "E": [("A", 0.3)]},
           "session_neighbours": {"A": [("C", 0.2), ("X", 0.1), ("B", 0.025)], "F": [("G", 0.1234567)]}}


def test_each_product_gets_one_row_over_the_union_of_its_sources_rows():
    assert SOURCE_WEIGHTS == ScoringSettings().source_weights == (("sequential_rules", 1.0), ("session_neighbours", 4.0))
    blends = blend_sources(SOURCES)
    # A: C 0.25 + 4 x 0.2, B 0.5 + 4 x 0.025, X 4 x 0.1, D 0.125: best first, nothing cut.
    assert blends["A"] == (("C", 1.05), ("B", 0.6), ("X", 0.4), ("D", 0.125))
    assert blends["E"] == (("A", 0.3),)
    # The scores the store kept per source (six significant digits), then the sum.
    assert blends["F"] == (("G", 4 * 0.123457),)
    # A source of weight 0 is left out; ties by product id.
    assert blend_sources({"s": {"A": [("Z", 0.5), ("Y", 0.5)]}, "t": {"A": [("W", 9.0)]}}, (("s", 1.0), ("t", 0.0))) == {
        "A": (("Y", 0.5), ("Z", 0.5))}


@pytest.mark.parametrize("store_name", ["sqlite_store", "dynamodb_store"])
def test_the_store_holds_one_blended_row_per_product_and_a_reload_writes_nothing(store_name, request):
    store = request.getfixturevalue(store_name)
    rows = [{"product_id": "A", "neighbour_id": "N", "rank": 1, "score": 1.0},
            {"product_id": "H", "neighbour_id": "A", "rank": 1, "score": 0.7}]
    stats = load_snapshot(store, rows, [], "v1", sources=SOURCES)
    assert stats["source_rows"] == 8 and stats["blend_rows"] == 6 and stats["item_writes"] == 4  # A, E, F, H
    items = store.get_items(["A", "E", "F", "H"], store.current_snapshot())
    assert items["A"].blend == blend_sources(SOURCES)["A"] and items["A"].sources == {}
    assert items["A"].neighbours == (("N", 1.0),)
    assert items["H"].blend == () and items["H"].neighbours == (("A", 0.7),)
    again = load_snapshot(store, rows, [], "v1", sources=SOURCES)
    assert again["noop"] and again["item_writes"] == 0
    # The same rows under a new version: the records are unchanged, only the pointer moves.
    assert load_snapshot(store, rows, [], "v2", sources=SOURCES)["item_writes"] == 0


def test_a_store_of_the_layout_before_is_still_served_and_rewritten_once(sqlite_store):
    rows = [{"product_id": "A", "neighbour_id": "N", "rank": 1, "score": 1.0}]
    load_snapshot(sqlite_store, rows, [], "v1", sources=SOURCES, preblend=False)
    old = sqlite_store.get_items(["A"], sqlite_store.current_snapshot())["A"]
    assert old.blend == () and set(old.sources) == {"sequential_rules", "session_neighbours"}
    history = UserHistory("u", (HistoryEvent("e1", "view", "A", 1_800_000_000_000_000),))
    served_before = recommend(history, {"A": old}, {})
    assert load_snapshot(sqlite_store, rows, [], "v2", sources=SOURCES)["item_writes"] == 3
    new = sqlite_store.get_items(["A"], sqlite_store.current_snapshot())["A"]
    assert recommend(history, {"A": new}, {}) == served_before  # blended as it is read, the same way
    assert load_snapshot(sqlite_store, rows, [], "v2", sources=SOURCES)["noop"]


def test_the_blend_serves_the_sums_of_the_separate_rows_up_to_float_order():
    rng = random.Random(5)
    products = [f"P{i}" for i in range(200)]
    tables = {name: {pid: [(n, round(rng.random(), 6)) for n in rng.sample(products, 100) if n != pid]
                     for pid in products if rng.random() < 0.8}
              for name in ("sequential_rules", "session_neighbours")}
    blends = blend_sources(tables)
    separate = {pid: ItemInfo(pid, sources={s: tuple(t[pid]) for s, t in tables.items() if pid in t}) for pid in products}
    blended = {pid: ItemInfo(pid, blend=blends[pid]) for pid in products if pid in blends}
    for _ in range(200):
        events = tuple(HistoryEvent(f"e{i}", "view", rng.choice(products), 1_800_000_000_000_000 + i * 30_000_000)
                       for i in range(rng.choice([1, 3, 10, 30])))
        history = UserHistory("u", events)
        a, b = recommend(history, separate, {}), recommend(history, blended, {})
        assert len(a) == len(b)
        assert all(math.isclose(x["score"], y["score"], rel_tol=1e-12) for x, y in zip(a, b, strict=True))


def test_the_evaluation_judges_the_rows_the_store_holds(sqlite_store):
    load_snapshot(sqlite_store, [], [], "v1", sources=SOURCES)
    stored = sqlite_store.get_items(["A", "E", "F"], sqlite_store.current_snapshot())
    items = snapshot_items(SOURCES)
    assert {pid: items[pid].blend for pid in stored} == {pid: item.blend for pid, item in stored.items()}
    # The separate rows stay with the evaluation's items (never stored): each source is judged alone.
    assert items["A"].sources["session_neighbours"] == (("C", 0.2), ("X", 0.1), ("B", 0.025))
    judged = recommenders(items, {}, [("P", 0.3)])
    history = [HistoryEvent("e1", "view", "A", 1_800_000_000_000_000)]
    assert judged["served_blend"](history, 3) == ["C", "B", "X"]
    assert judged["session_neighbours"](history, 3) == ["C", "X", "B"]
    assert judged["sequential_rules"](history, 3) == ["B", "C", "D"]
    # Other weights (a tuning run) blend as the loader would at them.
    tuned = recommenders(items, {}, [], ScoringSettings(source_weights=(("sequential_rules", 1.0), ("session_neighbours", 0.5))))
    assert tuned["served_blend"](history, 2) == ["B", "C"]
    doc = sqlite_store._query("SELECT d1 FROM items WHERE product_id = 'A'")[0][0]
    assert "b" in json.loads(doc) and "s" not in json.loads(doc)


def test_a_source_judged_alone_is_blended_as_the_loader_would_store_it_alone():
    from recmart.evaluation.recommenders import _Blended

    items = snapshot_items(SOURCES)
    for source in SOURCES:
        alone = _Blended(items, ((source, 1.0),))
        assert set(alone) == set(items) and len(alone) == len(items) and "A" in alone and "nope" not in alone
        assert alone.get("nope") is None
        for pid, item in items.items():  # each read gives the blend of that source alone, and the same object again
            assert alone[pid].blend == blend_sources({source: SOURCES[source]}, ((source, 1.0),)).get(pid, ())
            assert alone[pid] is alone[pid] and alone[pid].sources == item.sources


def test_the_recommenders_share_a_merged_history_only_for_the_same_history():
    items = snapshot_items(SOURCES)
    judged = recommenders(items, {}, [("P", 0.3)])
    first = [HistoryEvent("e1", "view", "A", 1_800_000_000_000_000)]
    second = [HistoryEvent("e2", "view", "E", 1_800_000_000_000_000)]
    assert judged["served_blend"](first, 3) == ["C", "B", "X"]
    assert judged["sequential_rules"](second, 3) == ["A", "P"]  # another history: merged anew, not the last
    assert judged["served_blend"](first, 3) == ["C", "B", "X"]
