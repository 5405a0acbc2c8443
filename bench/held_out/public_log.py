"""Issue 11, "done means", the public log: recmart run as a user runs it on the YooChoose
(RecSys 2015) click sample, every row of every day of curated_interaction_matrix compared
with a computation written here from the TSV and the contract alone.

    .venv/bin/python bench/held_out/public_log.py [--work /tmp/recmart-public-log]

1. The log (../shared/data/rsc15-validation, `SessionId, ItemId, Time` epoch seconds UTC) is
   turned into what a store would give recmart: Firehose files (gzip) under
   landing/clickstream/YYYY/MM/DD/HH/ by *arrival* time (a click arrives 1 s .. 2 min after it
   happened, one in 200 hours later, up to 30 h: a phone that was offline; Firehose buffers 5
   minutes, a file named after its first record's arrival), and a store database written with
   plain sqlite3 (its own DDL): every session a user, every item a product with placeholder
   attributes, and a few orders a day (`created_at` second-precision text, one at 00:00:00
   exactly, one cancelled) so purchases, units and revenue are judged too. Sessions are users
   (user_id = SessionId), every click a `view` with a unique event_id, event_time ISO-8601 `Z`.
2. recmart through its command line, in subprocesses, on the local DuckDB engine:
   (a) day by day, as the 00:01 schedule does: for each landing day its files are put into the
       lake, then `dagster job execute -m recmart.definitions -j daily_refresh` for the day, then
       one tick of `late_events_sensor` (no CLI runs a sensor tick: a small subprocess of this
       script evaluates it against the same DAGSTER_HOME, the cursor kept between ticks) and a
       `dagster job execute -j refresh_event_day` for every day it asks for; every derived day is
       checked after every landing day;
   (b) on a fresh lake holding every file, `recmart materialize --start A --end B`.
3. Every partition of curated/interaction_matrix is read back with pyarrow and compared, every
   row and every column, with the expectation computed in plain Python from the TSV.

Results: bench/held_out/RESULTS.md (written by hand from this script's output).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
DATA = REPO.parent / "shared" / "data" / "rsc15-validation"
LOG_FILES = ("yoochoose-clicks-100k_train_tr.txt", "yoochoose-clicks-100k_train_valid.txt")
UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
MATRIX_COLUMNS = ["user_id", "product_id", "views", "add_to_carts", "remove_from_carts", "purchases", "units",
                  "revenue", "first_event_time", "last_event_time"]
FIRST_DAY = "2014-03-01"  # RECMART_FIRST_DAY: the log's days (and the window before them) are partitions
ORDERS_PER_DAY = 4


def crc(*parts: object) -> int:
    return zlib.crc32("\x1f".join(map(str, parts)).encode())


# ---- the log ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Click:
    event_id: str
    session: str
    item: str
    time_text: str  # the log's own text, epoch seconds with a fraction


def read_log(first: str, last: str, sessions_mod: int) -> list[Click]:
    """The clicks of UTC days [first, last], of the sessions kept (one in sessions_mod, by a hash of the id)."""
    lo = int((dt.datetime.fromisoformat(first).replace(tzinfo=UTC) - EPOCH).total_seconds())
    hi = int((dt.datetime.fromisoformat(last).replace(tzinfo=UTC) - EPOCH).total_seconds()) + 86400
    clicks = []
    for name in LOG_FILES:
        with open(DATA / name, encoding="ascii") as f:
            header = f.readline().rstrip("\n").split("\t")
            assert header == ["SessionId", "ItemId", "Time"], header
            for n, line in enumerate(f, start=2):
                session, item, t = line.rstrip("\n").split("\t")
                if crc("session", session) % sessions_mod == 0 and lo <= int(t.split(".")[0]) < hi:
                    clicks.append(Click(f"rsc15-{name.split('_')[-1][:-4]}-{n}", session, item, t))
    return clicks


def event_time(c: Click) -> dt.datetime:
    """The independent reading of the log's time: exact decimal seconds since the epoch."""
    micros = Decimal(c.time_text) * 1_000_000
    assert micros == micros.to_integral_value(), c.time_text
    return EPOCH + dt.timedelta(microseconds=int(micros))


def iso_z(c: Click) -> str:
    """The time as the click's producer would send it: ISO-8601, milliseconds, `Z`."""
    seconds, _, frac = c.time_text.partition(".")
    t = dt.datetime.fromtimestamp(int(seconds), UTC)
    return f"{t:%Y-%m-%dT%H:%M:%S}.{frac.ljust(3, '0')}Z"


def arrival(c: Click) -> dt.datetime:
    """When the click reached Firehose: 1 s .. 2 min after it happened; one in 200 (a phone that
    was offline) 1 .. 30 hours later."""
    h = crc("arrival", c.event_id)
    delay = dt.timedelta(seconds=1 + h % 120)
    if h % 200 == 0:
        delay = dt.timedelta(hours=1 + (h // 200) % 30, seconds=h % 3600)
    return event_time(c) + delay


# ---- the landing files, as Firehose writes them ---------------------------------------------------

@dataclass
class LandingFile:
    key: str
    arrival: dt.datetime
    clicks: list[Click]

    @property
    def day(self) -> str:
        return self.arrival.date().isoformat()


def landing_files(clicks: list[Click]) -> list[LandingFile]:
    """Firehose buffers 5 minutes: one gzip file per 5-minute window of arrival, named and
    foldered by its first record's arrival (UTC), records in arrival order."""
    windows: dict[dt.datetime, list[tuple[dt.datetime, Click]]] = defaultdict(list)
    for c in clicks:
        a = arrival(c)
        windows[a.replace(minute=a.minute - a.minute % 5, second=0, microsecond=0)].append((a, c))
    files = []
    for n, (_, records) in enumerate(sorted(windows.items())):
        records.sort(key=lambda r: (r[0], r[1].event_id))
        first = records[0][0].replace(microsecond=0)
        uid = f"{n:08x}-4b1e-4c1d-9a2f-{crc('file', n):012x}"
        key = (f"landing/clickstream/{first:%Y/%m/%d/%H}/clickstream-to-s3-1-{first:%Y-%m-%d-%H-%M-%S}-{uid}.gz")
        files.append(LandingFile(key, first, [c for _, c in records]))
    return files


def click_line(c: Click) -> bytes:
    rec = {"event_id": c.event_id, "event_type": "view", "event_time": iso_z(c), "session_id": c.session,
           "user_id": c.session, "product_id": c.item, "device": "desktop", "page_url": f"/p/{c.item}",
           "ip": "198.51.100.7", "user_agent": "Mozilla/5.0 (rsc15 replay)"}
    return json.dumps(rec, separators=(",", ":")).encode()


def write_files(lake: Path, files: list[LandingFile]) -> None:
    for f in files:
        path = lake / f.key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(b"".join(click_line(c) + b"\n" for c in f.clicks), mtime=0))


# ---- the store database, as another program writes it ---------------------------------------------

@dataclass(frozen=True)
class Order:
    order_id: str
    user_id: str
    created_at: str  # text, second precision, no zone (= UTC), as most applications write it
    status: str
    items: tuple[tuple[str, int, Decimal], ...]  # (product_id, quantity, unit_price)


def price_of(item: str) -> Decimal:
    return Decimal(9 + crc("price", item) % 90) + Decimal("0.99")


def make_orders(clicks: list[Click], days: list[str]) -> list[Order]:
    """A few orders a day by sessions of the log: after a session's last click of the day, of
    items it viewed; per day one created at 00:00:00 exactly and one cancelled."""
    by_day: dict[str, dict[str, list[Click]]] = defaultdict(lambda: defaultdict(list))
    for c in clicks:
        by_day[event_time(c).date().isoformat()][c.session].append(c)
    orders = []
    for day in days:
        sessions = sorted(by_day[day], key=lambda s: crc("order", day, s))[:ORDERS_PER_DAY]
        for k, s in enumerate(sessions):
            seen = sorted({c.item for c in by_day[day][s]}, key=lambda i: crc("item", s, i))
            last = max(event_time(c) for c in by_day[day][s])
            if k == 0:  # at midnight exactly: it belongs to the next day
                created = (last.date() + dt.timedelta(days=1)).isoformat() + " 00:00:00"
            else:
                t = min(last + dt.timedelta(seconds=90), dt.datetime.fromisoformat(day).replace(tzinfo=UTC)
                        + dt.timedelta(seconds=86399))
                created = f"{t:%Y-%m-%d %H:%M:%S}"
            status = "cancelled" if k == 1 else ("shipped" if k % 2 else "paid")
            items = [(seen[0], 1 + k % 2, price_of(seen[0]))]
            if len(seen) > 1:
                items.append((seen[1], 1, price_of(seen[1])))
            if k == 3:  # the same product on two lines of one order
                items.append((seen[0], 2, price_of(seen[0])))
            orders.append(Order(f"o-{day}-{k}", s, created, status, tuple(items)))
    return orders


def write_store(path: Path, clicks: list[Click], orders: list[Order]) -> str:
    if path.exists():
        path.unlink()
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
    sessions = sorted({c.session for c in clicks}, key=int)
    items = sorted({c.item for c in clicks}, key=int)
    con.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
        (s, f"session{s}@example.org", f"Session {s}", None, None, None, None, "2014-03-01 00:00:00")
        for s in sessions
    ])
    con.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        (i, f"Item {i}", "Unisex", "Apparel", "Topwear", "Tshirts", "Black", "Summer", 2014, "Casual",
         float(price_of(i))) for i in items
    ])
    con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)",
                    [(o.order_id, o.user_id, o.created_at, o.status) for o in orders])
    con.executemany("INSERT INTO order_items VALUES (?, ?, ?, ?, ?)", [
        (o.order_id, n, p, q, str(u)) for o in orders for n, (p, q, u) in enumerate(o.items, start=1)
    ])
    con.commit()
    con.close()
    return f"sqlite:///{path}"


# ---- the independent computation ----------------------------------------------------------------

Row = tuple  # (views, add_to_carts, remove_from_carts, purchases, units, revenue, first, last)


def expected_matrices(clicks: list[Click], orders: list[Order], landed_by: str | None,
                      order_days: set[str] | None) -> dict[str, dict[tuple[str, str], Row]]:
    """Per UTC day, per (user, product): the contract's row, from the clicks that have arrived on
    a landing day <= `landed_by` (None: all) and the orders of the days in `order_days` (None: all)."""
    views: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    times: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    bought: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: [set(), 0, Decimal("0")]))
    for c in clicks:
        if landed_by is not None and arrival(c).date().isoformat() > landed_by:
            continue
        t = event_time(c)
        day, pair = t.date().isoformat(), (c.session, c.item)
        views[day][pair] += 1  # every event_id is unique: every click is one distinct event
        times[day][pair].append(t)
    for o in orders:
        t = dt.datetime.fromisoformat(o.created_at).replace(tzinfo=UTC)
        day = t.date().isoformat()
        if (order_days is not None and day not in order_days) or o.status == "cancelled":
            continue
        for product, quantity, unit_price in o.items:
            b = bought[day][(o.user_id, product)]
            b[0].add(o.order_id)
            b[1] += quantity
            b[2] += quantity * unit_price
            times[day][(o.user_id, product)].append(t)
    out: dict[str, dict[tuple[str, str], Row]] = {}
    for day, pairs in times.items():
        out[day] = {}
        for pair, ts in pairs.items():
            ids, units, revenue = bought[day].get(pair, [set(), 0, Decimal("0")])
            out[day][pair] = (views[day].get(pair, 0), 0, 0, len(ids), units, revenue.quantize(Decimal("0.01")),
                              min(ts), max(ts))
    return out


# ---- the lake, read back without recmart --------------------------------------------------------

def read_matrices(lake: Path) -> dict[str, list[dict]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = {}
    for folder in sorted((lake / "curated" / "interaction_matrix").glob("event_date=*")):
        files = sorted(folder.glob("*.parquet"))
        if not files:
            continue
        table = pa.concat_tables([pq.read_table(f) for f in files])
        assert table.column_names == MATRIX_COLUMNS, (folder, table.column_names)
        out[folder.name.removeprefix("event_date=")] = table.to_pylist()
    return out


def as_row(r: dict) -> Row:
    def t(v: dt.datetime) -> dt.datetime:
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
    return (r["views"], r["add_to_carts"], r["remove_from_carts"], r["purchases"], r["units"], r["revenue"],
            t(r["first_event_time"]), t(r["last_event_time"]))


@dataclass
class DayResult:
    day: str
    got: int
    want: int
    equal: int
    mismatches: list  # [(pair, recmart row or None, expected row or None)]


def compare(lake: Path, want: dict[str, dict]) -> list[DayResult]:
    got = read_matrices(lake)
    results = []
    for day in sorted(got.keys() | {d for d, rows in want.items() if rows}):
        rows, expected = got.get(day, []), want.get(day, {})
        by_pair: dict = {}
        mismatches = []
        for r in rows:
            pair = (r["user_id"], r["product_id"])
            if pair in by_pair:
                mismatches.append((pair, "twice", as_row(r)))
            by_pair[pair] = as_row(r)
        equal = 0
        for pair in sorted(by_pair.keys() | expected.keys()):
            g, w = by_pair.get(pair), expected.get(pair)
            if g == w:
                equal += 1
            else:
                mismatches.append((pair, g, w))
        results.append(DayResult(day, len(rows), len(expected), equal, mismatches))
    return results


def compare_events(lake: Path, clicks: list[Click]) -> str:
    """Nothing lost: every click is one cleaned event of its day, as sent; nothing quarantined."""
    import pyarrow.parquet as pq

    want = {(c.event_id, "view", event_time(c), c.session, c.item) for c in clicks}
    got, quarantined = [], 0
    for f in sorted((lake / "curated" / "cleaned_events").glob("event_date=*/*.parquet")):
        for r in pq.read_table(f, columns=["event_id", "event_type", "event_time", "user_id", "product_id"]).to_pylist():
            t = r["event_time"]
            got.append((r["event_id"], r["event_type"], t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC),
                        r["user_id"], r["product_id"]))
    for f in (lake / "quarantine" / "clickstream").glob("event_date=*/*.parquet"):
        quarantined += pq.read_metadata(f).num_rows
    same = set(got) == want and len(got) == len(want)
    return (f"cleaned events: recmart {len(got):,}, expected {len(want):,}, equal (id, type, time, user, product): "
            f"{'yes' if same else 'NO'}; quarantined lines: {quarantined}")


def table(results: list[DayResult]) -> str:
    lines = ["| day | matrix rows recmart | rows expected | rows equal | mismatches |", "|---|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.day} | {r.got:,} | {r.want:,} | {r.equal:,} | {len(r.mismatches):,} |")
    total = [sum(getattr(r, a) for r in results) for a in ("got", "want", "equal")]
    lines.append(f"| all | {total[0]:,} | {total[1]:,} | {total[2]:,} | {sum(len(r.mismatches) for r in results):,} |")
    return "\n".join(lines)


# ---- recmart, as a user runs it -----------------------------------------------------------------

def environment(root: Path, lake: Path, source: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECMART_") and k != "DAGSTER_HOME"}
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    env.update({
        "RECMART_LAKE": str(lake), "RECMART_SOURCE_DB": source, "RECMART_FIRST_DAY": FIRST_DAY,
        "RECMART_RECS_STORE": f"sqlite:///{root / 'recommendations.sqlite'}", "DAGSTER_HOME": str(home),
        "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
    })
    return env


def run(cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> float:
    started = time.monotonic()
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        done = subprocess.run(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    took = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}; see {log}")
    return took


def job(name: str, day: str) -> list[str]:
    return [str(VENV_BIN / "dagster"), "job", "execute", "-m", "recmart.definitions", "-j", name,
            "--tags", json.dumps({"dagster/partition": day})]


def sensor_tick(cursor_file: Path) -> None:
    """(In a subprocess with the run's environment.) One tick of late_events_sensor against
    DAGSTER_HOME's instance: prints the partition keys it requests, keeps its cursor."""
    import dagster as dg

    from recmart.automation.sensors import late_events_sensor

    cursor = cursor_file.read_text() or None if cursor_file.exists() else None
    with dg.DagsterInstance.get() as instance:
        tick = late_events_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
    cursor_file.write_text(tick.cursor or "")
    print(json.dumps([r.partition_key for r in tick.run_requests]))


def day_by_day(work: Path, files: list[LandingFile], clicks: list[Click], orders: list[Order], source: str,
               landing_days: list[str], log: Path) -> tuple[list[DayResult], list[str], float]:
    root = work / "daily"
    lake = root / "lake"
    env = environment(root, lake, source)
    cursor = root / "late_events_sensor.cursor"
    notes, started, run_days, bad = [], time.monotonic(), set(), []
    for day in landing_days:
        write_files(lake, [f for f in files if f.day == day])
        took = run(job("daily_refresh", day), env, root, log)
        run_days.add(day)
        tick = subprocess.run([sys.executable, __file__, "--sensor-tick", str(cursor)], env=env, cwd=root,
                              capture_output=True, text=True, check=True)
        late = json.loads(tick.stdout.strip().splitlines()[-1])
        late_took = sum(run(job("refresh_event_day", d), env, root, log) for d in late)
        results = compare(lake, expected_matrices(clicks, orders, landed_by=day, order_days=run_days))
        wrong = sum(len(r.mismatches) for r in results)
        note = (f"after {day}: daily_refresh {took:.0f} s, late-events sensor asked for {late or 'nothing'}"
                f" ({late_took:.0f} s); {len(results)} days derived, {sum(r.got for r in results):,} rows, "
                f"{wrong} mismatches")
        print(note, flush=True)
        notes.append(note)
        bad.extend((day, r) for r in results if r.mismatches)
    for day, r in bad[:3]:
        print(f"  e.g. after {day}, {r.day}: {r.mismatches[:3]}")
    return results, notes, time.monotonic() - started


def backfill(work: Path, files: list[LandingFile], source: str, first: str, last: str,
             log: Path) -> tuple[Path, float]:
    root = work / "backfill"
    lake = root / "lake"
    write_files(lake, files)
    env = environment(root, lake, source)
    took = run([str(VENV_BIN / "recmart"), "materialize", "--start", first, "--end", last], env, root, log)
    return lake, took


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, default=Path("/tmp/recmart-public-log"), help="state folder (replaced)")
    p.add_argument("--first", default="2014-04-01", help="first event day of the range")
    p.add_argument("--last", default="2014-04-06", help="last event day of the range")
    p.add_argument("--sessions-mod", type=int, default=1, help="keep one session in N (by a hash of its id)")
    p.add_argument("--only", choices=("daily", "backfill"), help="run one phase only")
    p.add_argument("--sensor-tick", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.sensor_tick:
        sensor_tick(args.sensor_tick)
        return

    wall = {}
    started = time.monotonic()
    if args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True)
    log = args.work / "runs.log"
    clicks = read_log(args.first, args.last, args.sessions_mod)
    days = [(dt.date.fromisoformat(args.first) + dt.timedelta(days=k)).isoformat()
            for k in range((dt.date.fromisoformat(args.last) - dt.date.fromisoformat(args.first)).days + 1)]
    files = landing_files(clicks)
    orders = make_orders(clicks, days)
    source = write_store(args.work / "store.db", clicks, orders)
    landing_days = sorted({f.day for f in files})
    late = sum(arrival(c).date() != event_time(c).date() for c in clicks)
    print(f"{len(clicks):,} clicks, {len({c.session for c in clicks}):,} sessions, {len({c.item for c in clicks}):,} "
          f"items, {len(orders)} orders; {len(files):,} landing files on {landing_days[0]}..{landing_days[-1]}, "
          f"{late} clicks landing after their day; state in {args.work}", flush=True)
    wall["prepare"] = time.monotonic() - started

    reports = {}
    if args.only in (None, "daily"):
        results, _, wall["daily_refresh per landing day + sensor runs"] = day_by_day(
            args.work, files, clicks, orders, source, landing_days, log)
        reports["day by day"] = results
    if args.only in (None, "backfill"):
        lake, wall[f"recmart materialize --start {args.first} --end {args.last}"] = backfill(
            args.work, files, source, args.first, args.last, log)
        t0 = time.monotonic()
        reports["backfill"] = compare(lake, expected_matrices(clicks, orders, None, set(days)))
        wall["compare backfill"] = time.monotonic() - t0
    exact = True
    for name, results in reports.items():
        events = compare_events(args.work / ("daily" if name == "day by day" else "backfill") / "lake", clicks)
        exact = exact and ": yes;" in events and events.endswith(": 0")
        print(f"\n{name}:\n{table(results)}\n{events}")
        for r in results:
            if r.mismatches:
                exact = False
                print(f"  {r.day}: e.g. (pair, recmart, expected): {r.mismatches[:3]}")
    print("\nwall time:\n" + "\n".join(f"  {k}: {v:.1f} s" for k, v in wall.items()))
    print(f"  total: {time.monotonic() - started:.1f} s")
    print("\nEXACT" if exact else "\nNOT EXACT")
    sys.exit(0 if exact else 1)


if __name__ == "__main__":
    main()
