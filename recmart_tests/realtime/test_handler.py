"""The Kinesis handler: validation, per-user refresh, idempotency, failures and dead letters."""

from __future__ import annotations

import gc
import json
import time

import pytest

from recmart.realtime import handler as handler_module
from recmart.realtime.config import HandlerConfig
from recmart.realtime.dead_letters import DeadLetterError, MemoryDeadLetters
from recmart.realtime.handler import Handler
from recmart.realtime.history import Purchase
from recmart.realtime.kinesis import Shard, batch_event, records_from
from recmart.realtime.loader import load_snapshot
from recmart.realtime.refresh import record_purchases
from recmart.realtime.store import StoreError
from recmart.realtime.timeutil import canonical, parse_iso_with_zone

from .factories import at, click, kinesis_batch, neighbour_rows, product_rows, trending_rows

N = 60  # products P0..P59, each with neighbours P(i+1)..P(i+25)


@pytest.fixture
def loaded(sqlite_store):
    load_snapshot(sqlite_store, neighbour_rows(N, 25),
                  trending_rows("all", [f"P{i}" for i in range(50, 60)])
                  + trending_rows("master_category=Footwear", ["P41", "P43", "P45"]),
                  "2026-11-19", products=product_rows(N))
    return sqlite_store


def make_handler(store, **config) -> tuple[Handler, MemoryDeadLetters]:
    letters = MemoryDeadLetters()
    return Handler(store, letters, HandlerConfig(**config)), letters


def without_ttl(recs: dict, *also: str) -> dict:
    """A stored item but for `ttl` (which never lets a write be born expired: it reads the wall clock)."""
    return {k: v for k, v in recs.items() if k not in ("ttl", *also)}


def product_ids(recs: dict) -> list[str]:
    return [i["product_id"] for i in recs["items"]]


def test_a_click_refreshes_the_users_top_20_best_first(loaded):
    handler, _ = make_handler(loaded)
    event, _ = kinesis_batch([click("e1", "P0", event_time=at(0)), click("e2", "P10", event_time=at(5))])
    assert handler(event, None) == {"batchItemFailures": []}

    recs = loaded.get_recommendations("u1")
    assert set(recs) == {"user_id", "items", "model_version", "updated_at", "ttl", "history_revision",
                         "snapshot_generation"}
    assert len(recs["items"]) == 20
    scores = [i["score"] for i in recs["items"]]
    assert scores == sorted(scores, reverse=True)
    assert "P10" not in product_ids(recs)  # the item just viewed
    assert recs["items"][0]["reason"] == "similar_to:P10"  # the newest view weighs most
    assert recs["model_version"] == "rt-sessions-4+2026-11-19"
    # Times come from the events, never the wall clock: replays give the same item, but for
    # its expiry: 30 days after the newest event, and never less than 30 days from now.
    assert recs["updated_at"] == canonical(at(5))
    assert recs["ttl"] >= int(parse_iso_with_zone(at(5)).timestamp()) + 30 * 86400
    assert recs["ttl"] >= int(time.time()) - 1 + 30 * 86400
    assert (recs["history_revision"], recs["snapshot_generation"]) == (1, 1)


def test_a_replayed_batch_leaves_exactly_the_same_state(loaded):
    handler, _ = make_handler(loaded)
    event, _ = kinesis_batch([click(f"e{n}", f"P{n}", event_time=at(n)) for n in range(5)])
    first = handler.process(event)
    state = (without_ttl(loaded.get_recommendations("u1")), loaded.get_history("u1"))
    replay = handler.process(event)
    assert (first.new_events, replay.new_events, replay.duplicates) == (5, 0, 5)
    assert (without_ttl(loaded.get_recommendations("u1")), loaded.get_history("u1")) == state
    assert loaded.get_history("u1").revision == state[1].revision  # nothing rewritten


def test_the_order_events_arrive_in_does_not_matter(loaded, tmp_path):
    from recmart.realtime.store.sqlite import SqliteStore

    clicks = [click(f"e{n}", f"P{n * 7 % N}", event_time=at(n), event_type="add_to_cart" if n == 2 else "view")
              for n in range(6)]
    in_order, _ = make_handler(loaded)
    in_order.process(kinesis_batch(clicks)[0])

    other = SqliteStore(tmp_path / "other.sqlite")
    load_snapshot(other, neighbour_rows(N, 25), trending_rows("all", [f"P{i}" for i in range(50, 60)])
                  + trending_rows("master_category=Footwear", ["P41", "P43", "P45"]), "2026-11-19",
                  products=product_rows(N))
    shuffled, _ = make_handler(other)
    shuffled.process(kinesis_batch([clicks[4], clicks[1], clicks[5]])[0])  # late ones come later
    shuffled.process(kinesis_batch([clicks[0], clicks[3], clicks[2], clicks[1]])[0])
    # The same item, but for its expiry and for how many history writes it took (one batch or two).
    assert (without_ttl(other.get_recommendations("u1"), "history_revision")
            == without_ttl(loaded.get_recommendations("u1"), "history_revision"))


def test_anonymous_clicks_update_nothing_per_user(loaded):
    handler, _ = make_handler(loaded)
    result = handler.process(kinesis_batch([click("e1", "P1", user_id=None)])[0])
    assert (result.anonymous, result.users, result.failures) == (1, 0, [])
    assert loaded.get_histories(["u1"])["u1"].revision == 0


def test_purchased_products_are_never_recommended(loaded):
    handler, _ = make_handler(loaded)
    handler.process(kinesis_batch([click("e1", "P0", event_time=at(0))])[0])
    assert "P1" in product_ids(loaded.get_recommendations("u1"))

    refreshed = record_purchases(loaded, "u1", [Purchase("o1", "P1", parse_iso_with_zone(at(1)).timestamp() * 10**6)])
    assert "P1" not in product_ids(refreshed.recommendations)
    assert "P1" not in product_ids(loaded.get_recommendations("u1"))
    handler.process(kinesis_batch([click("e2", "P59", event_time=at(2))])[0])  # P59's neighbours include P1
    assert "P1" not in product_ids(loaded.get_recommendations("u1"))


def test_add_to_cart_weighs_more_than_a_view_and_removal_lowers(loaded):
    handler, _ = make_handler(loaded, top_n=100)
    t0 = at(0)
    handler.process(kinesis_batch([
        click("a", "P0", user_id="cart", event_type="add_to_cart", event_time=t0),
        click("b", "P30", user_id="cart", event_type="view", event_time=t0),
        click("c", "P0", user_id="viewed", event_type="view", event_time=t0),
        click("d", "P30", user_id="viewed", event_type="view", event_time=t0),
        click("e", "P0", user_id="removed", event_type="view", event_time=t0),
        click("f", "P30", user_id="removed", event_type="view", event_time=t0),
        click("g", "P30", user_id="removed", event_type="remove_from_cart", event_time=t0),
    ] + [click(f"z{u}", "P59", user_id=u, event_time=at(1)) for u in ("cart", "viewed", "removed")])[0])
    cart, viewed, removed = (product_ids(loaded.get_recommendations(u)) for u in ("cart", "viewed", "removed"))
    # P1 is a neighbour of P0 only, P31 of P30 only (P59's neighbours are P0..P24).
    assert cart.index("P1") < cart.index("P31")  # the carted product's neighbours come first
    assert "P31" in viewed
    assert "P31" not in removed  # viewed then removed from the cart: net negative


def test_a_thin_history_is_filled_from_trending_of_the_category_then_overall(sqlite_store):
    load_snapshot(sqlite_store, [], trending_rows("all", ["P50", "P51"])
                  + trending_rows("master_category=Footwear", ["P41", "P43"]), "v1", products=product_rows(N))
    handler, _ = make_handler(sqlite_store)
    handler.process(kinesis_batch([click("e1", "P43", event_time=at(0))])[0])  # a Footwear product
    items = sqlite_store.get_recommendations("u1")["items"]
    assert [(i["product_id"], i["reason"]) for i in items] == [
        ("P41", "trending:master_category=Footwear"), ("P50", "trending:all"), ("P51", "trending:all")]
    assert items[0]["score"] > items[1]["score"] > items[2]["score"] > 0


def test_without_any_snapshot_users_still_get_a_stored_item(sqlite_store):
    handler, _ = make_handler(sqlite_store)
    handler.process(kinesis_batch([click("e1", "P1")])[0])
    recs = sqlite_store.get_recommendations("u1")
    assert recs["items"] == [] and recs["model_version"] == "rt-sessions-4+none"


def test_malformed_records_go_to_the_dead_letters_and_are_not_retried(loaded, capsys):
    handler, letters = make_handler(loaded)
    event, records = kinesis_batch([
        b"{not json", click("e1", "P1"), {"event_id": "x"}, click("e2", "P2", event_type="purchase"),
        click("e3", "P3", event_time="2026-11-20T10:00:00"), "[1, 2]", click("e4", "P4", price="12"),
    ])
    records.append({"kinesis": {"sequenceNumber": "9", "data": "***"}, "eventID": "shard:9"})
    result = handler.process(batch_event(records))
    assert result.failures == [] and result.malformed == 7 and result.users == 1
    assert [d.reason for d in letters.letters] == [
        "not_json", "missing_field", "bad_event_type", "bad_event_time", "not_object", "bad_type", "not_base64"]
    assert letters.letters[0].id == records[0]["eventID"]
    assert letters.letters[0].sequence_number == records[0]["kinesis"]["sequenceNumber"]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    summary = [line for line in lines if line["message"] == "batch"][-1]
    assert summary["malformed"] == 7 and summary["malformed_reasons"]["not_json"] == 1
    assert {line["reason"] for line in lines if line["level"] == "WARNING"} >= {"not_json", "bad_event_type"}


class FlakyStore:
    """A store whose writes for some users fail, as a throttled DynamoDB would."""

    def __init__(self, store, fail_users=(), fail_reads=False) -> None:
        self._store, self.fail_users, self.fail_reads = store, set(fail_users), fail_reads

    def __getattr__(self, name):
        return getattr(self._store, name)

    def put_recommendations(self, recs):
        if recs["user_id"] in self.fail_users:
            raise StoreError("ProvisionedThroughputExceededException")
        return self._store.put_recommendations(recs)

    def get_histories(self, user_ids):
        if self.fail_reads:
            raise StoreError("network down")
        return self._store.get_histories(user_ids)


def test_a_store_failure_reports_that_record_and_everything_after_it(loaded):
    flaky = FlakyStore(loaded, fail_users={"u2"})
    handler, letters = make_handler(flaky)
    clicks = [click("a1", "P1", "u1", event_time=at(1)), b"bad", click("b1", "P2", "u2", event_time=at(2)),
              click("a2", "P3", "u1", event_time=at(3)), click("c1", "P4", "u3", event_time=at(4)), b"bad too"]
    event, records = kinesis_batch(clicks)
    response = handler(event, None)
    seqs = [r["kinesis"]["sequenceNumber"] for r in records]
    assert response == {"batchItemFailures": [{"itemIdentifier": s} for s in seqs[2:]]}
    assert loaded.get_recommendations("u1") is not None  # before the failure: done (both events)
    assert loaded.get_recommendations("u3") is None  # after it: left for the retry
    assert len(letters.letters) == 1  # only the malformed record before the failure

    # Kinesis retries from the lowest reported sequence number; now the store is healthy.
    flaky.fail_users.clear()
    retry = handler.process(batch_event(records_from(records, response["batchItemFailures"][0]["itemIdentifier"])))
    # a2 was applied the first time, and b1's history write landed before its recommendations failed.
    assert retry.failures == [] and retry.duplicates == 2
    assert {loaded.get_recommendations(u) is not None for u in ("u1", "u2", "u3")} == {True}
    assert len(letters.letters) == 2


def test_a_failed_batch_read_retries_from_the_first_user_record(loaded):
    handler, _ = make_handler(FlakyStore(loaded, fail_reads=True))
    event, records = kinesis_batch([click("e0", "P1", user_id=None), click("e1", "P1"), click("e2", "P2")])
    assert handler.process(event).failures == [r["kinesis"]["sequenceNumber"] for r in records[1:]]


def test_a_failing_dead_letter_destination_means_retry_not_loss(loaded):
    class Down(MemoryDeadLetters):
        def send(self, letters):
            raise DeadLetterError("SQS unavailable")

    handler = Handler(loaded, Down(), HandlerConfig())
    event, records = kinesis_batch([click("e1", "P1"), b"oops", click("e2", "P2", "u2")])
    assert handler.process(event).failures == [r["kinesis"]["sequenceNumber"] for r in records[1:]]


def test_the_same_event_twice_in_a_batch_is_one_event(loaded):
    handler, _ = make_handler(loaded)
    result = handler.process(kinesis_batch([click("e1", "P1"), click("e1", "P1")])[0])
    assert (result.new_events, result.duplicates) == (1, 1)
    assert len(loaded.get_history("u1").events) == 1


def test_history_is_bounded(loaded):
    handler, _ = make_handler(loaded, history_max_events=5)
    handler.process(kinesis_batch([click(f"e{n}", f"P{n}", event_time=at(n)) for n in range(12)])[0])
    assert [e.event_id for e in loaded.get_history("u1").events] == ["e7", "e8", "e9", "e10", "e11"]


@pytest.fixture
def gc_thresholds():
    """Whatever a test sets, the process's collector thresholds are restored after it."""
    saved = gc.get_threshold()
    yield saved
    gc.set_threshold(*saved)


def test_handle_builds_itself_from_the_environment(tmp_path, monkeypatch, gc_thresholds):
    gc.set_threshold(700, 10, 10)
    monkeypatch.setattr(handler_module, "_default", None)
    monkeypatch.setenv("RECMART_RECS_STORE", f"sqlite:///{tmp_path}/recs.sqlite")
    monkeypatch.setenv("RECMART_RT_DEAD_LETTERS", f"jsonl:///{tmp_path}/dead.jsonl")
    monkeypatch.setenv("RECMART_RT_TOP_N", "5")
    event, _ = kinesis_batch([click("e1", "P1"), b"broken"])
    assert handler_module.handle(event, None) == {"batchItemFailures": []}
    assert handler_module._default.config.top_n == 5
    assert json.loads((tmp_path / "dead.jsonl").read_text())["reason"] == "not_json"
    assert handler_module._default.store.get_history("u1").events[0].event_id == "e1"
    # The entry point tunes the collector for the handler's process: full passes far apart.
    assert gc.get_threshold() == (700, 10, handler_module.FULL_COLLECTION_EVERY)


def test_a_batch_leaves_no_reference_cycles(loaded, gc_thresholds):
    """What makes `tune_garbage_collector` safe: the handler's garbage is freed by reference
    counting alone, so full collections, made rare, have nothing to free. Malformed records of
    every kind included (a raised exception's traceback would hold the batch's frame)."""
    handler, letters = make_handler(loaded)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for k in range(3):
            event, _ = kinesis_batch([click(f"e{k}-{i}", f"P{i}", user_id=f"u{i % 3}", event_time=at(i)) for i in range(10)]
                                     + [b"not json", {"event_id": "x"}, click(f"e{k}-bad", "P1", event_time="yesterday")])
            event["Records"] += [{"kinesis": {"sequenceNumber": "9", "data": "!!!"}}, {"no": "kinesis"}, "not a record"]
            assert handler(event, None) == {"batchItemFailures": []}
        found = gc.collect()
        kinds = sorted({type(o).__name__ for o in gc.garbage})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert len(letters.letters) == 3 * 6
    assert found == 0, kinds


def test_works_the_same_on_dynamodb(dynamodb_store):
    load_snapshot(dynamodb_store, neighbour_rows(N, 25), trending_rows("all", ["P50"]), "v1",
                  products=product_rows(N))
    handler, _ = make_handler(dynamodb_store)
    event, records = kinesis_batch([click("e1", "P0", event_time=at(0)), click("e2", "P10", event_time=at(5))])
    assert handler(event, None) == {"batchItemFailures": []}
    recs = dynamodb_store.get_recommendations("u1")
    assert len(recs["items"]) == 20 and recs["items"][0]["reason"] == "similar_to:P10"
    handler(event, None)
    assert without_ttl(dynamodb_store.get_recommendations("u1")) == without_ttl(recs)


def test_kinesis_sequence_numbers_increase():
    shard = Shard()
    a, b = shard.record(click("e1", "P1")), shard.record(click("e2", "P2"))
    assert int(b["kinesis"]["sequenceNumber"]) == int(a["kinesis"]["sequenceNumber"]) + 1
