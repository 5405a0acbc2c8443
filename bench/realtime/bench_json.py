"""Micro-benchmark of the real-time path's JSON (not a test): the hand-written code before msgspec
against what runs now (`recmart/realtime/jsontext.py`: msgspec), in one process, on the texts the
handler reads and writes: a Kinesis record's click, a user's history row, a product record of the
benchmark snapshot with the session sources (bench_handler.py), and the recommendations item.

The code before is not a copy: its modules (`jsontext.py`, `clicks.py`, `history.py`,
`store/snapshot.py`, `store/sqlite.py`) are read from git at run time (`git show REV:path`, REV
= --before, the last commit with the hand-written encoders and decoder) and run beside the
current ones. orjson is measured too when it is installed (the other candidate; the JSON step
only, as a bare call with nothing of json's semantics kept around it).

Each figure is the best of --repeats timings of --number calls (microseconds per call; the
implementations of a case take turns, so a change of the machine's load hits them alike), after
checking that they give the same values.

    taskset -c 0 .venv/bin/python bench/realtime/bench_json.py
"""

from __future__ import annotations

import argparse
import base64
import platform
import random
import subprocess
import sys
import time
import timeit
import types
from dataclasses import astuple
from pathlib import Path

import msgspec

from recmart.realtime import clicks, jsontext
from recmart.realtime.history import HistoryEvent, Purchase, UserHistory
from recmart.realtime.kinesis import encode
from recmart.realtime.store import snapshot

ROOT = Path(__file__).resolve().parents[2]
BEFORE = "9645a879b5c67226c33857dd8222320cbed498ab"  # the last commit with the hand-written code


def git_show(rev: str, path: str) -> str:
    return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def module_before(rev: str, path: str, name: str, replaced: dict[str, types.ModuleType]) -> types.ModuleType:
    """The module at `path` as of `rev`, imported under `name`; `replaced` stand in for modules it imports."""
    module = types.ModuleType(name)
    module.__file__ = f"{rev[:10]}:{path}"
    saved = {key: sys.modules.get(key) for key in replaced}
    sys.modules.update(replaced)
    sys.modules[name] = module  # dataclasses look their module up
    try:
        exec(compile(git_show(rev, path), module.__file__, "exec"), module.__dict__)
    finally:
        for key, value in saved.items():
            if value is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = value
    return module


def modules_before(rev: str) -> dict[str, types.ModuleType]:
    old_jsontext = module_before(rev, "recmart/realtime/jsontext.py", "before_jsontext", {})
    uses_it = {"recmart.realtime.jsontext": old_jsontext}
    return {
        "jsontext": old_jsontext,
        "clicks": module_before(rev, "recmart/realtime/clicks.py", "before_clicks", uses_it),
        "history": module_before(rev, "recmart/realtime/history.py", "before_history", uses_it),
        "snapshot": module_before(rev, "recmart/realtime/store/snapshot.py", "before_snapshot", uses_it),
        "sqlite": module_before(rev, "recmart/realtime/store/sqlite.py", "before_sqlite", uses_it),
    }


# ---- the texts ----------------------------------------------------------------------------------

def sample_click() -> dict:  # as bench_handler.py's clicks() makes them
    return {"event_id": "ev-3-12345", "event_type": "view", "event_time": "2026-11-20T10:17:31.250000Z",
            "session_id": "S1543", "user_id": "U004321", "product_id": "P001234", "price": 19.99}


def sample_history(rng: random.Random, n_events: int, n_purchases: int, history_module=None) -> UserHistory:
    m = history_module
    event, purchase, history = (m.HistoryEvent, m.Purchase, m.UserHistory) if m else (HistoryEvent, Purchase, UserHistory)
    start = 1_795_162_000_000_000
    events = tuple(event(f"ev-3-{10_000 + i}", rng.choice(["view"] * 9 + ["add_to_cart"]),
                         f"P{rng.randrange(20_000):06d}", start + i * 50_000) for i in range(n_events))
    purchases = tuple(purchase(f"O{i:08d}", f"P{rng.randrange(20_000):06d}", start + i) for i in range(n_purchases))
    return history("U004321", events, purchases, 12)


def sample_item_document(rng: random.Random) -> str:
    """A product record of bench_handler's snapshot with the session sources: 50 neighbours, a blended row of 150."""
    products = [f"P{i:06d}" for i in rng.sample(range(20_000), 200)]
    neighbours = [(pid, round(1.0 / (rank + rng.random()), 6)) for rank, pid in enumerate(products[:50], 1)]
    blend = [(pid, 2.5 / (rank + rng.random()) ** 1.2) for rank, pid in enumerate(products[50:], 1)]
    return snapshot.item_document(neighbours, "Product P001234", "Apparel", blend=blend)


def sample_recommendations(rng: random.Random) -> dict:  # the item refresh.py writes: 20 entries
    items = [{"product_id": f"P{rng.randrange(20_000):06d}", "score": rng.random() * 3,
              "reason": rng.choice(["similar_to:P001234", "similar_to:P000042", "trending:master_category=Apparel"])}
             for _ in range(20)]
    return {"user_id": "U004321", "items": items, "model_version": "rt-sessions-3+bench-1",
            "updated_at": "2026-11-20T10:17:31.250000Z", "ttl": 1_797_754_651, "history_revision": 12,
            "snapshot_generation": 1}


# ---- timing -------------------------------------------------------------------------------------

def best_of(fns: dict, number: int, repeats: int) -> dict[str, float]:
    """{name: best microseconds per call}, the implementations taking turns."""
    best = {name: float("inf") for name in fns}
    timers = {name: timeit.Timer(fn) for name, fn in fns.items()}
    for _ in range(repeats):
        for name, timer in timers.items():
            best[name] = min(best[name], timer.timeit(number) / number * 1e6)
    return best


def cases(before: dict[str, types.ModuleType], orjson) -> list[tuple[str, int, dict, object]]:
    """(case, calls per timing, {implementation: fn}, check) of every case."""
    rng = random.Random(1)
    old_loads, old_history = before["jsontext"].loads, before["history"]
    raw = base64.b64decode(encode(sample_click()))
    data = encode(sample_click())
    arrival = 1_795_170_000_000_000
    hist_50 = sample_history(random.Random(2), 50, 2)
    hist_10 = sample_history(random.Random(3), 10, 0)
    old_50 = sample_history(random.Random(2), 50, 2, old_history)
    old_10 = sample_history(random.Random(3), 10, 0, old_history)
    rows_50 = (hist_50.events_json(), hist_50.purchases_json())
    rows_10 = (hist_10.events_json(), hist_10.purchases_json())
    doc = sample_item_document(rng)
    recs = sample_recommendations(rng)
    recs_text = jsontext.dumps(recs)
    o = {} if orjson is None else {"orjson": None}

    def orj(fn):
        return {"orjson": fn} if o else {}

    event_row = lambda e: (e.event_id, e.event_type, e.product_id, e.event_micros)  # noqa: E731
    return [
        ("click: the record's JSON (bytes -> dict)", 20_000,
         {"before": lambda: old_loads(raw.decode("utf-8")), "msgspec": lambda: jsontext.loads(raw),
          **orj(lambda: orjson.loads(raw))}, "same"),
        ("click: decode_kinesis_data (base64, JSON, contract checks)", 20_000,
         {"before": lambda: before["clicks"].decode_kinesis_data(data, arrival),
          "msgspec": lambda: clicks.decode_kinesis_data(data, arrival)}, "astuple"),
        ("history, 50 events + 2 purchases: UserHistory.from_json", 5_000,
         {"before": lambda: old_history.UserHistory.from_json("U004321", *rows_50, 12),
          "msgspec": lambda: UserHistory.from_json("U004321", *rows_50, 12),
          **orj(lambda: UserHistory("U004321", tuple([HistoryEvent(*e) for e in orjson.loads(rows_50[0])]),
                                    tuple([Purchase(*p) for p in orjson.loads(rows_50[1])]), 12))}, "history"),
        ("history, 50 events + 2 purchases: events_json + purchases_json", 5_000,
         {"before": lambda: (old_50.events_json(), old_50.purchases_json()),
          "msgspec": lambda: (hist_50.events_json(), hist_50.purchases_json()),
          **orj(lambda: (orjson.dumps([event_row(e) for e in hist_50.events]).decode(),
                         orjson.dumps([(p.order_id, p.product_id, p.purchased_micros)
                                       for p in hist_50.purchases]).decode()))}, "json"),
        ("history, 10 events: UserHistory.from_json", 20_000,
         {"before": lambda: old_history.UserHistory.from_json("U004321", *rows_10, 12),
          "msgspec": lambda: UserHistory.from_json("U004321", *rows_10, 12)}, "history"),
        ("history, 10 events: events_json + purchases_json", 20_000,
         {"before": lambda: (old_10.events_json(), old_10.purchases_json()),
          "msgspec": lambda: (hist_10.events_json(), hist_10.purchases_json())}, "json"),
        (f"product record ({len(doc):,} chars): the JSON", 5_000,
         {"before": lambda: old_loads(doc), "msgspec": lambda: jsontext.loads(doc),
          **orj(lambda: orjson.loads(doc))}, "same"),
        ("product record: snapshot.parse_item_document", 5_000,
         {"before": lambda: before["snapshot"].parse_item_document(doc),
          "msgspec": lambda: snapshot.parse_item_document(doc)}, "same"),
        ("recommendations (20 entries): the stored text", 10_000,
         {"before": lambda: before["sqlite"].recommendations_json(recs), "msgspec": lambda: jsontext.dumps(recs),
          **orj(lambda: orjson.dumps(recs).decode())}, "json"),
        ("recommendations: read back (get_recommendations)", 10_000,
         {"before": lambda: __import__("json").loads(recs_text), "msgspec": lambda: jsontext.loads(recs_text),
          **orj(lambda: orjson.loads(recs_text))}, "same"),
    ]


def check(kind: str, fns: dict) -> None:
    import json

    values = {name: fn() for name, fn in fns.items()}
    if kind == "same":
        expected = values["before"]
        assert all(v == expected for v in values.values()), values
    elif kind == "astuple":
        assert len({astuple(v) for v in values.values()}) == 1, values
    elif kind == "history":
        def plain(h):
            return [astuple(e) for e in h.events], [astuple(p) for p in h.purchases], h.revision
        assert all(plain(v) == plain(values["before"]) for v in values.values())
    elif kind == "json":
        parsed = {name: json.loads(v) if isinstance(v, str) else [json.loads(t) for t in v] for name, v in values.items()}
        assert all(p == parsed["before"] for p in parsed.values()), parsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=BEFORE, help="the git revision of the code before (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the calls per timing (0.1: a smoke run)")
    args = parser.parse_args(argv)
    try:
        import orjson
    except ImportError:
        orjson = None
    before = modules_before(args.before)
    rows = []
    for case, number, fns, kind in cases(before, orjson):
        check(kind, fns)
        rows.append((case, best_of(fns, max(1, int(number * args.scale)), args.repeats)))

    names = ["before", "msgspec"] + (["orjson"] if orjson else [])
    print(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.machine()}, Python "
          f"{platform.python_version()}, msgspec {msgspec.__version__}"
          + (f", orjson {orjson.__version__}" if orjson else "")
          + f"; before = {args.before[:10]}; best of {args.repeats}; microseconds per call.\n")
    print("| case | " + " | ".join(f"{n} µs" for n in names) + " | before / msgspec |")
    print("|---|" + "---:|" * (len(names) + 1))
    for case, best in rows:
        cells = [f"{best[n]:.2f}" if n in best else "" for n in names]
        print(f"| {case} | " + " | ".join(cells) + f" | {best['before'] / best['msgspec']:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
