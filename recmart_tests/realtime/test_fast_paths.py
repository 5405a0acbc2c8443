"""The handler's fast paths give exactly what the plain code they replace would.

Each hot spot of the per-click path (JSON text, times, scoring, merging) has a faster
spelling; these tests compare it with the obvious one on ordinary and odd inputs.
"""

from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from recmart.realtime.history import (
    HistoryEvent,
    HistoryLimits,
    Purchase,
    UserHistory,
    merge_history,
)
from recmart.realtime.jsontext import dumps, loads
from recmart.realtime.scoring import (
    ScoringSettings,
    recommend,
    seed_weights,
    trending_scopes,
    trending_scopes_of,
)
from recmart.realtime.store.base import ItemInfo
from recmart.realtime.store.snapshot import item_document, parse_item_document
from recmart.realtime.timeutil import iso_to_micros, micros_to_iso, parse_iso_with_zone, to_micros


def outcome(fn, *args):
    try:
        return "ok", fn(*args)
    except Exception as exc:  # noqa: BLE001 - the same error is part of "the same result"
        return type(exc).__name__, str(exc)


def compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


# ---- JSON text ----------------------------------------------------------------------------------
# jsontext is msgspec's encoder and decoder; these pin what it keeps of json's behaviour.

def recs(**changes) -> dict:
    item = {"user_id": "u1", "items": [
        {"product_id": "P1", "score": 0.1 + 0.2, "reason": "similar_to:P9"},
        {"product_id": "P2é", "score": 1e-7, "reason": 'trending:master_category=Bags "x"\n'},
    ], "model_version": "rt-neighbours-1+2026-11-20", "updated_at": "2026-11-20T10:00:00.000000Z", "ttl": 1797000000,
        "history_revision": 3, "snapshot_generation": 2}
    item.update(changes)
    return item


ENTRY = {"product_id": "P1", "score": 0.5, "reason": "r"}


@pytest.mark.parametrize("item", [
    recs(), recs(items=[]), recs(ttl=True), recs(ttl=1.5), recs(items=tuple(recs()["items"])), recs(user_id=None),
    {"items": [], "user_id": "u", "model_version": "m", "updated_at": "t", "ttl": 1}, recs(extra=1),
    *(recs(items=[dict(ENTRY, score=s)]) for s in (1, True, -0.0, 5e-324, 1e300, 2**70)),
    recs(items=[{"score": 0.5, "product_id": "P1", "reason": "r"}]), recs(items=[dict(ENTRY, reason=3)]),
    recs(items=[dict(ENTRY, product_id="\ud800")]), recs(items=[dict(ENTRY, product_id="日本\x00\x1f\u2028")]),
])
def test_dumps_is_the_json_of_json_dumps(item):
    """What jsontext.dumps writes reads back (with any JSON reader) as json.dumps's text does, keys in order."""
    text = dumps(item)
    assert json.loads(text) == json.loads(compact(item)) and list(json.loads(text)) == list(item)
    assert loads(text) == json.loads(compact(item))


def test_dumps_writes_non_finite_floats_as_null():
    assert [json.loads(dumps(recs(items=[dict(ENTRY, score=s)])))["items"][0]["score"]
            for s in (math.nan, math.inf, -math.inf)] == [None, None, None]


def test_history_rows_read_back_and_rows_stored_before_read_the_same():
    rng = random.Random(3)
    texts = ["a", "é", 'q"', "b\\s", "\n", "日本", "\ud800", "", "\x00\x1f"]
    times = [0, -5, 1_795_172_403_400_000, 2**70]
    for _ in range(2000):
        events = tuple(HistoryEvent(rng.choice(texts), rng.choice(texts), rng.choice(texts), rng.choice(times))
                       for _ in range(rng.randint(0, 5)))
        purchases = tuple(Purchase(rng.choice(texts), rng.choice(texts), rng.choice(times))
                          for _ in range(rng.randint(0, 3)))
        history = UserHistory("u", events, purchases, 7)
        old_events = compact([[e.event_id, e.event_type, e.product_id, e.event_micros] for e in events])
        old_purchases = compact([[p.order_id, p.product_id, p.purchased_micros] for p in purchases])
        assert json.loads(history.events_json()) == json.loads(old_events)
        assert json.loads(history.purchases_json()) == json.loads(old_purchases)
        for stored in ((history.events_json(), history.purchases_json()), (old_events, old_purchases)):
            back = UserHistory.from_json("u", *stored, 7)
            assert back == history and back.purchases == history.purchases and back.revision == 7


def reference_loads(data):
    """What the handler did before msgspec: UTF-8 text, then json.loads."""
    return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)


@pytest.mark.parametrize("data", [
    "", " ", "[]", " []", "[] ", "[]x", "\ufeff[]", '{"a":1}', '{"a":1,}', "[1,", "nul", '"abc"', "1 2", "[1]\n",
    '[["e1","view","P1",1795172403400000]]', "NaN", "[Infinity, -Infinity]", "[1e400]", '"\\ud800"', '"e\\udfff"',
    '"\\ud83d\\ude00"', '["\ud800"]', '{"a":1,"b":2,"a":3}', "[123456789012345678901234567890]", "[" + "9" * 4300 + "]",
    "[" + "9" * 4301 + "]", "[-0, -0.0, 5e-324, 2.4703282292062328e-324, 1.7976931348623157e308]", '["\\u0000", "\x01"]',
    "[" * 100_000 + "]" * 100_000, b'{"a":"\xc3\xa9"}', b'{"a":"\xff"}', b'["\xed\xa0\x80"]', b"\xef\xbb\xbf[]",
    b"[" * 5000 + b"\xff" + b"]" * 5000, '{"a":"\xe9"}'.encode("utf-16"),
])
def test_loads_is_json_loads(data):
    got, expected = outcome(loads, data), outcome(reference_loads, data)
    assert got == expected and repr(got) == repr(expected)


def test_loads_is_json_loads_on_mutated_clicks():
    """Bytes and text a byte or a token away from a click: the same value or the same error as before."""
    rng = random.Random(5)
    seed = json.dumps(dict(click_fields(), user_id="u\u00e9\U0001F600", p=[1, 2.5, {"a": None}]),
                      ensure_ascii=False).encode()
    pieces = [bytes([b]) for b in range(256)] + [s.encode("utf-8", "surrogatepass") for s in (
        "\\ud800", "\\udc00", "\ud800", "NaN", "Infinity", "1e999", "9" * 30, "00", "\\u", "\u2028", "\ufeff")]
    for i in range(20_000):
        data = bytearray(seed)
        for _ in range(rng.randint(1, 3)):
            at, piece = rng.randrange(len(data) + 1), rng.choice(pieces)
            data[at:at + (len(piece) if rng.random() < 0.5 else 0)] = piece
        data = bytes(data)
        for one in (data, data.decode("utf-8", "surrogateescape")) if i % 4 == 0 else (data,):
            got, expected = outcome(loads, one), outcome(reference_loads, one)
            assert got == expected and repr(got) == repr(expected), one


def click_fields() -> dict:
    return {"event_id": "e1", "event_type": "view", "event_time": "2026-11-20T10:00:00Z", "session_id": "s",
            "user_id": "u1", "product_id": "P1", "price": 19.99}


def test_item_documents_parse_as_before():
    doc = item_document([("P2", 0.5), ("P3", 1)], "name", "Bags")
    assert parse_item_document(doc) == ((("P2", 0.5), ("P3", 1)), "name", "Bags", {}, ())
    # A document without session-source rows is spelled as before they existed (a reload writes nothing).
    assert doc == json.dumps({"cat": "Bags", "n": [["P2", 0.5], ["P3", 1.0]], "name": "name"}, separators=(",", ":"))
    with_sources = item_document([("P2", 0.5)], None, None, {"sequential_rules": [("P4", 0.25)], "session_neighbours": []})
    assert parse_item_document(with_sources) == ((("P2", 0.5),), None, None, {"sequential_rules": (("P4", 0.25),)}, ())
    # The pre-blended row (rt-sessions-3): stored at twelve significant digits, read back bit for bit.
    blended = item_document([("P2", 0.5)], None, None, blend=[("P4", 0.25 + 4 * 0.1), ("P5", 1 / 3)])
    assert json.loads(blended)["b"] == [["P4", 0.65], ["P5", 0.333333333333]]
    assert parse_item_document(blended)[3:] == ({}, (("P4", 0.65), ("P5", 0.333333333333)))
    assert outcome(parse_item_document, json.dumps({"n": [["P2"]]}))[0] == "IndexError"
    assert parse_item_document(json.dumps({"n": [["P2", 0.5, "extra"]]}))[0] == (("P2", 0.5),)



def plain_parse_item_document(doc):
    """The item record's parse spelled plainly: the generic JSON, then pairs."""
    obj = loads(doc)
    sources, blend = obj.get("s"), obj.get("b")

    def pairs(rows):
        return tuple(zip([r[0] for r in rows], [r[1] for r in rows], strict=True))

    return (pairs(obj["n"]), obj.get("name"), obj.get("cat"),
            {k: pairs(v) for k, v in sources.items()} if sources else {}, pairs(blend) if blend else ())


@pytest.mark.parametrize("doc", [
    '{"n":[["a",1]]}', '{"n":[["a",123456789012345678901234567890]]}', '{"n":[["a",-0.0]]}', '{"n":[["a",1e400]]}',
    '{"n":[["a",1E5]],"b":[["x",2]]}', '{"n":[["a",NaN]]}', '{"n":[["a",1,2]]}', '{"n":[[1,1]]}', '{"n":[]}',
    '{"name":"x"}', '{"n":[["a",true]]}', '{"n":[["a",1]],"s":{"x":[["b",0.5]],"x":[["c",0.25]]}}',
    '{"n":[["a",1]],"s":null,"b":null}', '{"n":[["a",1]],"s":{},"b":[]}', '{"n":[["a",1]],"name":5}',
    '{"n":[["a",1]],"n":[["b",2]]}', '{"n":[["\\ud800",1]]}', '{"n":[["a",18446744073709551616]]}',
    '{"n":[["a",0.1]],"extra":[1,2]}', '[1]', '{"n":[["a",1]]} x', '{"n":[["é",1.5e-7]],"cat":"Ü"}',
    '{"n":[["a",1]],"s":{"x":[]}}', '{"n":[["ab"]]}', '{"n":["ab"]}', '{"n":[["a",1]],"b":[["x",0.5],["y",null]]}',
    item_document([("P2", 0.5)], "n", "c", {"sequential_rules": [("P4", 0.25)]}, [("P4", 0.65), ("P5", 1 / 3)]),
])
def test_item_documents_parse_as_the_plain_parse(doc):
    """The typed decoding (msgspec into tuples) gives the generic parse's values, types and errors."""
    got, expected = outcome(parse_item_document, doc), outcome(plain_parse_item_document, doc)
    assert repr(got) == repr(expected)
    if got[0] == "ok":
        assert [type(x) for p in got[1][0] + got[1][4] for x in p] == [type(x) for p in expected[1][0] + expected[1][4] for x in p]


def plain_source_scores(history, items, settings):
    """The session-source scoring spelled plainly: every entry of every seed's row, in seed order."""
    weights = seed_weights(history, settings)
    excluded = set()
    if history.events:
        since = history.newest_micros - int(settings.purchase_window_days * 86_400_000_000)
        excluded = {p.product_id for p in history.purchases if p.purchased_micros >= since}
        excluded.add(history.events[-1].product_id)
    seeds = [(w, items[pid]) for pid, w in weights.items() if w != 0.0 and pid in items]
    per_row = max(10, settings.source_budget // max(1, len(seeds)))
    scores, best, reasons = {}, {}, {}
    for w, item in seeds:
        for nid, s in (item.blend or item.neighbours)[:per_row]:
            c = w * s
            if nid not in scores:
                scores[nid] = best[nid] = c
                reasons[nid] = item.product_id
            else:
                scores[nid] += c
                if c > best[nid]:
                    best[nid], reasons[nid] = c, item.product_id
    for pid in excluded:
        scores.pop(pid, None)
    top = sorted((pid for pid in scores if scores[pid] > 0), key=lambda pid: (-scores[pid], pid))[:settings.top_n]
    return [{"product_id": pid, "score": scores[pid], "reason": f"similar_to:{reasons[pid]}"} for pid in top]


def test_source_scoring_is_the_plain_loop(monkeypatch):
    """The pruned scoring of blended rows (only the candidates that can make the top n) serves what
    scoring every entry serves: the same lists, scores bit for bit, reasons; whether or not it
    settles a user, and on rows it must not prune (out of order, a candidate twice, a row cut)."""
    from recmart.realtime import scoring

    settled = []
    pruned = scoring._pruned
    monkeypatch.setattr(scoring, "_pruned", lambda *a: settled.append(pruned(*a)) or settled[-1])
    rng = random.Random(12)
    for case in range(1500):
        products = [f"P{i}" for i in range(rng.choice([25, 60, 400]))]
        items = {}
        for pid in products:
            ids = [x for x in rng.sample(products, min(len(products) - 1, rng.choice([0, 5, 30, 150]))) if x != pid]
            if case % 3 == 0:  # ties
                scores = sorted((rng.choice([0.5, 0.25, 0.125, 0.0]) for _ in ids), reverse=True)
            else:  # falling with rank, as the loader's blends do
                scores = sorted((round(2.5 / (r + rng.random()) ** 1.2, 9) for r in range(1, len(ids) + 1)), reverse=True)
            row = tuple(zip(ids, scores, strict=True))
            if case % 7 == 1 and row:  # what the loader never writes: out of order, a candidate twice
                row = row[1:2] + row[:1] + row[2:] if rng.random() < 0.5 else row + row[:1]
            neighbours = tuple((x, round(1 / (i + 1), 6)) for i, x in enumerate(ids[:10]))
            items[pid] = ItemInfo(pid, None, None, neighbours, {}, row if rng.random() < 0.9 else ())
        events = tuple(HistoryEvent(f"e{i}", rng.choice(["view"] * 8 + ["add_to_cart", "remove_from_cart"]),
                                    rng.choice(products), 1_800_000_000_000_000 + i * rng.choice([1, 60_000_000]))
                       for i in range(rng.choice([1, 1, 2, 3, 5, 10, 30])))
        purchases = tuple(Purchase(f"o{i}", rng.choice(products), 1_800_000_000_000_000) for i in range(rng.choice([0, 2])))
        history = UserHistory("u", events, purchases)
        settings = ScoringSettings(top_n=rng.choice([1, 5, 20, 20]), source_budget=rng.choice([2000, 2000, 100]))
        got = recommend(history, items, {}, settings)
        expected = plain_source_scores(history, items, settings)
        assert got[:len(expected)] == expected
        assert [r["score"].hex() for r in got[:len(expected)]] == [r["score"].hex() for r in expected]
    assert sum(r is not None for r in settled) > len(settled) / 2  # the pruned path is what ran, mostly


# ---- times --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "2026-11-20T10:00:00Z", "2026-11-20 10:00:00.5z", "2026-11-20T00:30:00.123456789-0230", "2026-11-21T01:00:00+05",
    "1969-12-31T23:59:59.999999Z", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-01:00", "0001-01-01T04:59-05:00",
    "2026-02-29T00:00Z", "2026-11-20T24:00Z", "2026-11-20T10:00+24:00", "2026-11-20T10:00:00", " 2026-11-20T10:00Z ",
    "yesterday", None,
])
def test_iso_to_micros_is_to_micros_of_the_parse(text):
    assert outcome(iso_to_micros, text) == outcome(lambda t: to_micros(parse_iso_with_zone(t)), text)


@pytest.mark.parametrize("micros", [0, 1, 1_795_172_403_400_000, 253_402_300_799_999_999, 253_402_300_800_000_000,
                                    -1, -62_135_596_800_000_000, 1.5e15, True])
def test_micros_to_iso_is_the_datetime_spelling(micros):
    def plain(m):
        t = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=m)
        return (f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
                f".{t.microsecond:06d}Z")

    assert outcome(micros_to_iso, micros) == outcome(plain, micros)


# ---- scoring and merging ----------------------------------------------------------------------


def plain_recommend(history, items, trending, settings):
    """The recommender spelled out plainly: full sorts, a search of every seed for each reason."""
    weights = seed_weights(history, settings)
    newest = history.newest_micros
    excluded = set()
    if newest is not None:
        since = newest - int(settings.purchase_window_days * 86_400_000_000)
        excluded = {p.product_id for p in history.purchases if p.purchased_micros >= since}
        if history.events:
            excluded.add(history.events[-1].product_id)
    seeds = [(w, items[pid]) for pid, w in weights.items() if w != 0.0 and pid in items]
    per_seed = max(10, settings.candidate_budget // max(1, len(seeds)))
    scores = {}
    for i, (w, item) in enumerate(seeds):
        for nid, s in item.neighbours[:per_seed]:
            scores[nid] = w * s if i == 0 else scores.get(nid, 0.0) + w * s
    for pid in excluded:
        scores.pop(pid, None)
    top = sorted((pid for pid in scores if scores[pid] > 0), key=lambda pid: (-scores[pid], pid))[:settings.top_n]
    chosen = []
    for pid in top:
        contributions = [(w * dict(item.neighbours[:per_seed])[pid], -i, item.product_id)
                         for i, (w, item) in enumerate(seeds) if pid in dict(item.neighbours[:per_seed])]
        chosen.append({"product_id": pid, "score": scores[pid], "reason": f"similar_to:{max(contributions)[2]}"})
    floor = chosen[-1]["score"] / 2 if chosen else 1.0
    taken = excluded | set(top)
    for scope in trending_scopes(weights, items):
        for pid, _ in trending.get(scope, ()):
            if len(chosen) < settings.top_n and pid not in taken:
                taken.add(pid)
                chosen.append({"product_id": pid, "score": floor / (1 + len(chosen) - len(top)),
                               "reason": f"trending:{scope}"})
    return chosen


def test_recommend_is_the_plain_recommender():
    rng = random.Random(7)
    for _ in range(3000):
        products = [f"P{i}" for i in range(rng.choice([5, 30, 300]))]
        items = {}
        for pid in products:
            neighbours = rng.sample(products, min(len(products), rng.choice([0, 1, 10, 50])))
            scores = [0.5, 0.25, 1.0, 0.0, round(rng.random(), 2)]  # repeated values: ties
            items[pid] = ItemInfo(pid, None, rng.choice([None, "A", "B"]),
                                  tuple((nid, rng.choice(scores)) for nid in neighbours if nid != pid))
        events = tuple(sorted(
            (HistoryEvent(f"e{i}", rng.choice(["view", "add_to_cart", "remove_from_cart"]), rng.choice(products),
                          1_800_000_000_000_000 + rng.randint(0, 3) * 3_600_000_000) for i in range(rng.randint(0, 30))),
            key=lambda e: (e.event_micros, e.event_id)))
        purchases = tuple(Purchase(f"o{i}", rng.choice(products), 1_800_000_000_000_000)
                          for i in range(rng.randint(0, 2)))
        history = UserHistory("u", events, purchases)
        settings = ScoringSettings(top_n=rng.choice([1, 5, 20]), seed_events=rng.choice([1, 5, 20]),
                                   candidate_budget=rng.choice([10, 50, 200, 10**6]))
        trending = {"all": tuple((p, 1.0) for p in products[:25]),
                    "master_category=A": tuple((p, 1.0) for p in products[3:9])}
        got = recommend(history, items, trending, settings)
        expected = plain_recommend(history, items, trending, settings)
        assert got == expected
        assert [r["score"].hex() for r in got] == [r["score"].hex() for r in expected]
        weights = [seed_weights(history, settings), {p: rng.choice([1.0, -1.0]) for p in products[:3]}]
        assert trending_scopes_of(weights, items) == {s for w in weights for s in trending_scopes(w, items)}


def plain_merge(history, events, purchases, limits):
    by_id = {e.event_id: e for e in history.events}
    for e in events:
        by_id.setdefault(e.event_id, e)
    by_key = {(p.order_id, p.product_id): p for p in history.purchases}
    for p in purchases:
        by_key.setdefault((p.order_id, p.product_id), p)
    all_events = sorted(by_id.values(), key=lambda e: (e.event_micros, e.event_id))
    all_purchases = sorted(by_key.values(), key=lambda p: (p.purchased_micros, p.order_id, p.product_id))
    times = [e.event_micros for e in all_events[-1:]] + [p.purchased_micros for p in all_purchases[-1:]]
    if not times:
        return UserHistory(history.user_id, (), (), history.revision)
    newest = max(times)
    oldest_event = newest - int(limits.max_age_days * 86_400_000_000)
    oldest_purchase = newest - int(limits.purchase_window_days * 86_400_000_000)
    return UserHistory(
        history.user_id,
        tuple([e for e in all_events if e.event_micros >= oldest_event][-limits.max_events:]),
        tuple([p for p in all_purchases if p.purchased_micros >= oldest_purchase][-limits.max_purchases:]),
        history.revision,
    )


def test_merging_is_the_plain_merge():
    rng = random.Random(11)
    day = 86_400_000_000
    for _ in range(5000):
        def event():
            micros = rng.choice([0, 1, 29, 30, 31, 60]) * day + rng.randint(-2, 2)
            return HistoryEvent(f"e{rng.randint(0, 40)}", "view", "P1", micros)

        def purchase():
            return Purchase(f"o{rng.randint(0, 5)}", f"P{rng.randint(0, 3)}", rng.choice([0, 1, 30, 60]) * day)

        stored = merge_history(UserHistory("u", revision=3), [event() for _ in range(rng.randint(0, 12))],
                               [purchase() for _ in range(rng.randint(0, 3))], HistoryLimits(max_age_days=10**6))
        limits = HistoryLimits(max_events=rng.choice([1, 3, 50]), max_age_days=rng.choice([0.5, 30]),
                               max_purchases=rng.choice([1, 100]), purchase_window_days=rng.choice([1, 30]))
        new_events = [event() for _ in range(rng.randint(0, 4))]
        new_purchases = [purchase() for _ in range(rng.randint(0, 2))]
        merged = merge_history(stored, new_events, new_purchases, limits)
        assert merged == plain_merge(stored, new_events, new_purchases, limits) and merged.revision == 3
