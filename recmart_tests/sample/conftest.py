"""A small seeded sample store shared by the sample tests, and readers of what it landed."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from recmart.sample.seed import seed_sample
from recmart.tables import EVENT_TYPES, REQUIRED_CLICK_FIELDS

START = dt.date(2024, 5, 1)
DAYS = 3
EVENTS_PER_DAY = 6_000
SEED = 11
ARGS = dict(start=START, days=DAYS, events_per_day=EVENTS_PER_DAY, users=400, seed=SEED, catalogue=None,
            products=300, progress=False)

KEY = re.compile(
    r"landing/clickstream/(\d{4})/(\d{2})/(\d{2})/(\d{2})/recmart-clicks-1-"
    r"(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-"
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    r"(\.gz)?$"
)
ISO_WITH_ZONE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class Landed:
    key: str
    arrival: dt.datetime
    line: str


def read_landing(lake: Path) -> list[Landed]:
    """Every landed line, file by file in key order."""
    out = []
    for path in sorted((lake / "landing" / "clickstream").rglob("*")):
        if not path.is_file():
            continue
        key = path.relative_to(lake).as_posix()
        m = KEY.match(key)
        assert m, f"not a Firehose key: {key}"
        arrival = dt.datetime(*map(int, m.groups()[4:10]), tzinfo=dt.timezone.utc)
        data = path.read_bytes()
        text = (gzip.decompress(data) if key.endswith(".gz") else data).decode("utf-8")
        assert text.endswith("\n")
        out += [Landed(key, arrival, line) for line in text[:-1].split("\n")]
    return out


def problem(line: str) -> str | None:
    """The malformed kind of a line, judged the way cleaning judges it; None when it is valid."""
    try:
        event = json.loads(line)
    except ValueError:
        return "not_json"
    if not isinstance(event, dict):
        return "not_json"
    if any(not isinstance(event.get(f), str) or not event[f].strip() for f in REQUIRED_CLICK_FIELDS):
        return "missing_field"
    if event["event_type"] not in EVENT_TYPES:
        return "bad_event_type"
    if not ISO_WITH_ZONE.match(event["event_time"]):
        return "naive_event_time"
    price = event.get("price")
    if "price" in event and (isinstance(price, bool) or not isinstance(price, (int, float)) or price < 0):
        return "bad_price"
    return None


def event_time(event: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(event["event_time"].replace("Z", "+00:00")).astimezone(dt.timezone.utc)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory):
    """(lake folder, source database URL, summary) of a 3-day sample store."""
    root = tmp_path_factory.mktemp("store")
    url = f"sqlite:///{root / 'source.db'}"
    summary = seed_sample(str(root / "lake"), url, **ARGS)
    return root / "lake", url, summary


@pytest.fixture(scope="session")
def landed(seeded) -> list[Landed]:
    return read_landing(seeded[0])
