"""The contract every RecommendationStore keeps: run against SQLite and against DynamoDB (moto)."""

from __future__ import annotations

import pytest

from recmart.realtime.history import HistoryEvent, Purchase, UserHistory
from recmart.realtime.loader import load_snapshot
from recmart.realtime.store import HistoryConflict, LoadInProgress, ProductInfo
from recmart.realtime.store.base import Snapshot

from .factories import neighbour_rows, product_rows, trending_rows


def _recs(user_id: str, updated_at: str, items=(("P1", 2.0, "similar_to:P0"),)) -> dict:
    return {"user_id": user_id, "items": [{"product_id": p, "score": s, "reason": r} for p, s, r in items],
            "model_version": "rt-neighbours-1+v1", "updated_at": updated_at, "ttl": 1_800_000_000}


def _event(n: int, product: str = "P1") -> HistoryEvent:
    return HistoryEvent(f"e{n}", "view", product, 1_700_000_000_000_000 + n)


# ---- an empty store ---------------------------------------------------------------------------

def test_an_empty_store_has_no_snapshot_history_or_recommendations(store):
    assert store.current_snapshot() is None
    assert store.get_neighbours(["P1"]) == {}
    assert store.get_products(["P1"]) == {}
    assert store.get_recommendations("nobody") is None
    assert store.get_history("nobody") == UserHistory("nobody")
    assert store.get_history("nobody").revision == 0


# ---- snapshots --------------------------------------------------------------------------------

def test_a_loaded_snapshot_is_read_back_in_one_batch_of_many_keys(store):
    stats = load_snapshot(store, neighbour_rows(250, 3), trending_rows("all", ["P3", "P1", "P2"]), "v1",
                          products=product_rows(250))
    assert stats["generation"] == 1 and stats["items_added"] == 250 and not stats["noop"]
    snapshot = store.current_snapshot()
    assert (snapshot.generation, snapshot.version) == (1, "v1")

    items = store.get_items([f"P{i}" for i in range(250)] + ["unknown"], snapshot)
    assert len(items) == 250 and "unknown" not in items
    assert items["P7"].neighbours == (("P8", 1.0), ("P9", 0.5), ("P10", 0.333333))
    assert (items["P7"].name, items["P7"].category) == ("Product 7", "Footwear")
    assert store.get_neighbours(["P249"]) == {"P249": (("P0", 1.0), ("P1", 0.5), ("P2", 0.333333))}
    assert store.get_trending(["all", "master_category=none"], snapshot) == {
        "all": (("P3", 100.0), ("P1", 99.0), ("P2", 98.0))}
    assert store.get_products(["P0"])["P0"].name == "Product 0"


def test_loading_the_same_snapshot_again_writes_nothing(store):
    rows, trend = neighbour_rows(30, 5), trending_rows("all", ["P1"])
    load_snapshot(store, rows, trend, "v1", products=product_rows(30))
    again = load_snapshot(store, rows, trend, "v1", products=product_rows(30))
    assert again["noop"] and again["item_writes"] == 0 and again["trending_writes"] == 0
    assert again["items_unchanged"] == 30 and store.current_snapshot().generation == 1


def test_a_new_version_writes_only_what_changed_and_old_readers_keep_theirs(store):
    load_snapshot(store, neighbour_rows(30, 5), trending_rows("all", ["P1"]), "v1", products=product_rows(30))
    old = store.current_snapshot()
    changed = [r for r in neighbour_rows(30, 5) if r["product_id"] not in ("P0", "P29")]
    changed += [{"product_id": "P0", "neighbour_id": "P20", "rank": 1, "score": 0.9}]
    stats = load_snapshot(store, changed, trending_rows("all", ["P1"]), "v2")  # products=None: keep names
    assert (stats["items_updated"], stats["items_removed"], stats["items_added"]) == (2, 0, 0)
    assert stats["item_writes"] == 2 and stats["trending_writes"] == 0
    new = store.current_snapshot()
    assert (new.generation, new.version) == (2, "v2")
    # A reader that cached the previous pointer still reads the whole previous generation.
    assert store.get_items(["P0"], old)["P0"].neighbours[0] == ("P1", 1.0)
    assert store.get_items(["P0"], new)["P0"].neighbours == (("P20", 0.9),)
    assert store.get_items(["P29"], new)["P29"].neighbours == ()
    assert store.get_items(["P29"], new)["P29"].name == "Product 29"  # names carried over


def test_removed_keys_vanish_for_new_readers_and_are_collected_later(store):
    load_snapshot(store, neighbour_rows(5, 2), trending_rows("master_category=Shoes", ["P1"]), "v1")
    v1 = store.current_snapshot()
    stats = load_snapshot(store, [r for r in neighbour_rows(5, 2) if r["product_id"] != "P4"], [], "v2")
    assert stats["items_removed"] == 1
    v2 = store.current_snapshot()
    assert "P4" not in store.get_items(["P4"], v2) and "P4" in store.get_items(["P4"], v1)
    assert store.get_trending(["master_category=Shoes"], v2) == {}
    assert store.get_trending(["master_category=Shoes"], v1) != {}
    load_snapshot(store, [r for r in neighbour_rows(5, 2) if r["product_id"] != "P4"], [], "v3")
    assert "P4" not in store._read_all_slots("items")  # nobody can see the tombstone any more
    assert store._read_all_slots("trending") == {}


def test_a_load_that_dies_before_the_switch_is_invisible_and_repaired_by_the_next(store, monkeypatch):
    load_snapshot(store, neighbour_rows(10, 2), [], "v1")
    v1 = store.current_snapshot()

    def crash(*_):
        raise RuntimeError("loader died before switching the pointer")

    half = [{"product_id": "P1", "neighbour_id": "P5", "rank": 1, "score": 0.5}] + \
        [r for r in neighbour_rows(10, 2) if r["product_id"] not in ("P1",)]
    with monkeypatch.context() as m:
        m.setattr(type(store), "_switch_snapshot", crash)
        with pytest.raises(RuntimeError):
            load_snapshot(store, half, [], "v2")
    assert store.current_snapshot() == v1
    assert store.get_items(["P1"], v1)["P1"].neighbours[0] == ("P2", 1.0)  # readers never saw it

    # The retried load brings different content: readers of v2 must see exactly that.
    load_snapshot(store, neighbour_rows(10, 2), [], "v2")
    v2 = store.current_snapshot()
    assert v2.generation == 2
    assert store.get_items(["P1"], v2)["P1"].neighbours[0] == ("P2", 1.0)


def test_only_one_load_at_a_time(store):
    store._acquire_load_lock("someone-else")
    with pytest.raises(LoadInProgress):
        load_snapshot(store, neighbour_rows(3, 1), [], "v1")
    store._release_load_lock("someone-else")
    assert load_snapshot(store, neighbour_rows(3, 1), [], "v1")["generation"] == 1


def test_products_without_neighbours_are_kept_for_names_and_categories(store):
    store.load_snapshot({}, {}, "v1", products={"P9": ProductInfo("Blue shirt", "Apparel")})
    item = store.get_products(["P9"])["P9"]
    assert (item.name, item.category, item.neighbours) == ("Blue shirt", "Apparel", ())


# ---- histories --------------------------------------------------------------------------------

def test_history_is_deduplicated_by_event_id_and_guarded_by_revision(store):
    first = store.append_history("u1", [_event(1), _event(2)])
    assert first.revision == 1 and [e.event_id for e in first.events] == ["e1", "e2"]
    again = store.append_history("u1", [_event(2), _event(1)])  # a replay changes nothing
    assert again.revision == 1 and again.events == first.events

    stale = store.get_history("u1")
    store.save_history(UserHistory("u1", stale.events + (_event(3),), (), stale.revision), ttl=1)
    with pytest.raises(HistoryConflict):  # a second writer with the same stale revision loses
        store.save_history(UserHistory("u1", stale.events + (_event(4),), (), stale.revision), ttl=1)
    with pytest.raises(HistoryConflict):  # and so does a writer who thinks the user is new
        store.save_history(UserHistory("u1", (_event(5),), (), 0), ttl=1)
    merged = store.append_history("u1", [_event(4)])  # read-merge-write keeps both
    assert [e.event_id for e in merged.events] == ["e1", "e2", "e3", "e4"]


def test_histories_of_many_users_are_read_in_one_call(store):
    for n in range(3):
        store.append_history(f"u{n}", [_event(n)])
    got = store.get_histories([f"u{n}" for n in range(150)])
    assert len(got) == 150
    assert got["u2"].events == (_event(2),) and got["u149"] == UserHistory("u149")


def test_purchases_are_recorded_in_the_history(store):
    store.append_history("u1", [_event(1)])
    history = store.record_purchases("u1", [Purchase("o1", "P7", 1_700_000_000_000_100)])
    assert history.purchases == (Purchase("o1", "P7", 1_700_000_000_000_100),)
    assert store.get_history("u1").events == (_event(1),)


# ---- recommendations --------------------------------------------------------------------------

def test_recommendations_round_trip_exactly(store):
    recs = _recs("u1", "2026-11-20T10:00:00.000000Z",
                 (("P1", 2.5, "similar_to:P0"), ("P2", 0.125, "trending:all")))
    assert store.put_recommendations(recs)
    assert store.get_recommendations("u1") == recs
    assert store.put_recommendations(recs)  # the same item again: same state
    assert store.get_recommendations("u1") == recs


def test_older_recommendations_never_replace_newer_ones(store):
    newer = _recs("u1", "2026-11-20T10:00:00.000001Z", (("P9", 1.0, "similar_to:P8"),))
    older = _recs("u1", "2026-11-20T10:00:00.000000Z")
    assert store.put_recommendations(newer)
    assert not store.put_recommendations(older)
    assert store.get_recommendations("u1") == newer


def test_snapshot_pointer_is_a_snapshot(store):
    load_snapshot(store, [], trending_rows("all", ["P1"]), "2026-11-20")
    snap = store.current_snapshot()
    assert isinstance(snap, Snapshot) and snap.version == "2026-11-20" and snap.loaded_at.endswith("Z")


def test_writes_in_a_write_batch_are_there_after_it(store):
    with store.write_batch():
        store.save_history(UserHistory("u1", (_event(1),)), ttl=1)
        store.put_recommendations(_recs("u1", "2026-11-20T10:00:00.000000Z"))
    assert store.get_history("u1").events == (_event(1),)
    assert store.get_recommendations("u1")["user_id"] == "u1"


def test_a_sqlite_write_batch_that_fails_leaves_nothing(sqlite_store):
    with pytest.raises(RuntimeError):
        with sqlite_store.write_batch():
            sqlite_store.save_history(UserHistory("u1", (_event(1),)), ttl=1)
            raise RuntimeError("the handler died mid-batch")
    assert sqlite_store.get_history("u1").revision == 0
