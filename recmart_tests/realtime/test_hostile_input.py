"""Hostile or odd input to the handler (tracker issue 11, items 8-12), on both stores.

Malformed records end as dead letters with a reason and the rest of the batch is applied;
nothing escapes `handle`; times from the future are refused; the final state does not
depend on how two handler instances interleave; no write is born expired.
"""

from __future__ import annotations

import base64
import json
import time

import pytest

from recmart.realtime.config import HandlerConfig
from recmart.realtime.dead_letters import MemoryDeadLetters
from recmart.realtime.handler import Handler
from recmart.realtime.kinesis import Shard, batch_event
from recmart.realtime.loader import load_snapshot
from recmart.realtime.timeutil import FUTURE_SKEW_MINUTES, parse_iso_with_zone

from .factories import (
    ARRIVAL,
    at,
    click,
    kinesis_batch,
    neighbour_rows,
    product_rows,
    trending_rows,
)

N = 60


def make_handler(store, **config) -> tuple[Handler, MemoryDeadLetters]:
    letters = MemoryDeadLetters()
    return Handler(store, letters, HandlerConfig(**config)), letters


def reasons_by_event(letters: MemoryDeadLetters, records: list[dict]) -> dict[int, str]:
    """{index of the record in `records`: reason} of the dead letters."""
    index = {r["eventID"]: i for i, r in enumerate(records)}
    return {index[d.id]: d.reason for d in letters.letters}


def without(recs: dict, *keys: str) -> dict:
    return {k: v for k, v in recs.items() if k not in keys}


@pytest.fixture
def loaded_store(store):
    load_snapshot(store, neighbour_rows(N, 25), trending_rows("all", [f"P{i}" for i in range(50, 60)]),
                  "2026-11-19", products=product_rows(N))
    return store


# ---- item 8: one bad identifier is one dead letter, not a lost batch ---------------------------

def test_bad_identifiers_are_dead_letters_and_the_rest_of_the_batch_is_applied(store):
    handler, letters = make_handler(store)
    clicks = [
        click("e0", "P0", "u0"),
        click("e1", "P1", user_id="\ud800"),  # a lone surrogate: not encodable as UTF-8
        click("e2", "\udfff", "u2"),
        click("e3", "P3", user_id="x" * 2049),  # longer than DynamoDB's 2048-byte partition key
        click("e4", "P4", user_id="é" * 1025),  # 1025 characters, 2050 bytes
        click("e5", "P" * 2049, "u5"),  # product_id is item_neighbours' partition key
        click("e\ud83d", "P6", "u6"),
        click("e7", "P7", "x" * 2048),  # at the limit: fine
        click("e8", "é" * 1024, "u8"),  # 2048 bytes: fine
        click("e9", "P9", "u9"),
    ]
    event, records = kinesis_batch(clicks)
    result = handler.process(event)
    assert result.failures == []
    assert reasons_by_event(letters, records) == {i: "bad_identifier" for i in (1, 2, 3, 4, 5, 6)}
    assert all("UTF-8" in d.detail or "bytes" in d.detail for d in letters.letters)
    for user in ("u0", "x" * 2048, "u8", "u9"):
        assert store.get_recommendations(user) is not None, user
    for user in ("u2", "x" * 2049, "é" * 1025, "u5", "u6"):
        assert store.get_recommendations(user) is None and store.get_history(user).revision == 0
    assert (result.users, result.malformed) == (4, 6)


# ---- item 9: a click from the future -----------------------------------------------------------

def test_event_times_beyond_arrival_plus_the_skew_are_dead_letters(store):
    arrival = parse_iso_with_zone(at(0)).timestamp()
    shard = Shard(arrival_seconds=arrival)
    handler, letters = make_handler(store)
    records = [
        shard.record(click("e0", "P0", event_time=at(0))),
        shard.record(click("e1", "P1", event_time=at(0, hour=10 + FUTURE_SKEW_MINUTES // 60))),  # at the bound
        shard.record(click("e2", "P2", event_time="2026-11-20T11:00:00.000001Z")),  # just past it
        shard.record(click("e3", "P3", event_time="2026-12-20T10:00:00Z")),  # a client clock a month ahead
        shard.record(click("e4", "P4", event_time="9999-12-31T23:59:59Z")),
    ]
    result = handler.process(batch_event(records))
    assert result.failures == []
    assert reasons_by_event(letters, records) == {2: "event_time_in_future", 3: "event_time_in_future",
                                                  4: "event_time_in_future"}
    assert [e.event_id for e in store.get_history("u1").events] == ["e0", "e1"]

    # The history was not trimmed relative to the future: the next real click counts.
    later = Shard(arrival_seconds=parse_iso_with_zone(at(30, hour=11)).timestamp())
    handler.process(batch_event([later.record(click("e5", "P5", event_time=at(30, hour=11)))]))
    assert [e.event_id for e in store.get_history("u1").events] == ["e0", "e1", "e5"]
    assert store.get_recommendations("u1")["updated_at"] == "2026-11-20T11:30:00.000000Z"


def test_without_an_arrival_time_the_wall_clock_bounds_event_times(sqlite_store):
    handler, letters = make_handler(sqlite_store)
    shard = Shard()
    records = [shard.record(click("e1", "P1", event_time="9999-12-31T23:59:59Z")),
               shard.record(click("e2", "P2", event_time="2026-11-20T10:00:00Z"))]
    for r in records:
        del r["kinesis"]["approximateArrivalTimestamp"]
    assert handler.process(batch_event(records)).failures == []
    assert [d.reason for d in letters.letters] == ["event_time_in_future"]
    assert [e.event_id for e in sqlite_store.get_history("u1").events] == ["e2"]


def test_the_future_skew_is_the_batch_paths():
    events = pytest.importorskip("recmart.transforms.events")
    assert events.FUTURE_SKEW_MINUTES == FUTURE_SKEW_MINUTES


# ---- item 10: nothing escapes for any record content -------------------------------------------

def _raw(data: str, seq: int) -> dict:
    return {"kinesis": {"sequenceNumber": str(seq), "data": data, "partitionKey": "p",
                        "approximateArrivalTimestamp": ARRIVAL},
            "eventID": f"shard:{seq}", "eventSourceARN": "arn"}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


HOSTILE = [
    ("invalid base64", "!!not base64!!", "not_base64"),
    ("not UTF-8", _b64(b'{"event_id": "\xff\xfe"}'), "not_utf8"),
    ("a JSON array", _b64(b"[1, 2, 3]"), "not_object"),
    ("a huge integer", _b64(b'{"event_id": ' + b"9" * 100_000 + b"}"), "not_json"),
    ("a huge float time", _b64(b'{"event_id":"e","event_type":"view","event_time":1e999,"session_id":"s",'
                               b'"product_id":"P1"}'), "bad_type"),
    ("nested 100k deep (arrays)", _b64(b"[" * 100_000 + b"]" * 100_000), "not_json"),
    ("nested 100k deep (objects)", _b64(b'{"a":' * 100_000 + b"1" + b"}" * 100_000), "not_json"),
    ("year 9999 with a negative offset",
     _b64(b'{"event_id":"e","event_type":"view","event_time":"9999-12-31T23:59:59-01:00","session_id":"s",'
          b'"user_id":"u1","product_id":"P1"}'), "bad_event_time"),
    ("year 1 with a positive offset",
     _b64(b'{"event_id":"e","event_type":"view","event_time":"0001-01-01T00:00:00+01:00","session_id":"s",'
          b'"user_id":"u1","product_id":"P1"}'), "bad_event_time"),
    ("a huge event_time text",
     _b64(b'{"event_id":"e","event_type":"view","event_time":"' + b"1" * 300_000 + b'","session_id":"s",'
          b'"user_id":"u1","product_id":"P1"}'), "bad_event_time"),
]


@pytest.mark.parametrize("store_name", ["sqlite", "dynamodb"])
def test_hostile_payloads_are_dead_letters_and_nothing_escapes(store_name, request):
    store = request.getfixturevalue(f"{store_name}_store")
    handler, letters = make_handler(store)
    good = Shard(arrival_seconds=ARRIVAL)
    records = [_raw(data, 100 + i) for i, (_, data, _) in enumerate(HOSTILE)]
    records.append(good.record(click("ok", "P1", "u9")))
    records += ["not a record", {"kinesis": 5}, {"kinesis": {"sequenceNumber": "999", "data": None}}]
    response = handler(batch_event(records), None)  # raises nothing
    assert response == {"batchItemFailures": []}
    got = [d.reason for d in letters.letters]
    assert got == [reason for _, _, reason in HOSTILE] + ["not_kinesis", "not_kinesis", "not_base64"]
    assert all(len(d.detail) <= 1_000 for d in letters.letters)  # an SQS message stays within its limit
    assert all(len(d.to_json()) < 256 * 1024 for d in letters.letters)
    assert store.get_history("u9").events[0].event_id == "ok"


def test_an_error_nobody_foresaw_is_a_dead_letter_too(sqlite_store, monkeypatch):
    from recmart.realtime import handler as handler_module

    real = handler_module.decode_kinesis_data

    def decode(data, arrival):
        click_ = real(data, arrival)
        if click_.event_id == "boom":
            raise OverflowError("a bug in a check")
        return click_

    monkeypatch.setattr(handler_module, "decode_kinesis_data", decode)
    handler, letters = make_handler(sqlite_store)
    event, records = kinesis_batch([click("boom", "P1"), click("e2", "P2")])
    assert handler(event, None) == {"batchItemFailures": []}
    assert [(d.reason, d.detail) for d in letters.letters] == [("unreadable", "OverflowError: a bug in a check")]
    assert [e.event_id for e in sqlite_store.get_history("u1").events] == ["e2"]


# ---- item 11: two handler instances, one user --------------------------------------------------

class DeferredPuts:
    """The store as one handler instance sees it: its recommendation writes land only on release()."""

    def __init__(self, store) -> None:
        self._store, self.deferred = store, []

    def __getattr__(self, name):
        return getattr(self._store, name)

    def put_recommendations(self, recs):
        self.deferred.append(recs)
        return True

    def release(self) -> None:
        for recs in self.deferred:
            self._store.put_recommendations(recs)


def _two_instances(store, user: str, interleaving: str) -> dict:
    newer = click(f"{user}-a", "P0", user, event_time=at(5))  # instance A: the user's newest click
    late = click(f"{user}-b", "P30", user, event_time=at(0))  # instance B: an older click, late
    shard = Shard(arrival_seconds=ARRIVAL)
    a_store = DeferredPuts(store)
    a, _ = make_handler(a_store)
    b, _ = make_handler(store)
    if interleaving == "sequential":
        a.process(batch_event([shard.record(newer)]))
        a_store.release()
        b.process(batch_event([shard.record(late)]))
    else:  # A writes its history, then B does all its work, then A's recommendations land
        a.process(batch_event([shard.record(newer)]))
        b.process(batch_event([shard.record(late)]))
        a_store.release()
    return store.get_recommendations(user)


def test_two_interleavings_of_two_instances_leave_the_same_item(loaded_store):
    sequential = _two_instances(loaded_store, "alice", "sequential")
    interleaved = _two_instances(loaded_store, "bob", "interleaved")
    assert sequential["updated_at"] == interleaved["updated_at"] == "2026-11-20T10:05:00.000000Z"
    assert without(interleaved, "ttl", "user_id") == without(sequential, "ttl", "user_id")
    # ...and it is the item of the whole history (both clicks), not of the older instance's.
    assert any(i["reason"] == "similar_to:P30" for i in sequential["items"])


def test_recommendations_of_the_same_time_are_ordered_by_history_then_snapshot(store):
    def recs(revision: int, generation: int, product: str) -> dict:
        return {"user_id": "u1", "items": [{"product_id": product, "score": 1.0, "reason": "similar_to:P0"}],
                "model_version": "m", "updated_at": "2026-11-20T10:00:00.000000Z", "ttl": 1_900_000_000,
                "history_revision": revision, "snapshot_generation": generation}

    ordered = [recs(1, 1, "A"), recs(1, 2, "B"), recs(2, 1, "C"), recs(2, 2, "D")]
    for order in (ordered, ordered[::-1], [ordered[2], ordered[0], ordered[3], ordered[1]]):
        for r in order:
            store.put_recommendations(r)
        assert store.get_recommendations("u1") == ordered[-1]
    assert store.put_recommendations(ordered[-1])  # the same item again: written, same state
    assert not store.put_recommendations(ordered[0])


# ---- item 12: no write is born expired ---------------------------------------------------------

def test_a_replayed_old_day_is_not_born_expired(store):
    old = "2026-01-01T10:00:00Z"
    handler, _ = make_handler(store)
    before = int(time.time())
    shard = Shard(arrival_seconds=parse_iso_with_zone(old).timestamp())
    handler.process(batch_event([shard.record(click("e1", "P1", event_time=old))]))
    after = int(time.time()) + 1
    recs = store.get_recommendations("u1")
    assert before + 30 * 86_400 <= recs["ttl"] <= after + 30 * 86_400
    history_ttl = _stored_history_ttl(store, "u1")
    assert before + 30 * 86_400 <= history_ttl <= after + 30 * 86_400


def test_a_fresh_days_ttl_still_follows_its_newest_event(store):
    soon = int(time.time()) + 3 * 86_400  # a time a little ahead of now, within the skew of an arrival
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(soon))
    handler, _ = make_handler(store)
    handler.process(batch_event([Shard(arrival_seconds=soon).record(click("e1", "P1", event_time=stamp))]))
    assert store.get_recommendations("u1")["ttl"] == soon + 30 * 86_400
    assert _stored_history_ttl(store, "u1") == soon + 30 * 86_400


def _stored_history_ttl(store, user_id: str) -> int:
    if hasattr(store, "_db"):
        return store._query("SELECT ttl FROM recent_history WHERE user_id = ?", (user_id,))[0][0]
    item = store.client.get_item(TableName=store.tables.recent_history, Key={"user_id": {"S": user_id}})["Item"]
    return int(item["ttl"]["N"])


def test_a_sqlite_file_of_the_first_schema_takes_the_new_order(tmp_path):
    import sqlite3

    from recmart.realtime.store.sqlite import SqliteStore

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE recommendations (user_id TEXT PRIMARY KEY, updated_at TEXT NOT NULL, "
               "ttl INTEGER NOT NULL, item TEXT NOT NULL)")
    old = {"user_id": "u1", "items": [], "model_version": "m", "updated_at": "2026-11-20T10:00:00.000000Z",
           "ttl": 1_900_000_000}
    db.execute("INSERT INTO recommendations VALUES ('u1', ?, ?, ?)",
               (old["updated_at"], old["ttl"], json.dumps(old)))
    db.commit()
    db.close()
    store = SqliteStore(path)
    SqliteStore(path).close()  # a second opener finds the columns there
    try:
        assert store.get_recommendations("u1") == old
        newer = dict(old, items=[{"product_id": "P1", "score": 1.0, "reason": "r"}], history_revision=1,
                     snapshot_generation=1)
        assert store.put_recommendations(newer)  # the same time, but computed from a known history
        assert not store.put_recommendations(old)
        assert store.get_recommendations("u1") == newer
    finally:
        store.close()
