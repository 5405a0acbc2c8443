"""Issue 11, "done means": a held-out store runs exactly. A store database written the way another
program writes one (plain sqlite3, its own DDL, `created_at` as text in several spellings) and
Firehose files written by hand (gzip, multi-member gzip and plain, CRLF, late and early events,
duplicates, malformed lines) go through the real jobs on the local engine (DuckDB; Spark must not
be asked for anything); every row of every partition of curated_interaction_matrix, and with it
every cleaned event and quarantined line of the day, must equal a computation written here, in
plain Python, from the same inputs and the contract alone (docs/design.md, the tables'
definitions in recmart/tables.py, README's quarantine reasons):

- an order belongs to the UTC day of its `created_at` (no zone = UTC); purchases are the distinct
  orders that are not cancelled, units and revenue their items, identified users only;
- an event belongs to the UTC day of its `event_time` (ISO-8601 with a zone); the same event_id
  twice is one event; a line that is no JSON object, lacks a required field, has another
  event_type, a time without a zone or an unreadable one, a price that is no number, a time more
  than 60 minutes after its file's arrival or more than 7 days before it, is refused;
- the matrix has one row per (identified user, product) of the day: views, add_to_carts,
  remove_from_carts, purchases, units, revenue, first_event_time, last_event_time (over the
  day's clicks and orders of the pair).

Twice: `daily_refresh` day by day, the late-events sensor's runs after each (its clock held to
the day the schedule would run at), checked after every day; then a backfill of the range on a
fresh lake, as `recmart materialize --start A --end B` runs it (`materialize_days`).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
import re
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from recmart.resources.spark import SparkStepRunner

UTC = dt.timezone.utc
DAYS = ["2026-11-10", "2026-11-11", "2026-11-12"]  # the range the backfill runs
LANDING_DAYS = [*DAYS, "2026-11-13"]  # the day after the range holds late events of it
FUTURE_SKEW = dt.timedelta(minutes=60)
MAX_LATE = dt.timedelta(days=7)
EVENT_TYPES = ("view", "add_to_cart", "remove_from_cart")
REQUIRED = ("event_id", "event_type", "event_time", "session_id", "product_id")
MATRIX_COLUMNS = ["user_id", "product_id", "views", "add_to_carts", "remove_from_carts", "purchases", "units",
                  "revenue", "first_event_time", "last_event_time"]
USERS = [*(f"u{k}" for k in range(1, 7)), "josé"]
PRODUCTS = [f"p{k}" for k in range(1, 9)]


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


# ---- the landing files, as Firehose (or another program) writes them -------------------------

@dataclass
class Landed:
    arrival: dt.datetime  # UTC: the time in the file name and its hour folder
    lines: list[bytes]
    gz: bool = True
    members: int = 1  # gzip members, concatenated (the format allows it)
    newline: bytes = b"\n"
    last_newline: bool = True  # False: the last line ends the file without one
    uid: str = "0"
    name: str | None = None  # a file not named by Firehose: it arrives at the end of its hour folder

    @property
    def day(self) -> str:
        return self.arrival.date().isoformat()

    @property
    def key(self) -> str:
        a = self.arrival
        if self.name is not None:
            assert a.minute == a.second == 59, "a file named otherwise arrives at its hour's last second"
            return f"landing/clickstream/{a:%Y/%m/%d/%H}/{self.name}"
        return (f"landing/clickstream/{a:%Y/%m/%d/%H}/clickstream-to-s3-1-{a:%Y-%m-%d-%H-%M-%S}-"
                f"{self.uid}-4b1e-9c1d-{self.uid:0>12}" + (".gz" if self.gz else ""))

    def write(self, lake: Path) -> None:
        path = lake / self.key
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.gz:
            data = b"".join(line + self.newline for line in self.lines)
            path.write_bytes(data if self.last_newline else data.removesuffix(self.newline))
            return
        size = -(-len(self.lines) // self.members)
        parts = [self.lines[k:k + size] for k in range(0, len(self.lines), size)]
        path.write_bytes(b"".join(gzip.compress(b"".join(line + self.newline for line in part)) for part in parts))


def click(event_id: str, event_type: str, time: str, user: str | None, product: str, **extra) -> bytes:
    rec = {"event_id": event_id, "event_type": event_type, "event_time": time, "session_id": f"s-{user}",
           "user_id": user, "product_id": product, "device": "mobile", "ip": "203.0.113.9",
           "user_agent": "Mozilla/5.0 (X11)", **extra}
    # Half compact and in UTF-8 (`josé` as its bytes), half spaced and ASCII (`jos\u00e9`).
    odd = len(event_id) % 2 == 1
    return json.dumps(rec, separators=(",", ":") if odd else (", ", ": "), ensure_ascii=not odd).encode()


def spell(t: dt.datetime, style: int) -> str:
    """One UTC time in one of the ISO-8601 spellings with a zone a producer may send."""
    def at(hours: int, minutes: int = 0) -> dt.datetime:
        return t.astimezone(dt.timezone(dt.timedelta(hours=hours, minutes=minutes)))
    return [
        lambda: f"{t:%Y-%m-%dT%H:%M:%S}Z",
        lambda: f"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond // 1000:03d}Z",
        lambda: t.isoformat(timespec="microseconds"),  # +00:00
        lambda: at(5, 30).isoformat(timespec="seconds"),
        lambda: at(-8).isoformat(timespec="milliseconds"),
        lambda: f"{at(1):%Y-%m-%dT%H:%M:%S}+01",  # hours only
        lambda: f"{t:%Y-%m-%d %H:%M:%S}Z",  # a space for the T
        lambda: f"{t:%Y-%m-%dT%H:%M:%S},{t.microsecond:06d}Z",  # a comma before the fraction
        lambda: f"{at(2):%Y-%m-%dT%H:%M:%S}+0200",  # basic-format offset
        lambda: f"{t:%Y-%m-%dT%H:%M}Z",  # no seconds
        lambda: f"{at(-3, -30):%Y-%m-%dT%H:%M:%S.%f}-03:30",
    ][style % 11]()


def generated(day: str, rng: random.Random) -> list[Landed]:
    """A day's ordinary traffic: three files, ~30 events over users and anonymous visitors."""
    files = []
    start = utc(f"{day}T00:00:00")
    for n, hour in enumerate((6, 14, 22)):
        arrival = start + dt.timedelta(hours=hour, minutes=5)
        lines = []
        for k in range(10):
            t = start + dt.timedelta(hours=rng.uniform(hour - 7.9, hour), microseconds=rng.randrange(10**6))
            t = max(t, start)
            user = rng.choice([*USERS, None])
            kind = rng.choices(EVENT_TYPES, weights=(6, 3, 1))[0]
            extra = {"price": round(rng.uniform(1, 90), 2)} if k % 3 == 0 else {}
            lines.append(click(f"g-{day}-{n}-{k}", kind, spell(t, rng.randrange(11)), user, rng.choice(PRODUCTS), **extra))
        if n == 1:
            lines.append(lines[3])  # a producer retry within the file
        files.append(Landed(arrival, lines, gz=n != 2, uid=f"{day.replace('-', '')}{n}"))
    return files


def hand_written() -> list[Landed]:
    """The edges: midnight, offsets across midnight, clocks ahead, late arrivals (within 7 days and
    beyond), the future bound, retries across days, and lines that must be refused."""
    bad = [
        b"{not json", b"[1, 2, 3]", b"",
        click("bad-no-zone", "view", "2026-11-10T10:00:00", "u1", "p1"),
        click("bad-date", "view", "2026-02-30T10:00:00Z", "u1", "p1"),
        click("bad-epoch", "view", "1731232800", "u1", "p1"),
        click("bad-type", "purchase", "2026-11-10T10:00:00Z", "u1", "p1"),
        click("bad-type-case", "VIEW", "2026-11-10T10:00:00Z", "u1", "p1"),
        click("bad-price", "view", "2026-11-10T10:00:00Z", "u1", "p1", price="abc"),
        json.dumps({"event_id": "bad-missing", "event_type": "view", "event_time": "2026-11-10T10:00:00Z",
                    "user_id": "u1", "product_id": "p1"}).encode(),
        b'{"event_id": "bad-utf8", "event_type": "view", "event_time": "2026-11-10T10:00:00Z", '
        b'"session_id": "s", "user_id": "u\xff", "product_id": "p1"}',
    ]
    return [
        Landed(utc("2026-11-10T00:20:00"), [
            click("mid-10", "view", "2026-11-10T00:00:00Z", "u1", "p1"),
            click("mid-10-offset", "add_to_cart", "2026-11-10T01:00:00+01:00", "u1", "p1"),  # 00:00 UTC
            click("anon-null", "view", "2026-11-10T00:10:00Z", None, "p1"),
            json.dumps({"event_id": "anon-absent", "event_type": "view", "event_time": "2026-11-10T00:11:00Z",
                        "session_id": "s-x", "product_id": "p2", "campaign": "black-friday"}).encode(),
        ], gz=False, newline=b"\r\n", uid="a"),
        Landed(utc("2026-11-10T14:05:00"), [
            click("future-edge", "view", "2026-11-10T15:05:00Z", "u2", "p2"),  # exactly 60 min ahead: kept
            click("future", "view", "2026-11-10T15:05:01Z", "u2", "p2"),  # one second more: refused
            click("retry-x", "remove_from_cart", "2026-11-10T14:00:00.5Z", "u2", "p3"),
            click("retry-x", "remove_from_cart", "2026-11-10T14:00:00.5Z", "u2", "p3"),
            click("unknown-product", "view", "2026-11-10T13:00:00Z", "u2", "p99"),
            *bad,
        ], members=3, uid="b"),
        Landed(utc("2026-11-10T23:50:00"), [
            click("ahead-11", "view", "2026-11-11T00:20:00+00:00", "u3", "p4"),  # clock ahead: day 11
            click("back-10", "view", "2026-11-11T00:30:00+01:00", "u3", "p4"),  # 23:30 UTC: day 10
            click("last-10", "add_to_cart", "2026-11-10T23:59:59.999999Z", "u3", "p4"),
        ], uid="c"),
        Landed(utc("2026-11-11T10:00:00"), [
            click("late-7d", "view", "2026-11-04T10:00:00Z", "u4", "p5"),  # exactly 7 days: kept, day 04
            click("late-7d-1s", "view", "2026-11-04T09:59:59Z", "u4", "p5"),  # older: refused
            click("mid-11-minus", "view", "2026-11-10T23:00:00-01:00", "u4", "p5"),  # 00:00 UTC of day 11
            click("kiribati", "view", "2026-11-11T23:30:00+14:00", "u5", "p6"),  # 09:30 UTC
        ], uid="d"),
        # Dropped into the prefix by hand: no arrival time in its name (README: the end of its hour).
        Landed(utc("2026-11-11T15:59:59"), [
            click("by-hand", "view", "2026-11-11T15:30:00Z", "u6", "p2"),
            click("by-hand-ahead", "view", "2026-11-11T16:59:59Z", "u6", "p2"),  # 60 min after 15:59:59
        ], gz=False, name="manual-upload.json"),
        Landed(utc("2026-11-12T00:04:00"), [
            click("mid-12", "remove_from_cart", "2026-11-12T00:00:00.000Z", "u5", "p6"),
            click("retry-y", "add_to_cart", "2026-11-12T00:01:30Z", "u5", "p6"),
            click("lower-case", "view", "2026-11-12t00:02:00z", "josé", "p6"),  # RFC 3339 allows it
        ], gz=False, uid="e"),
        # After midnight: the last minutes of the range's last day, and a retry of one of its events.
        Landed(utc("2026-11-13T00:03:00"), [
            click("late-12", "view", "2026-11-12T23:59:59Z", "u6", "p8"),
            click("late-12-nanos", "view", "2026-11-12T23:59:59.999999999Z", "u6", "p8"),  # Go's RFC3339Nano
            click("late-12-offset", "add_to_cart", "2026-11-13T00:59:00+01:00", "u5", "p7"),  # 23:59 UTC
            click("retry-y", "add_to_cart", "2026-11-12T00:01:30Z", "u5", "p6"),
            click("late-12-b", "view", "2026-11-12T21:00:00-03:00", "u1", "p5"),  # 13-00:00 UTC: day 13
        ], members=2, uid="f"),
        Landed(utc("2026-11-13T09:00:00"), [
            click("late-3d", "add_to_cart", "2026-11-10T09:00:00Z", "u1", "p1"),  # reaches day 10
            click("own-13", "view", "2026-11-13T08:00:00Z", "u2", "p1"),
            click("josé-13", "add_to_cart", "2026-11-13T08:30:00Z", "josé", "p2"),
        ], gz=False, last_newline=False, uid="g"),
    ]


def landing_files() -> list[Landed]:
    rng = random.Random(11)
    return hand_written() + [f for day in LANDING_DAYS for f in generated(day, rng)]


# ---- the store's database, as another program writes it -------------------------------------

# (order_id, user_id, created_at as the program wrote it, status, [(line_no, product, quantity, unit_price)])
ORDERS = [
    ("o-before", "u1", "2026-11-09 23:59:59.999999", "paid", [(1, "p1", 1, 19.99)]),  # day 09: no day run
    ("o-last-10", "u2", "2026-11-10 23:59:59", "shipped", [(1, "p3", 1, 7.5)]),
    ("o-t", "u3", "2026-11-10T12:30:00", "paid", [(1, "p4", 1, 12.0), (2, "p4", 2, 12.0), (3, "p1", 1, 0.1)]),
    ("o-frac", "u2", "2026-11-10 08:00:00.250", "paid", [(1, "p2", 3, 5.01)]),
    ("o-mid-11", "u1", "2026-11-11 00:00:00", "paid", [(1, "p1", 2, 19.99), (2, "p2", 1, 5.01)]),
    ("o-plus", "u4", "2026-11-12T00:30:00+01:00", "paid", [(1, "p5", 1, 1234.56)]),  # 11-11 23:30 UTC
    ("o-z", "u4", "2026-11-12T00:00:00Z", "paid", [(1, "p5", 1, 1234.56)]),  # day 12
    ("o-minus", "u5", "2026-11-11T23:30:00-01:00", "shipped", [(1, "p6", 4, 2.25)]),  # 11-12 00:30 UTC
    ("o-cancelled", "u1", "2026-11-12 09:00:00", "cancelled", [(1, "p1", 9, 19.99)]),
    ("o-guest", None, "2026-11-12 10:00:00", "paid", [(1, "p1", 1, 19.99)]),
    ("o-no-items", "u6", "2026-11-12 11:00:00", "paid", []),
    ("o-12a", "u1", "2026-11-12T18:45:10.5Z", "paid", [(1, "p5", 1, 99.99)]),
    ("o-12b", "u1", "2026-11-12 19:00", "shipped", [(1, "p5", 2, 99.99), (2, "p8", 1, 3.33)]),
    ("o-unknown", "u2", "2026-11-12 20:00:00", "paid", [(1, "p99", 1, 1.0)]),
    ("o-josé", "josé", "2026-11-12T23:59:59.999999", "paid", [(1, "p6", 1, 8.0)]),
    ("o-mid-13", "u3", "2026-11-13T00:00:00.000+00:00", "paid", [(1, "p7", 1, 45.0)]),  # day 13: no backfill
    ("o-13", "u2", "2026-11-13 00:00:00", "paid", [(1, "p1", 1, 19.99)]),
]


def write_store(path: Path) -> str:
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE users (user_id TEXT PRIMARY KEY, email TEXT, name TEXT, gender TEXT, birth_year INTEGER,
                            city TEXT, country TEXT, signup_at TEXT);
        CREATE TABLE products (product_id TEXT PRIMARY KEY, name TEXT, gender TEXT, master_category TEXT,
                               sub_category TEXT, article_type TEXT, base_colour TEXT, season TEXT, year INTEGER,
                               usage TEXT, price REAL);
        CREATE TABLE orders (order_id TEXT PRIMARY KEY, user_id TEXT REFERENCES users(user_id),
                             created_at TEXT NOT NULL, status TEXT NOT NULL);
        CREATE INDEX orders_created_at ON orders (created_at);
        CREATE TABLE order_items (order_id TEXT NOT NULL REFERENCES orders(order_id), line_no INTEGER NOT NULL,
                                  product_id TEXT NOT NULL, quantity INTEGER NOT NULL,
                                  unit_price DECIMAL(10, 2) NOT NULL, PRIMARY KEY (order_id, line_no));
    """)
    spellings = ["2026-01-0{} 00:00:00", "2026-01-0{}T08:00:00Z", "2026-01-0{} 09:30:00.123456"]
    con.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
        (u, f"{u}@example.org", f"User {u}", "Women", 1980 + k, "Lisboa", "PT", spellings[k % 3].format(k + 1))
        for k, u in enumerate(USERS)
    ])
    con.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        (p, f"Product {p}", "Men", "Apparel", "Topwear", "Tshirts", "Navy Blue", "Fall", 2024, "Casual", 10.0 + k)
        for k, p in enumerate(PRODUCTS)
    ])
    con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", [o[:4] for o in ORDERS])
    con.executemany("INSERT INTO order_items VALUES (?, ?, ?, ?, ?)",
                    [(o[0], *item) for o in ORDERS for item in o[4]])
    con.commit()
    con.close()
    return f"sqlite:///{path}"


# ---- the independent computation -----------------------------------------------------------------

# ISO-8601 / RFC 3339: `T` or a space (either case, as RFC 3339 allows), seconds and their fraction
# optional, `Z` or an offset of hours and optional minutes. Kept to the microsecond, the rest cut.
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
                  r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?")


def parse_time(text: object, zone_required: bool) -> dt.datetime | None:
    m = _ISO.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, z, sign, oh, om = m.groups()
    if zone_required and not (z or sign):
        return None
    if int(om or 0) > 59 or int(oh or 0) > 18:
        return None
    try:
        local = dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), int((frac or "").ljust(6, "0")[:6]))
    except ValueError:
        return None
    offset = dt.timedelta(hours=int(oh or 0), minutes=int(om or 0)) * (-1 if sign == "-" else 1)
    return (local - offset).replace(tzinfo=UTC)


def judge(line: bytes, arrival: dt.datetime) -> tuple[str | None, dict | None, dt.datetime | None]:
    """(the reason the contract refuses the line for, or None; its record; its UTC time), the
    reasons named as README's "Nothing lost" names them, the first one broken."""
    try:
        rec = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return "not_utf8", None, None
    except ValueError:
        return "malformed_json", None, None
    if not isinstance(rec, dict):
        return "malformed_json", None, None
    t = parse_time(rec.get("event_time"), zone_required=True)
    if any(not isinstance(rec.get(f), str) or not rec[f].strip() for f in REQUIRED):
        return "missing_field", rec, t
    if rec["event_type"] not in EVENT_TYPES:
        return "invalid_event_type", rec, t
    if t is None:
        return "invalid_event_time", rec, t
    if t > arrival + FUTURE_SKEW:
        return "event_time_in_future", rec, t
    if t < arrival - MAX_LATE:
        return "arrived_too_late", rec, t
    price = rec.get("price")
    if price is not None and (isinstance(price, bool) or not isinstance(price, (int, float)) or price < 0):
        return "invalid_price", rec, t
    return None, rec, t


def _landed_lines(files: list[Landed], landed_days: set[str]):
    for f in sorted(files, key=lambda f: (f.arrival, f.key)):  # in the order they landed
        if f.day in landed_days:
            for line in f.lines:
                yield f, judge(line, f.arrival)


def events_by_day(files: list[Landed], landed_days: set[str]) -> dict[str, dict[str, list]]:
    """The distinct events of each UTC day landed on `landed_days`: [record, time, copies], the
    first copy to land kept."""
    days: dict[str, dict[str, list]] = defaultdict(dict)
    for _, (reason, rec, t) in _landed_lines(files, landed_days):
        if reason is None and rec is not None and t is not None:
            days[t.date().isoformat()].setdefault(rec["event_id"], [rec, t, 0])[2] += 1
    return days


def expected_quarantine(files: list[Landed], landed_days: set[str]) -> dict[str, Counter]:
    """Per day, the refused lines as (event_id, reason): a refused line whose time is plausible for
    its arrival stays with its event day, any other with its arrival day (raw_clickstream's doc)."""
    days: dict[str, Counter] = defaultdict(Counter)
    for f, (reason, rec, t) in _landed_lines(files, landed_days):
        if reason is not None:
            plausible = t is not None and f.arrival - MAX_LATE <= t <= f.arrival + FUTURE_SKEW
            event_id = rec.get("event_id") if rec is not None and isinstance(rec.get("event_id"), str) else None
            days[(t if plausible else f.arrival).date().isoformat()][(event_id, reason)] += 1
    return days


def expected_matrix(day: str, files: list[Landed], landed_days: set[str], with_orders: bool) -> dict:
    views: dict = defaultdict(lambda: {"view": 0, "add_to_cart": 0, "remove_from_cart": 0})
    times: dict = defaultdict(list)
    bought: dict = defaultdict(lambda: [set(), 0, Decimal("0")])
    for rec, t, _ in events_by_day(files, landed_days)[day].values():
        if rec.get("user_id") is None:
            continue
        pair = (rec["user_id"], rec["product_id"])
        views[pair][rec["event_type"]] += 1
        times[pair].append(t)
    if with_orders:
        for order_id, user, created_at, status, items in ORDERS:
            t = parse_time(created_at, zone_required=False)
            assert t is not None, created_at
            if t.date().isoformat() != day or status == "cancelled" or user is None:
                continue
            for _, product, quantity, unit_price in items:
                pair = (user, product)
                bought[pair][0].add(order_id)
                bought[pair][1] += quantity
                bought[pair][2] += quantity * Decimal(str(unit_price))
                times[pair].append(t)
    out = {}
    for pair in times:
        v, (orders, units, revenue) = views[pair], bought[pair]
        out[pair] = (v["view"], v["add_to_cart"], v["remove_from_cart"], len(orders), units,
                     revenue.quantize(Decimal("0.01")), min(times[pair]), max(times[pair]))
    return out


def derived_days(files: list[Landed], landed_days: set[str], run_days: set[str]) -> set[str]:
    """The event days a run has derived: the days run, and the days of the events they landed."""
    return run_days | {d for d in events_by_day(files, landed_days) if d <= max(run_days)}


# ---- the lake, read back without recmart -------------------------------------------------------

def matrix_days(lake: Path) -> set[str]:
    root = lake / "curated/interaction_matrix"
    return {p.name.removeprefix("event_date=") for p in root.glob("event_date=*") if list(p.glob("*.parquet"))}


def read_matrix(lake: Path, day: str) -> dict:
    files = sorted((lake / f"curated/interaction_matrix/event_date={day}").glob("*.parquet"))
    table = pa.concat_tables([pq.read_table(f) for f in files])
    assert table.column_names == MATRIX_COLUMNS
    rows = table.to_pylist()
    out = {}
    for r in rows:
        for c in ("first_event_time", "last_event_time"):
            r[c] = r[c].astimezone(UTC)
        out[(r["user_id"], r["product_id"])] = tuple(r[c] for c in MATRIX_COLUMNS[2:])
    assert len(out) == len(rows), f"{day}: a (user, product) twice"
    return out


def read_partition(lake: Path, folder: str, day: str) -> list[dict]:
    files = sorted((lake / folder / f"event_date={day}").glob("*.parquet"))
    return [r for f in files for r in pq.read_table(f).to_pylist()]


def assert_days(lake: Path, files: list[Landed], landed_days: set[str], days: set[str],
                with_orders: set[str], when: str) -> None:
    """Every derived day's matrix, cleaned events and quarantine equal the computation's."""
    assert matrix_days(lake) == days, when
    events, refused = events_by_day(files, landed_days), expected_quarantine(files, landed_days)
    for day in sorted(days):
        got, want = read_matrix(lake, day), expected_matrix(day, files, landed_days, day in with_orders)
        wrong = {k: (got.get(k), want.get(k)) for k in got.keys() | want.keys() if got.get(k) != want.get(k)}
        assert not wrong, f"{when}: matrix of {day}, (user, product): (recmart, expected): {wrong}"
        cleaned = {r["event_id"]: (r["event_type"], r["event_time"], r["user_id"], r["product_id"], r["price"],
                                   r["copies"]) for r in read_partition(lake, "curated/cleaned_events", day)}
        assert cleaned == {
            eid: (rec["event_type"], t, rec.get("user_id"), rec["product_id"], rec.get("price"), copies)
            for eid, (rec, t, copies) in events[day].items()
        }, f"{when}: cleaned events of {day}"
        quarantined = Counter((r["event_id"], r["reason"]) for r in read_partition(lake, "quarantine/clickstream", day))
        assert quarantined == refused[day], f"{when}: quarantine of {day}"


# ---- the test ------------------------------------------------------------------------------------

class NoSpark(SparkStepRunner):
    """The local engine is DuckDB: no step may need Spark (and no JVM is started for the test)."""

    def run_step(self, context: dg.AssetExecutionContext, step: str, spec: dict) -> dict:
        raise AssertionError(f"the DuckDB engine asked Spark to run the step {step}")


def _definitions(root: Path, lake: Path, source: str) -> dg.Definitions:
    from recmart.definitions import build_definitions
    from recmart_tests.local_resources import local_test_resources

    return build_definitions({**local_test_resources(root, lake, source), "spark": NoSpark()})


def _store(tmp_path: Path) -> tuple[list[Landed], str]:
    files = landing_files()
    assert len({f.key for f in files}) == len(files)
    return files, write_store(tmp_path / "store.db")


def test_daily_refresh_day_by_day_then_a_backfill_of_the_range_give_every_matrix_row_exactly(tmp_path, monkeypatch):
    import recmart.automation.sensors as sensors
    import recmart.definitions
    from recmart.automation.sensors import late_events_sensor
    from recmart.cli import materialize_days

    files, source = _store(tmp_path)
    all_landed = {f.day for f in files}
    assert all_landed == set(LANDING_DAYS)

    # 1. The schedule's runs: daily_refresh for each day at 00:01 the day after, once its files
    #    have landed, and the runs the late-events sensor asks for then (the day just closed is
    #    the newest partition).
    lake = tmp_path / "daily" / "lake"
    defs = _definitions(tmp_path / "daily", lake, source)
    instance = dg.DagsterInstance.ephemeral()
    cursor = None
    run_days: set[str] = set()
    for day in LANDING_DAYS:
        tomorrow = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
        monkeypatch.setattr(sensors, "DAILY", dg.DailyPartitionsDefinition("2024-01-01", end_date=tomorrow))
        for f in files:
            if f.day == day:
                f.write(lake)
        result = defs.resolve_job_def("daily_refresh").execute_in_process(partition_key=day, instance=instance)
        assert result.success, day
        run_days.add(day)
        tick = late_events_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
        cursor = tick.cursor
        for request in tick.run_requests:
            late = defs.resolve_job_def("refresh_event_day").execute_in_process(
                partition_key=request.partition_key, instance=instance)
            assert late.success, request.partition_key
        landed = {d for d in all_landed if d <= day}
        assert_days(lake, files, landed, derived_days(files, landed, run_days), run_days,
                    f"after daily_refresh {day}")
    assert matrix_days(lake) == {"2026-11-04", *LANDING_DAYS}  # 11-04: the event that came exactly 7 days late

    # 2. A backfill of the range on a fresh lake holding every file, as `recmart materialize` runs it.
    lake = tmp_path / "backfill" / "lake"
    for f in files:
        f.write(lake)
    monkeypatch.setattr(recmart.definitions, "defs", _definitions(tmp_path / "backfill", lake, source))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert materialize_days(DAYS)
    assert_days(lake, files, all_landed, set(DAYS), set(DAYS), f"after the backfill {DAYS[0]}..{DAYS[-1]}")


def test_the_hand_made_inputs_hold_the_cases_they_are_for(tmp_path):
    """The fixture itself: every edge it claims is in it, so a green run means something."""
    files, _ = _store(tmp_path)
    days = events_by_day(files, set(LANDING_DAYS))
    ids = {day: set(events) for day, events in days.items()}
    assert {"mid-10", "mid-10-offset", "back-10", "last-10", "late-3d", "future-edge"} <= ids["2026-11-10"]
    assert {"ahead-11", "mid-11-minus", "kiribati", "by-hand", "by-hand-ahead"} <= ids["2026-11-11"]
    assert {"mid-12", "late-12", "late-12-offset", "late-12-nanos", "retry-y", "lower-case"} <= ids["2026-11-12"]
    assert "late-12-b" in ids["2026-11-13"]
    assert "late-7d" in ids["2026-11-04"]
    refused = {"future", "late-7d-1s", "bad-no-zone", "bad-date", "bad-epoch", "bad-type", "bad-type-case",
               "bad-price", "bad-missing", "bad-utf8"}
    assert not refused & set().union(*ids.values())
    reasons = {reason for day in expected_quarantine(files, set(LANDING_DAYS)).values() for _, reason in day}
    assert reasons == {"not_utf8", "malformed_json", "missing_field", "invalid_event_type", "invalid_event_time",
                       "event_time_in_future", "arrived_too_late", "invalid_price"}
    assert max(copies for day in days.values() for _, _, copies in day.values()) == 2
    spellings = {json.loads(line.decode(errors="replace"))["event_time"][19:]
                 for f in files for line in f.lines if line.startswith(b'{"event_id')}
    assert len(spellings) >= 8  # Z, fractions, offsets of several forms
    lines = [line for f in files for line in f.lines]
    assert any('"josé"'.encode() in line for line in lines) and any(b'"jos\\u00e9"' in line for line in lines)
    matrices = {d: expected_matrix(d, files, set(LANDING_DAYS), True) for d in DAYS}
    assert all(len(m) >= 10 for m in matrices.values())
    assert matrices["2026-11-11"][("u1", "p1")][3:6] == (1, 2, Decimal("39.98"))  # the order at midnight
    assert matrices["2026-11-11"][("u4", "p5")][3] == 1 and matrices["2026-11-12"][("u4", "p5")][3] == 1
    assert matrices["2026-11-10"][("u3", "p4")][3:5] == (1, 3)  # one order, two lines of one product
    assert matrices["2026-11-12"][("u1", "p5")][3:5] == (2, 3)
