"""The seeded store: landing layout, event contract, the defects cleaning must handle, orders, determinism."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa

from recmart.sample.render import MALFORMED_KINDS
from recmart.sample.seed import StoreNotEmpty, seed_sample
from recmart.source.schema import order_items, orders, products, users
from recmart.tables import CLICK_FIELDS, EVENT_TYPES
from recmart_tests.sample.conftest import (
    ARGS,
    DAYS,
    EVENTS_PER_DAY,
    START,
    event_time,
    problem,
    read_landing,
)

OPTIONAL_TEXT = ("device", "page_url", "referrer", "user_agent", "ip")


def good_events(landed) -> list[tuple]:
    return [(item, json.loads(item.line)) for item in landed if problem(item.line) is None]


def test_landing_files_follow_the_firehose_layout(seeded, landed):
    lake, _, summary = seeded
    keys = sorted({item.key for item in landed})
    assert len(keys) == summary.files_written and summary.files_kept == 0
    assert not [p for p in lake.rglob(".*")], "no hidden temporary file is left behind"
    windows = Counter()
    for key in keys:
        parts = key.split("/")
        stamp = parts[-1].split("-")[3:9]
        assert parts[2:6] == stamp[:4], "the folder is the hour of the arrival time in the name"
        arrival = dt.datetime(*map(int, stamp), tzinfo=dt.timezone.utc)
        windows[(arrival.timestamp() // 300)] += 1
    assert max(windows.values()) == 1, "one file per 5-minute buffer window"
    for item, event in good_events(landed):
        # A file holds what arrived in its window, never an event from after the window.
        assert event_time(event) < item.arrival + dt.timedelta(minutes=5)


def test_good_events_follow_the_click_contract(seeded, landed):
    _, url, _ = seeded
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        product_ids = set(conn.execute(sa.select(products.c.product_id)).scalars())
        user_ids = set(conn.execute(sa.select(users.c.user_id)).scalars())
    events = [e for _, e in good_events(landed)]
    assert len(events) > 0.98 * DAYS * EVENTS_PER_DAY
    for e in events:
        assert isinstance(e["event_id"], str) and isinstance(e["session_id"], str)
        assert e["product_id"] in product_ids
        assert "user_id" in e and (e["user_id"] is None or e["user_id"] in user_ids)
        assert isinstance(e.get("price", 0.0), (int, float)) and e.get("price", 0) >= 0
        assert all(isinstance(e[f], str) for f in OPTIONAL_TEXT if f in e)
    zones = Counter("Z" if e["event_time"].endswith("Z") else "offset" for e in events)
    assert zones["Z"] > 0 and zones["offset"] > 0
    types = Counter(e["event_type"] for e in events)
    assert set(types) == set(EVENT_TYPES)
    assert 0.02 < types["add_to_cart"] / len(events) < 0.04
    assert types["remove_from_cart"] < types["add_to_cart"]
    anonymous = sum(e["user_id"] is None for e in events) / len(events)
    assert 0.1 < anonymous < 0.5
    for field in ("price", *OPTIONAL_TEXT):
        assert 0 < sum(field not in e for e in events) < len(events) / 2, f"{field} is sometimes absent"
    assert any(set(e) - set(CLICK_FIELDS) for e in events), "some events carry unknown extra fields"


def test_every_malformed_kind_lands_and_is_counted(seeded, landed):
    summary = seeded[2]
    kinds = Counter(k for k in map(problem, (item.line for item in landed)) if k)
    assert set(kinds) == set(MALFORMED_KINDS)
    assert dict(kinds) == summary.malformed_kinds
    assert sum(c.malformed for c in summary.days.values()) == sum(kinds.values())
    assert 0.002 < sum(kinds.values()) / len(landed) < 0.01


def test_retried_duplicates_and_late_arrivals(seeded, landed):
    summary = seeded[2]
    first_seen: dict[str, tuple] = {}
    duplicates, in_other_file = 0, 0
    late = Counter()
    delays = []
    for item, event in good_events(landed):
        seen = first_seen.get(event["event_id"])
        if seen is None:
            first_seen[event["event_id"]] = (item.key, item.line)
            delays.append(item.arrival - event_time(event))
            if item.arrival.date() > event_time(event).date():
                late[item.arrival.date().isoformat()] += 1
            continue
        duplicates += 1
        assert seen[1] == item.line, "a retried copy is the same line"
        in_other_file += seen[0] != item.key
    assert duplicates == sum(c.duplicates for c in summary.days.values()) > 0
    assert 0 < in_other_file < duplicates
    assert dict(late) == {day: c.late for day, c in summary.days.items() if c.late}
    assert sum(late.values()) > 0, "some events land in a later day's files"
    assert sum(d > dt.timedelta(days=1) for d in delays) > 0, "a few events arrive days late"
    assert sorted(delays)[len(delays) // 2] < dt.timedelta(seconds=10), "most events arrive within seconds"


def test_summary_counts_what_landed_per_day(seeded, landed):
    summary = seeded[2]
    per_day = Counter(item.arrival.date().isoformat() for item in landed)
    assert per_day == Counter({day: c.landed_lines for day, c in summary.days.items() if c.landed_lines})
    assert summary.events == DAYS * EVENTS_PER_DAY
    assert summary.users == 400 and summary.products == 300


def test_orders_follow_the_clicks(seeded, landed):
    _, url, summary = seeded
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        order_rows = conn.execute(sa.select(orders)).all()
        item_rows = conn.execute(sa.select(order_items)).all()
    added = defaultdict(list)  # (user, product) -> add_to_cart times
    for _, e in good_events(landed):
        if e["event_type"] == "add_to_cart" and e["user_id"]:
            added[(e["user_id"], e["product_id"])].append(event_time(e))
    by_order = {o.order_id: o for o in order_rows}
    for item in item_rows:
        order = by_order[item.order_id]
        if order.user_id is None:
            continue
        created = order.created_at.replace(tzinfo=dt.timezone.utc)
        assert any(t < created for t in added[(order.user_id, item.product_id)]), "bought after adding to cart"
    statuses = Counter(o.status for o in order_rows)
    assert statuses["cancelled"] > 0 and statuses["paid"] > 0
    assert any(o.user_id is None for o in order_rows), "guest checkouts exist"
    assert 0.005 < len(item_rows) / (DAYS * EVENTS_PER_DAY) < 0.02, "about 1% of clicks become purchases"
    created_days = Counter(o.created_at.date().isoformat() for o in order_rows)
    assert created_days == Counter({d: c.orders for d, c in summary.days.items() if c.orders})


def files(lake: Path) -> dict[str, bytes]:
    return {p.relative_to(lake).as_posix(): p.read_bytes() for p in lake.rglob("*") if p.is_file()}


def dump(url: str) -> list:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        return [conn.execute(sa.select(t).order_by(*t.primary_key.columns)).all()
                for t in (users, products, orders, order_items)]


def test_the_same_seed_gives_the_same_bytes(seeded, tmp_path):
    lake, url, _ = seeded
    seed_sample(str(tmp_path / "lake"), f"sqlite:///{tmp_path / 'again.db'}", **ARGS)
    assert files(tmp_path / "lake") == files(lake)
    assert dump(f"sqlite:///{tmp_path / 'again.db'}") == dump(url)

    other = dict(ARGS, seed=ARGS["seed"] + 1, days=1)
    seed_sample(str(tmp_path / "other"), f"sqlite:///{tmp_path / 'other.db'}", **other)
    assert not set(files(tmp_path / "other")) & set(files(lake))


def test_landed_files_are_never_rewritten_and_a_filled_store_is_kept(seeded, tmp_path):
    lake, url, summary = seeded
    before = {p: p.stat().st_mtime_ns for p in lake.rglob("*") if p.is_file()}
    again = seed_sample(str(lake), f"sqlite:///{tmp_path / 'fresh.db'}", **ARGS)
    assert again.files_written == 0 and again.files_kept == summary.files_written
    assert {p: p.stat().st_mtime_ns for p in lake.rglob("*") if p.is_file()} == before

    with pytest.raises(StoreNotEmpty, match="already has rows in users, products"):
        seed_sample(str(tmp_path / "lake"), url, **ARGS)
    replaced = seed_sample(str(tmp_path / "lake"), f"sqlite:///{tmp_path / 'fresh.db'}",
                           **dict(ARGS, days=1, users=50), replace=True)
    assert replaced.users == 50


def test_uncompressed_landing_and_arguments(tmp_path):
    summary = seed_sample(str(tmp_path / "lake"), f"sqlite:///{tmp_path / 'db' / 'source.db'}",
                          **dict(ARGS, days=1, events_per_day=500), compress=False)
    landed = read_landing(tmp_path / "lake")
    assert landed and not any(item.key.endswith(".gz") for item in landed)
    assert len(landed) == sum(c.landed_lines for c in summary.days.values())
    with pytest.raises(ValueError, match="days must be at least 1"):
        seed_sample(str(tmp_path / "x"), f"sqlite:///{tmp_path / 'x.db'}", **dict(ARGS, days=0))
    with pytest.raises(TypeError, match="datetime.date"):
        seed_sample(str(tmp_path / "x"), f"sqlite:///{tmp_path / 'x.db'}",
                    **dict(ARGS, start=dt.datetime.combine(START, dt.time())))
