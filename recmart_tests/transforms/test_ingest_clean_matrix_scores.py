"""The pure Spark transforms on small hand-made inputs whose right answers are known."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from pyspark.sql import functions as F

from recmart.tables import CURATED_CLEANED_EVENTS, CURATED_INTERACTION_MATRIX, RAW_TRANSACTIONS
from recmart.transforms.clean import clean_day
from recmart.transforms.ingest import landed_lines, to_raw, with_file_columns
from recmart.transforms.matrix import interaction_matrix
from recmart.transforms.scores import ScoreSettings, interaction_scores

DAY = dt.date(2026, 11, 20)
FILE = "file:/lake/landing/clickstream/2026/11/20/13/recmart-clicks-1-2026-11-20-13-05-00-abc.gz"
NEXT_DAY_FILE = "file:/lake/landing/clickstream/2026/11/21/00/recmart-clicks-1-2026-11-21-00-04-00-def.gz"


def ev(event_id="e1", **over):
    base = {
        "event_id": event_id, "event_type": "view", "event_time": "2026-11-20T12:00:00Z",
        "session_id": "s1", "user_id": "u1", "product_id": "p1", "price": 10.5,
        "ip": "10.0.0.1", "user_agent": "Mozilla/5.0",
    }
    base.update(over)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


def raw_rows(spark, lines_by_file):
    rows = [(line, f) for f, lines in lines_by_file.items() for line in lines]
    return to_raw(with_file_columns(spark.createDataFrame(rows, "line string, file_uri string")), 7, 60)


def clean(spark, lines_by_file, day=DAY):
    raw = raw_rows(spark, lines_by_file).where(F.col("event_date") == F.lit(day)).drop("event_date")
    cleaned, quarantined = clean_day(raw, day, pii_salt="salt-for-tests", max_late_days=7, future_skew_minutes=60)
    return {r["event_id"]: r for r in cleaned.collect()}, quarantined.collect()


def test_raw_keeps_every_line_as_text_with_its_source(spark):
    lines = [ev(extra_field={"a": 1}), "not json", "", ev("e2", price=3)]
    raw = raw_rows(spark, {FILE: lines}).collect()
    assert [r["record"] for r in raw] == lines
    assert [r["corrupt"] for r in raw] == [False, True, True, False]
    assert raw[0]["source_file"] == "landing/clickstream/2026/11/20/13/recmart-clicks-1-2026-11-20-13-05-00-abc.gz"
    assert raw[0]["arrival_time"] == dt.datetime(2026, 11, 20, 13, 5)
    assert raw[3]["price"] == "3" and "extra_field" in raw[0]["record"]


@pytest.mark.parametrize("same_name", [False, True])
def test_landed_lines_take_key_and_arrival_from_their_file(spark, tmp_path, same_name):
    import gzip

    names = ["recmart-clicks-1-2026-11-20-13-05-00-abc.gz",
             "recmart-clicks-1-2026-11-20-13-05-00-abc.gz" if same_name else "recmart-clicks-1-2026-11-20-14-10-30-def.gz"]
    files = []
    for hour, name, lines in [("13", names[0], [ev("a"), ev("b")]), ("14", names[1], [ev("c")])]:
        path = tmp_path / "landing/clickstream/2026/11/20" / hour / name
        path.parent.mkdir(parents=True)
        path.write_bytes(gzip.compress("\n".join(lines).encode() + b"\n"))
        files.append(path.as_uri())
    rows = {r["event_id"]: r for r in to_raw(landed_lines(spark, files), 7, 60).collect()}
    assert {k: (r["source_file"], r["arrival_time"]) for k, r in rows.items()} == {
        "a": (f"landing/clickstream/2026/11/20/13/{names[0]}", dt.datetime(2026, 11, 20, 13, 5)),
        "b": (f"landing/clickstream/2026/11/20/13/{names[0]}", dt.datetime(2026, 11, 20, 13, 5)),
        "c": (f"landing/clickstream/2026/11/20/14/{names[1]}",
              dt.datetime(2026, 11, 20, 13, 5) if same_name else dt.datetime(2026, 11, 20, 14, 10, 30)),
    }


def test_a_file_not_named_the_firehose_way_arrives_at_the_end_of_its_folder(spark):
    folder = "file:/lake/landing/clickstream/2026/11/20"
    raw = raw_rows(spark, {
        f"{folder}/13/notes.txt": [ev("in-hour-folder")],
        f"{folder}/by-hand.json": [ev("in-day-folder")],
        f"{folder}/07/recmart-clicks-1-2026-13-99-00-00-00-x.gz": [ev("impossible-name-time")],
    }).collect()
    assert {r["event_id"]: (r["arrival_time"], str(r["event_date"])) for r in raw} == {
        "in-hour-folder": (dt.datetime(2026, 11, 20, 13, 59, 59), "2026-11-20"),
        "in-day-folder": (dt.datetime(2026, 11, 20, 23, 59, 59), "2026-11-20"),
        "impossible-name-time": (dt.datetime(2026, 11, 20, 7, 59, 59), "2026-11-20"),
    }
    assert raw[1]["source_file"] == "landing/clickstream/2026/11/20/by-hand.json"
    # Their events are judged against that arrival like any other: none is in the future.
    cleaned, quarantined = clean(spark, {f"{folder}/by-hand.json": [ev("a", event_time="2026-11-20T23:30:00Z")],
                                         f"{folder}/13/notes.txt": [ev("b", event_time="2026-11-20T13:58:00Z")]})
    assert set(cleaned) == {"a", "b"} and quarantined == []


def test_late_event_is_routed_to_its_own_day_and_too_old_to_arrival_day(spark):
    raw = raw_rows(spark, {NEXT_DAY_FILE: [
        ev("late", event_time="2026-11-20T23:59:30+00:00"),
        ev("ancient", event_time="2026-10-01T10:00:00Z"),
        ev("bad-time", event_time="2026-11-20T10:00:00"),
    ]}).collect()
    assert {r["event_id"]: str(r["event_date"]) for r in raw} == {
        "late": "2026-11-20", "ancient": "2026-11-21", "bad-time": "2026-11-21",
    }


@pytest.mark.parametrize(
    "line, reason",
    [
        ("{not json", "malformed_json"),
        ('{"event_id": "x"} trailing', "malformed_json"),
        ("[1, 2]", "malformed_json"),
        ("", "malformed_json"),
        (ev(session_id=...), "missing_field"),
        (ev(product_id=""), "missing_field"),
        (ev(event_type="purchase"), "invalid_event_type"),
        (ev(event_time="2026-11-20T12:00:00"), "invalid_event_time"),
        (ev(event_time="20/11/2026 12:00"), "invalid_event_time"),
        (ev(event_time="2026-11-20T15:00:00Z"), "event_time_in_future"),
        (ev(price="cheap"), "invalid_price"),
        (ev(price=-1), "invalid_price"),
    ],
)
def test_each_broken_rule_quarantines_with_its_reason(spark, line, reason):
    cleaned, quarantined = clean(spark, {FILE: [line]})
    assert cleaned == {}
    assert [(q["reason"], q["record"]) for q in quarantined] == [(reason, line)]
    assert quarantined[0]["source_file"].endswith("-abc.gz")


def test_duplicates_keep_first_copy_and_count_the_rest(spark):
    cleaned, quarantined = clean(spark, {
        NEXT_DAY_FILE: [ev("e1", event_time="2026-11-20T12:00:00Z")],
        FILE: [ev("e1"), ev("e1"), ev("e2", user_id=None)],
    })
    assert quarantined == []
    assert cleaned["e1"]["copies"] == 3 and cleaned["e2"]["copies"] == 1
    assert cleaned["e1"]["source_file"].endswith("-abc.gz")  # the earlier arrival wins
    assert cleaned["e2"]["user_id"] is None


@pytest.mark.parametrize("broadcast_limit", [1_000_000, 0])  # 0: too many repeated ids, aggregate all
def test_copies_judged_separately_and_tied_copies_give_one_row(spark, monkeypatch, broadcast_limit):
    monkeypatch.setattr("recmart.transforms.clean.MAX_REPEATED_IDS", broadcast_limit)
    cleaned, quarantined = clean(spark, {
        # A rejected copy is quarantined, not counted as a duplicate of the valid one.
        FILE: [ev("e1"), ev("e1", price="cheap"),
               # Exact copies in one file (a producer retry) tie on every key: one row.
               ev("e2", extra="a"), ev("e2", extra="b"), ev("e2", extra="a")],
    })
    assert {k: r["copies"] for k, r in cleaned.items()} == {"e1": 1, "e2": 3}
    assert [(q["event_id"], q["reason"]) for q in quarantined] == [("e1", "invalid_price")]


def test_line_separators_inside_json_strings_are_not_corrupt(spark):
    line = json.dumps({**json.loads(ev()), "page_url": "/p1?q=a\u2028b"}, ensure_ascii=False)
    assert "\u2028" in line
    cleaned, quarantined = clean(spark, {FILE: [line]})
    assert quarantined == [] and cleaned["e1"]["page_url"] == "/p1?q=a\u2028b"


def test_time_is_utc_and_pii_is_hashed(spark):
    cleaned, _ = clean(spark, {FILE: [ev(event_time="2026-11-20T13:30:00.25+01:00")]})
    row = cleaned["e1"]
    assert row["event_time"] == dt.datetime(2026, 11, 20, 12, 30, 0, 250000)
    assert len(row["ip_hash"]) == 64 and "10.0.0.1" not in row["ip_hash"]
    assert set(CURATED_CLEANED_EVENTS.column_names) == set(row.asDict())
    assert "ip" not in row.asDict() and "user_agent" not in row.asDict()


def test_matrix_counts_distinct_events_and_non_cancelled_orders(spark):
    t = lambda h: dt.datetime(2026, 11, 20, h, tzinfo=dt.timezone.utc)  # noqa: E731
    events = spark.createDataFrame(
        [("e1", "view", t(9), "u1", "p1"), ("e2", "view", t(10), "u1", "p1"),
         ("e3", "add_to_cart", t(11), "u1", "p1"), ("e4", "remove_from_cart", t(12), "u1", "p1"),
         ("e5", "view", t(9), None, "p1"), ("e6", "view", t(9), "u2", "p2")],
        "event_id string, event_type string, event_time timestamp, user_id string, product_id string",
    )
    tx = spark.createDataFrame(
        [("o1", "u1", t(13), "paid", 1, "p1", 2, Decimal("10.25")),
         ("o1", "u1", t(13), "paid", 2, "p1", 1, Decimal("10.25")),
         ("o2", "u1", t(14), "shipped", 1, "p1", 1, Decimal("9.99")),
         ("o3", "u1", t(15), "cancelled", 1, "p1", 5, Decimal("1.00")),
         ("o4", "u3", t(16), "paid", 1, "p9", 1, Decimal("5.00")),
         ("o5", None, t(16), "paid", 1, "p9", 1, Decimal("5.00"))],
        RAW_TRANSACTIONS.spark_schema(),
    )
    rows = {(r["user_id"], r["product_id"]): r for r in interaction_matrix(events, tx).collect()}
    assert set(rows) == {("u1", "p1"), ("u2", "p2"), ("u3", "p9")}
    u1 = rows[("u1", "p1")]
    assert (u1["views"], u1["add_to_carts"], u1["remove_from_carts"]) == (2, 1, 1)
    assert (u1["purchases"], u1["units"], u1["revenue"]) == (2, 4, Decimal("40.74"))
    assert u1["first_event_time"] == dt.datetime(2026, 11, 20, 9) and u1["last_event_time"] == dt.datetime(2026, 11, 20, 14)
    u3 = rows[("u3", "p9")]
    assert (u3["views"], u3["purchases"], u3["revenue"]) == (0, 1, Decimal("5.00"))
    assert list(interaction_matrix(events, tx).columns) == CURATED_INTERACTION_MATRIX.column_names


def test_scores_decay_by_half_life_within_the_window(spark):
    def m(day, views, purchases=0):
        return ("u1", "p1", views, 0, 0, purchases, purchases, Decimal(0), dt.datetime(2026, 11, 1),
                dt.datetime(2026, 11, 1), dt.date.fromisoformat(day))
    matrices = spark.createDataFrame(
        [m("2026-11-20", 1), m("2026-11-13", 2), m("2026-11-06", 0, 1), m("2026-10-01", 100)],
        CURATED_INTERACTION_MATRIX.spark_schema(with_partition=True),
    )
    settings = ScoreSettings(window_days=30, half_life_days=7.0, purchase_weight=10.0)
    (row,) = interaction_scores(matrices, DAY, settings).collect()
    assert row["score"] == pytest.approx(1 + 2 * 0.5 + 10 * 0.25)
    assert (row["views"], row["purchases"], row["active_days"]) == (3, 1, 3)


def test_score_settings_reject_nonsense():
    with pytest.raises(ValueError, match="half_life_days"):
        ScoreSettings(half_life_days=0)


TIMES = [
    "2026-11-20T12:00:00Z", "2026-11-20t12:00:30z", "2026-11-20 12:00:00+01:00", "2026-11-20T12:00Z",
    "2026-11-20T12:00+0530", "2026-11-20T12:00:00,25-02", "2026-11-20T12:00:00.123456789Z",
    " 2026-11-20T12:00:00-00:00 ", "2026-11-20T12:00:00+18:00",
    # refused by both
    "2026-11-20T12:00:00", "2026-11-20", "20/11/2026 12:00Z", "2026-11-20T24:00:00Z", "2026-02-30T12:00:00Z",
    "2026-11-20T12:00:00 Z", "", "noon", "2026-11-20T12:00:00+18:30", "2026-11-20T12:00:00-19",
]


def test_batch_and_real_time_paths_read_the_same_times_the_same_way(spark):
    from recmart.realtime.timeutil import parse_iso_with_zone
    from recmart.transforms.events import event_timestamp

    def real_time(text):
        try:
            return parse_iso_with_zone(text).replace(tzinfo=None)
        except ValueError:
            return None

    df = spark.createDataFrame([(t,) for t in TIMES], "t string")
    batch = {r["t"]: r["ts"] for r in df.select("t", event_timestamp("t").alias("ts")).collect()}
    assert batch == {t: real_time(t) for t in TIMES}
    assert sum(v is not None for v in batch.values()) == 9
    assert batch["2026-11-20T12:00:00+18:30"] is None  # beyond ±18:00: no zone has it
