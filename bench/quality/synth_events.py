"""Cleaned-event-like partitions for the scale bench: synthetic sessions, Zipf product popularity.

    .venv/bin/python bench/quality/synth_events.py LAKE_ROOT CLICKS [--day 2026-11-20]

Writes `curated/cleaned_events` partitions for the 14 days D-13 .. D (the window
`recommendation_snapshot[D]` reads) and D+1 (the day `curated_recommendation_quality[D+1]` judges,
whose window is D-13 .. D), in the table's exact schema, through `LocalLake` staging and
publish as the pipeline does. CLICKS (views and add-to-carts) are spread evenly over the 14
window days; the judged day gets a day's share. Sessions: geometric lengths of mean 8 events
(at most 150), a click every ~40 s, 70% of them of an identified user (one user per 20
events), products drawn from a Zipf law (s = 1.1) over 50,000 products with a drift towards
the previous product's neighbours, so that rules and co-occurrences have structure. Event
types: 96% views, 3% add-to-cart, 1% remove-from-cart. Seeded: the same arguments give the
same rows. Also publishes tiny item_neighbours / trending_products partitions for D, which
`recommendation_snapshot` needs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from recmart.resources.lake import LocalLake
from recmart.tables import (
    CURATED_CLEANED_EVENTS,
    CURATED_ITEM_NEIGHBOURS,
    CURATED_TRENDING_PRODUCTS,
)

WINDOW_DAYS = 14
PRODUCTS = 50_000
CLICK_SHARE = 0.99  # views + add-to-cart among events
ROWS_PER_FILE = 1_000_000


def _publish(lake: LocalLake, table, day: str, tables: list[pa.Table]) -> None:
    staging = Path(lake.new_staging(table, day, uuid.uuid4().hex))
    staging.mkdir(parents=True, exist_ok=True)
    for k, t in enumerate(tables):
        pq.write_table(t, staging / f"part-{k:05d}.parquet")
    lake.publish(table, day, str(staging))


def _day_events(rng: np.random.Generator, day: dt.date, events: int, first_session: int, first_event: int,
                users: int) -> tuple[pa.Table, int]:
    lengths = np.minimum(rng.geometric(1 / 8, size=events // 8 + 100), 150)
    cut = int(np.searchsorted(np.cumsum(lengths), events))
    lengths = lengths[:cut + 1]
    lengths[-1] -= int(lengths.sum()) - events
    lengths = lengths[lengths > 0]
    n_sessions = len(lengths)
    session_of = np.repeat(np.arange(n_sessions), lengths)
    starts = np.cumsum(lengths) - lengths
    step = np.arange(events) - np.repeat(starts, lengths)
    day_us = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()) * 1_000_000
    session_start = rng.integers(0, 86_400 - 150 * 40, size=n_sessions) * 1_000_000
    gaps = rng.exponential(40.0, size=events) * 1_000_000
    gaps[starts] = 0
    offset = np.cumsum(gaps).astype(np.int64)
    offset -= np.repeat(offset[starts], lengths)
    times = day_us + np.repeat(session_start, lengths) + offset
    zipf = rng.zipf(1.1, size=events)
    fresh = (zipf - 1) % PRODUCTS
    drift = rng.random(events) < 0.5
    product = fresh.copy()
    for k in range(1, int(lengths.max())):  # a click follows the previous product's neighbourhood half the time
        at = (step == k) & drift
        prev = np.nonzero(at)[0] - 1
        product[at] = (product[prev] + rng.integers(1, 6, size=len(prev))) % PRODUCTS
    kind = rng.random(events)
    event_type = np.where(kind < 0.96, "view", np.where(kind < 0.99, "add_to_cart", "remove_from_cart"))
    identified = rng.random(n_sessions) < 0.7
    user_of_session = rng.integers(0, max(1, users), size=n_sessions)
    user = np.where(np.repeat(identified, lengths), np.repeat(user_of_session, lengths), -1)
    sid = np.char.add("s", (first_session + session_of).astype(str))
    eid = np.char.add("e", (first_event + np.arange(events)).astype(str))
    pid = np.char.add("P", product.astype(str))
    uid = [None if u < 0 else f"u{u}" for u in user.tolist()]
    ts = pa.array(times, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    cols = {
        "event_id": pa.array(eid), "event_type": pa.array(event_type), "event_time": ts,
        "session_id": pa.array(sid), "user_id": pa.array(uid, pa.string()), "product_id": pa.array(pid),
        "price": pa.nulls(events, pa.float64()), "device": pa.nulls(events, pa.string()),
        "page_url": pa.nulls(events, pa.string()), "referrer": pa.nulls(events, pa.string()),
        "user_agent_hash": pa.nulls(events, pa.string()), "ip_hash": pa.nulls(events, pa.string()),
        "source_file": pa.array(["bench"] * events), "arrival_time": ts, "copies": pa.array(np.ones(events, np.int32)),
    }
    return pa.table(cols, schema=CURATED_CLEANED_EVENTS.arrow_schema()), n_sessions


def synthesise(root: str, clicks: int, day: dt.date, seed: int = 1) -> dict:
    marker = Path(root) / "synth.json"
    if marker.exists():
        return json.loads(marker.read_text())
    lake = LocalLake(root=root)
    rng = np.random.default_rng(seed)
    per_day = int(round(clicks / WINDOW_DAYS / CLICK_SHARE))
    users = max(1000, per_day // 20)
    sessions = events = 0
    for k in range(-(WINDOW_DAYS - 1), 2):
        d = day + dt.timedelta(days=k)
        table, n = _day_events(rng, d, per_day, sessions, events, users)
        sessions, events = sessions + n, events + per_day
        _publish(lake, CURATED_CLEANED_EVENTS, d.isoformat(),
                 [table.slice(o, ROWS_PER_FILE) for o in range(0, table.num_rows, ROWS_PER_FILE)])
    key = day.isoformat()
    _publish(lake, CURATED_ITEM_NEIGHBOURS, key, [pa.Table.from_pylist(
        [{"product_id": "P0", "neighbour_id": "P1", "rank": 1, "score": 1.0, "co_users": 1}], schema=CURATED_ITEM_NEIGHBOURS.arrow_schema())])
    _publish(lake, CURATED_TRENDING_PRODUCTS, key, [pa.Table.from_pylist(
        [{"scope": "all", "product_id": "P0", "rank": 1, "trend_score": 1.0,
          "weighted_interactions": 1.0, "baseline": 1.0}], schema=CURATED_TRENDING_PRODUCTS.arrow_schema())])
    info = {"clicks_asked": clicks, "events_per_day": per_day, "days": WINDOW_DAYS + 1, "users": users,
            "sessions": sessions, "day": key}
    marker.write_text(json.dumps(info))
    return info


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("root")
    p.add_argument("clicks", type=int)
    p.add_argument("--day", default="2026-11-20")
    a = p.parse_args()
    print(synthesise(a.root, a.clicks, dt.date.fromisoformat(a.day)))
