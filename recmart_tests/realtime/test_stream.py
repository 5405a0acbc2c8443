"""The local stream: Kinesis-shaped batches to the handler, Firehose-layout files to the lake."""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from recmart.realtime.cli import stream_command
from recmart.realtime.dead_letters import MemoryDeadLetters
from recmart.realtime.firehose import FirehoseWriter
from recmart.realtime.handler import Handler
from recmart.realtime.store.sqlite import SqliteStore
from recmart.realtime.stream import EventSourceMapping, StreamStats, run_stream

from .factories import click

START = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
FIREHOSE_KEY = re.compile(
    r"^landing/clickstream/(\d{4})/(\d{2})/(\d{2})/(\d{2})/recmart-clicks-1-"
    r"(\d{4})-(\d{2})-(\d{2})-(\d{2})-\d{2}-\d{2}-[0-9a-f-]{36}\.gz$")


def fake_clicks(n: int, every_seconds: float = 10.0, start: datetime = START):
    for i in range(n):
        t = start + timedelta(seconds=i * every_seconds)
        yield click(f"e{i}", f"P{i % 7}", user_id=f"u{i % 5}" if i % 4 else None,
                    event_time=t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def read_landed(lake) -> list[dict]:
    lines = []
    for path in sorted(lake.rglob("*.gz")):
        lines += [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    return lines


def test_firehose_files_land_every_buffer_interval_in_the_arrival_hour(tmp_path):
    writer = FirehoseWriter(str(tmp_path), buffer_seconds=300, buffer_bytes=10**9)
    for i, c in enumerate(fake_clicks(120, every_seconds=30, start=START + timedelta(minutes=30))):
        writer.add(c, START + timedelta(minutes=30, seconds=30 * i))
    writer.flush()
    assert len(writer.files) == 12 and writer.records == 120  # one hour in five-minute files
    for key in writer.files:
        m = FIREHOSE_KEY.match(key)
        assert m, key
        assert m.group(1, 2, 3, 4) == m.group(5, 6, 7, 8)  # the folder is the file's arrival hour
    assert {k.split("/")[5] for k in writer.files} == {"10", "11"}
    assert len(read_landed(tmp_path)) == 120
    assert not list(tmp_path.rglob(".*"))  # no temporary files left behind


def test_firehose_delivers_early_when_the_buffer_is_full(tmp_path):
    writer = FirehoseWriter(str(tmp_path), buffer_seconds=300, buffer_bytes=1000)
    for c in fake_clicks(40, every_seconds=1):
        writer.add(c, START)
    writer.flush()
    assert len(writer.files) > 5 and writer.records == 40
    assert all(len(gzip.decompress((tmp_path / k).read_bytes())) <= 1000 for k in writer.files)


def test_run_stream_feeds_both_consumers(tmp_path):
    store = SqliteStore(tmp_path / "recs.sqlite")
    letters = MemoryDeadLetters()
    stats = StreamStats()
    mapping = EventSourceMapping(Handler(store, letters), stats, batch_size=100, window_seconds=3600)
    firehose = FirehoseWriter(str(tmp_path / "lake"))
    clicks = list(fake_clicks(250)) + [b"not json at all"]
    sleeps = []
    run_stream(clicks, mapping, firehose, START, speedup=100, pace=True, sleep=sleeps.append,
               wall_clock=lambda: 0.0)
    assert stats.events == 251 and stats.batches == 3 and stats.dropped == 0
    assert stats.malformed == 1 and len(letters.letters) == 1
    assert stats.anonymous == len([c for c in clicks[:250] if c["user_id"] is None])
    assert store.get_history("u1").events and store.get_recommendations("u1") is not None
    # Firehose lands every line as it came, the malformed one included (cleaning quarantines it).
    raw = b"".join(gzip.decompress(p.read_bytes()) for p in sorted((tmp_path / "lake").rglob("*.gz")))
    assert raw.count(b"\n") == 251 and b"not json at all" in raw
    # Pacing follows simulated time: 2,490 simulated seconds at 100x is 24.9 wall seconds.
    assert round(max(sleeps), 2) == 24.9


def test_failed_batches_are_retried_from_the_lowest_failure(tmp_path):
    from .test_handler import FlakyStore

    store = FlakyStore(SqliteStore(tmp_path / "recs.sqlite"), fail_users={"u2"})
    stats = StreamStats()
    mapping = EventSourceMapping(Handler(store, MemoryDeadLetters()), stats, batch_size=10, window_seconds=3600,
                                  max_attempts=3)
    run_stream(fake_clicks(10), mapping, FirehoseWriter(str(tmp_path / "lake")), START, pace=False)
    assert stats.batches == 3 and stats.retried_batches == 2
    assert stats.dropped == 8  # u2's first click is the 3rd: the rest is given up after 3 attempts


def test_stream_command(tmp_path):
    calls = {}

    def source(source_db, start, end, events_per_day, seed, malformed_share, duplicate_share):
        calls.update(source_db=source_db, start=start, end=end, events_per_day=events_per_day, seed=seed)
        return fake_clicks(1000, start=start)

    lake, store_path = tmp_path / "lake", tmp_path / "recs.sqlite"
    result = CliRunner().invoke(stream_command(source), [
        "--events", "300", "--rate", "50", "--speedup", "120", "--no-pace", "--start", "2026-11-20",
        "--lake", str(lake), "--store", f"sqlite:///{store_path}", "--source-db", "sqlite:///x.db"])
    assert result.exit_code == 0, result.output
    assert "300 clicks" in result.output
    assert calls["events_per_day"] == 50 * 86_400 // 120 and calls["start"] == START - timedelta(hours=10)
    assert len(read_landed(lake)) == 300
    assert SqliteStore(store_path).get_recommendations("u1") is not None


def test_stream_command_reports_bad_settings(tmp_path):
    def source(*args):
        raise AssertionError("the settings are checked before any click is read")

    result = CliRunner().invoke(stream_command(source), ["--events", "1", "--store", "redis://nope"])
    assert result.exit_code == 2 and "RECMART_RECS_STORE" in result.output


def test_stream_of_the_sample_store_end_to_end(tmp_path):
    """`recmart stream` as the user runs it: the group composes the stream with the sample store's clicks."""
    from recmart.cli import main
    from recmart.sample.seed import seed_sample

    source_db = f"sqlite:///{tmp_path}/source.db"
    seed_sample(str(tmp_path / "seeded-lake"), source_db, START.date(), 1, 300, 40, 42, None, products=150,
                progress=False)
    lake, store_path = tmp_path / "lake", tmp_path / "recs.sqlite"
    result = CliRunner().invoke(main, [
        "stream", "--events", "400", "--rate", "20", "--speedup", "600", "--no-pace", "--start", "2026-11-20T12:00:00Z",
        "--malformed-share", "0.02", "--duplicate-share", "0.05",
        "--lake", str(lake), "--store", f"sqlite:///{store_path}", "--source-db", source_db])
    assert result.exit_code == 0, result.output
    assert "400 clicks" in result.output
    landed = b"".join(gzip.decompress(p.read_bytes()) for p in lake.rglob("*.gz")).splitlines()
    assert len(landed) == 400
    for key in (str(p.relative_to(lake)) for p in lake.rglob("*.gz")):
        assert FIREHOSE_KEY.match(key), key
    store = SqliteStore(store_path)
    users = store._query("SELECT user_id FROM recommendations")
    assert users and store.get_recommendations(users[0][0])["updated_at"] >= "2026-11-20T12"


def test_stream_of_a_missing_sample_store_says_how_to_make_one(tmp_path):
    from recmart.cli import main

    result = CliRunner().invoke(main, ["stream", "--events", "1", "--store", f"sqlite:///{tmp_path}/recs.sqlite",
                                       "--source-db", f"sqlite:///{tmp_path}/absent.db", "--lake", str(tmp_path)])
    assert result.exit_code == 1 and "cannot read the sample store" in result.output
    assert "run `recmart seed` first" in result.output
