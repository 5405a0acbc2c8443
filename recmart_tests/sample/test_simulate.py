"""The streaming API of the real-time simulator, and the shoppers' taste it simulates."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict

import sqlalchemy as sa

from recmart.sample.clickstream import simulate_clicks
from recmart.sample.store import SampleStore
from recmart_tests.sample.conftest import EVENTS_PER_DAY, SEED, START, event_time, problem

UTC = dt.timezone.utc


def store_of(url: str) -> SampleStore:
    engine = sa.create_engine(url)
    try:
        return SampleStore.from_engine(engine)
    finally:
        engine.dispose()


def test_clicks_stream_in_event_time_order_and_match_what_landed(seeded, landed):
    _, url, _ = seeded
    store = store_of(url)
    start = dt.datetime.combine(START + dt.timedelta(days=1), dt.time(10), tzinfo=UTC)
    end = start + dt.timedelta(hours=3)
    clicks = list(simulate_clicks(store, start, end, EVENTS_PER_DAY, SEED))

    assert clicks and all(isinstance(c, dict) and problem(json.dumps(c)) is None for c in clicks)
    times = [event_time(c) for c in clicks]
    assert times == sorted(times) and start <= times[0] and times[-1] < end
    assert len({c["event_id"] for c in clicks}) == len(clicks)
    landed_events = {}
    for item in landed:
        if problem(item.line) is None:
            event = json.loads(item.line)
            landed_events[event["event_id"]] = event
    # The landed malformed lines replaced a few of these clicks; all others landed as they are.
    same = sum(landed_events.get(c["event_id"]) == c for c in clicks)
    assert same >= 0.98 * len(clicks)

    naive = list(simulate_clicks(store, start.replace(tzinfo=None), end.replace(tzinfo=None), EVENTS_PER_DAY, SEED))
    assert naive == clicks, "a naive datetime is UTC"
    assert list(simulate_clicks(store, end, start, EVENTS_PER_DAY, SEED)) == []


def test_malformed_and_retried_clicks_on_request(seeded):
    store = store_of(seeded[1])
    start = dt.datetime(2030, 1, 1, 18, tzinfo=UTC)
    clicks = list(simulate_clicks(store, start, start + dt.timedelta(hours=2), 50_000, seed=3,
                                  malformed_share=0.05, duplicate_share=0.05))
    kinds = Counter(problem(json.dumps(c)) for c in clicks)
    assert {"missing_field", "bad_event_type", "naive_event_time", "bad_price"} <= set(kinds)
    assert "not_json" not in kinds
    ids = Counter(c.get("event_id") for c in clicks if problem(json.dumps(c)) is None)
    repeated = [i for i, n in ids.items() if n > 1]
    assert repeated
    position = {id(c): n for n, c in enumerate(clicks)}
    for event_id in repeated[:20]:
        copies = [c for c in clicks if c.get("event_id") == event_id]
        assert copies[0] == copies[1]
        assert position[id(copies[1])] - position[id(copies[0])] < 5, "a retry follows its original"


def test_users_keep_a_taste_that_recommendations_can_find(seeded):
    store = store_of(seeded[1])
    group = {pid: (g, a) for pid, g, a in zip(store.product_ids, store.product_gender, store.product_article_type, strict=True)}
    start = dt.datetime(2030, 1, 1, tzinfo=UTC)
    per_user: dict[str, Counter] = defaultdict(Counter)
    for click in simulate_clicks(store, start, start + dt.timedelta(days=1), 20_000, seed=SEED):
        if click["user_id"]:
            per_user[click["user_id"]][group[click["product_id"]]] += 1
    active = [c for c in per_user.values() if sum(c.values()) >= 20]
    assert len(active) > 20
    # Most of an active user's clicks fall in three (gender, article type) groups of the catalogue's dozens.
    top3 = sum(sum(n for _, n in c.most_common(3)) for c in active) / sum(sum(c.values()) for c in active)
    assert top3 > 0.6

    # The same seed gives each user the same taste on another day.
    later = defaultdict(Counter)
    for click in simulate_clicks(store, start + dt.timedelta(days=5), start + dt.timedelta(days=6), 20_000, SEED):
        if click["user_id"]:
            later[click["user_id"]][group[click["product_id"]]] += 1
    common = [u for u, c in per_user.items() if sum(c.values()) >= 20 and sum(later[u].values()) >= 20]
    assert common
    agree = sum(per_user[u].most_common(1)[0][0] in dict(later[u].most_common(3)) for u in common)
    assert agree / len(common) > 0.8
