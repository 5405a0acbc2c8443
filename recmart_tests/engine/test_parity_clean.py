"""cleaned_events on DuckDB and on Spark, row for row, on raw records written by hand with
the hard cases: malformed lines, duplicates across files and landing days, late arrivals,
zone offsets across midnight, `T24:00:00Z`, offsets beyond ±18:00, impossible dates,
non-ASCII ids, ties, and ip / user agent that must not reach quarantine in clear."""

from __future__ import annotations

import json

from recmart.steps import REGISTRY
from recmart.steps.cleaned_events import CleanSettings
from recmart.tables import (
    CLICK_FIELDS,
    CURATED_CLEANED_EVENTS,
    QUARANTINE_CLICKSTREAM,
    RAW_CLICKSTREAM,
)
from recmart_tests.engine.parity import assert_same_rows
from recmart_tests.engine.test_parity import DAY, run_both, t, write


def raw(line: str, arrival: str, source: str = "landing/clickstream/f1", not_utf8: bool = False) -> dict:
    """A raw row as the ingest leaves it: the line verbatim, each field as text; a line that
    was not UTF-8 is stored with U+FFFD for its bad bytes and marked corrupt."""
    try:
        obj = json.loads(line)
        corrupt = not isinstance(obj, dict) or not_utf8
    except ValueError:
        obj, corrupt = {}, True
    fields = {} if corrupt else {f: None if obj.get(f) is None else str(obj[f]) for f in CLICK_FIELDS}
    return {"record": line, "source_file": source, "arrival_time": t(arrival), "corrupt": corrupt, **fields}


def click(event_id, at, user="u1", product="p1", etype="view", **kw) -> str:
    return json.dumps({"event_id": event_id, "event_type": etype, "event_time": at, "session_id": "s1",
                       "user_id": user, "product_id": product, "ip": "203.0.113.9",
                       "user_agent": "Mozilla/5.0 (secret)", **kw}, ensure_ascii=False)


ON_THE_DAY = [
    raw(click("a", "2026-11-20T10:00:00Z"), "2026-11-20T10:05:00"),
    raw(click("a", "2026-11-20T10:00:00Z"), "2026-11-20T10:06:00", "landing/clickstream/f2"),  # repeated
    raw(click("b", "2026-11-21T01:30:00+02:00"), "2026-11-20T23:40:00"),  # the 21st locally, the 20th in UTC
    raw(click("c", "2026-11-19T23:30:00-01:00"), "2026-11-20T00:40:00"),  # the 19th locally, the 20th in UTC
    raw(click("d", "2026-11-20 12:00:00.1234567z"), "2026-11-20T12:01:00"),  # space, lowercase z, 7 digits
    raw(click("e", "2026-11-20T24:00:00Z"), "2026-11-20T23:00:00"),  # hour 24: not a time
    raw(click("f", "2026-11-20T10:00:00+18:30"), "2026-11-20T10:00:00"),  # beyond +18:00
    raw(click("g", "2026-02-30T10:00:00Z"), "2026-11-20T10:00:00"),  # no such day
    raw(click("h", "2026-11-20T13:00:00Z"), "2026-11-20T11:00:00"),  # two hours ahead of arrival
    raw(click("i", "2026-11-20T10:00:00Z", etype="purchase"), "2026-11-20T10:00:00"),
    raw(click("j", "2026-11-20T10:00:00Z", price="1,5"), "2026-11-20T10:00:00"),
    raw(click("ü-1", "2026-11-20T09:00:00Z", user="ユーザー", product="prod-é"), "2026-11-20T09:00:01"),
    raw(click("k", "2026-11-20T09:00:00Z", user=None), "2026-11-20T09:00:00"),  # anonymous
    raw('{"event_id": "l", "event_type": "view"', "2026-11-20T09:00:00"),  # torn line
    raw("", "2026-11-20T09:00:00"),
    raw('["not", "an", "object"]', "2026-11-20T09:00:00"),
    raw('{"event_id": "q", "event_type": "view", "user_id": "\ufffd\ufffd"}', "2026-11-20T09:00:00", not_utf8=True),
    raw(json.dumps({"event_id": "m", "event_type": "view", "event_time": "2026-11-20T09:00:00Z",
                    "ip": "198.51.100.7"}), "2026-11-20T09:00:00"),  # missing fields
    # A tie: the same id at the same arrival from two files; the smaller file name wins.
    raw(click("n", "2026-11-20T08:00:00Z", product="p2"), "2026-11-20T08:00:00", "landing/clickstream/f9"),
    raw(click("n", "2026-11-20T08:00:00Z", product="p3"), "2026-11-20T08:00:00", "landing/clickstream/f3"),
]
LATE = [  # landed on the 22nd and the 28th for the 20th
    raw(click("a", "2026-11-20T10:00:00Z"), "2026-11-22T03:00:00", "landing/clickstream/f4"),
    raw(click("o", "2026-11-20T22:00:00Z"), "2026-11-22T03:00:00", "landing/clickstream/f4"),
    raw(click("p", "2026-11-20T22:00:00Z"), "2026-11-28T03:00:00", "landing/clickstream/f5"),  # too late
]


def test_cleaned_events_same_rows_on_both_engines(spark, tmp_path):
    step = REGISTRY["cleaned_events"]
    inputs = {"raw_clickstream": (RAW_CLICKSTREAM, {
        DAY: write(RAW_CLICKSTREAM, ON_THE_DAY, tmp_path / "in" / "20"),
        "2026-11-22": write(RAW_CLICKSTREAM, LATE[:2], tmp_path / "in" / "22"),
        "2026-11-28": write(RAW_CLICKSTREAM, LATE[2:], tmp_path / "in" / "28"),
    })}
    folders, metrics = run_both(spark, tmp_path, step, inputs, CleanSettings(pii_salt="salt"))
    cleaned = assert_same_rows(CURATED_CLEANED_EVENTS, folders["duckdb"]["cleaned_events"],
                               folders["spark"]["cleaned_events"])
    quarantined = assert_same_rows(QUARANTINE_CLICKSTREAM, folders["duckdb"]["quarantined_events"],
                                   folders["spark"]["quarantined_events"])
    assert metrics["duckdb"] == metrics["spark"]
    # a (3 copies), b, c, d, ü-1, k, n (2 copies), o: every record is in exactly one place.
    assert metrics["duckdb"]["cleaned_totals"] == {"cleaned": 8, "duplicates": 3}
    assert cleaned == 8 and quarantined == len(ON_THE_DAY) + len(LATE) - 8 - 3
    assert metrics["duckdb"]["quarantine_reasons"] == {**{r: 0 for r in metrics["duckdb"]["quarantine_reasons"]},
        "not_utf8": 1, "malformed_json": 3, "missing_field": 1, "invalid_event_type": 1, "invalid_event_time": 3,
        "event_time_in_future": 1, "arrived_too_late": 1, "invalid_price": 1}


def test_quarantine_keeps_no_ip_or_user_agent_in_clear(spark, tmp_path):
    import duckdb

    step = REGISTRY["cleaned_events"]
    inputs = {"raw_clickstream": (RAW_CLICKSTREAM, {DAY: write(RAW_CLICKSTREAM, ON_THE_DAY, tmp_path / "in")})}
    folders, _ = run_both(spark, tmp_path, step, inputs, CleanSettings(pii_salt="salt"))
    for engine in ("duckdb", "spark"):
        records = [r for (r,) in duckdb.sql(
            f"SELECT record FROM read_parquet('{folders[engine]['quarantined_events']}/**/*.parquet')").fetchall()]
        assert records and not any("203.0.113.9" in r or "secret" in r or "198.51.100.7" in r for r in records)
