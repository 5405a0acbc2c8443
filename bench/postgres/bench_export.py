"""Benchmark: the nightly transactions export over millions of order items in PostgreSQL.

Loads a synthetic day of orders with COPY into a dedicated schema of a local PostgreSQL,
then times `recmart.source.export.export_transactions(engine, day)` over it in a fresh
child process (so the peak RSS measured is the export's, not the loader's), and drops the
schema afterwards. Each size given runs in its own schema and its own child process, so the
sizes can be compared: a memory-bounded export has the same peak RSS at 1 M and 10 M rows.

    .venv/bin/python bench/postgres/bench_export.py --items 1000000 10000000

The child consumes the record batches (counts rows and Arrow bytes) without writing them
anywhere, so what is timed is the database read, the transfer and the Arrow conversion.
Not a test: it needs a PostgreSQL and minutes of time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
DAY = dt.date(2026, 11, 20)
STATUSES = ("paid", "shipped", "delivered", "cancelled")
# Items per order cycle through this pattern (mean 4): 1..7 lines.
LINES = (1, 3, 5, 7, 2, 4, 6, 4)
NEIGHBOUR_SHARE = 100  # 1 % of the day's items again on each neighbouring day (filtered out)


# ---- load ------------------------------------------------------------------------------------
class _Lines(io.RawIOBase):
    """A read-only file over generated text lines, for COPY ... FROM STDIN without a temp file."""

    def __init__(self, lines):
        self._lines = lines
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while len(self._buf) < len(b):
            chunk = next(self._lines, None)
            if chunk is None:
                break
            self._buf += chunk
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _orders_for(items: int, day: dt.date, prefix: str):
    """(order_id, lines) until `items` order items, spread over the day."""
    made, k = 0, 0
    while made < items:
        lines = min(LINES[k % len(LINES)], items - made)
        yield f"{prefix}{k:09d}", lines, k
        made += lines
        k += 1


def _generate(items: int):
    """Text chunks for COPY of orders and of order_items: the day, and 1 % on each neighbour."""
    plan = [(DAY, "o", items)]
    for offset, prefix in ((-1, "b"), (1, "a")):
        plan.append((DAY + dt.timedelta(days=offset), prefix, max(1, items // NEIGHBOUR_SHARE)))

    def orders():
        for day, prefix, n in plan:
            start = dt.datetime.combine(day, dt.time.min)
            total = n // 4 + 1
            out = []
            for order_id, _lines, k in _orders_for(n, day, prefix):
                created = start + dt.timedelta(seconds=(k * 86_399) // total)
                user = "\\N" if k % 20 == 0 else f"u{k % 500_000:06d}"
                out.append(f"{order_id}\t{user}\t{created:%Y-%m-%d %H:%M:%S}\t{STATUSES[k % 4]}\n")
                if len(out) == 10_000:
                    yield "".join(out).encode()
                    out = []
            if out:
                yield "".join(out).encode()

    def order_items():
        for day, prefix, n in plan:
            out = []
            for order_id, lines, k in _orders_for(n, day, prefix):
                for line in range(1, lines + 1):
                    product = (k * 7 + line * 13) % 44_000
                    price = 5 + (k * 31 + line) % 19_500 / 100
                    out.append(f"{order_id}\t{line}\tp{product:05d}\t{1 + (k + line) % 3}\t{price:.2f}\n")
                if len(out) >= 10_000:
                    yield "".join(out).encode()
                    out = []
            if out:
                yield "".join(out).encode()

    return orders(), order_items()


def load(engine: sa.Engine, schema: str, items: int) -> dict:
    """Create the source tables in `schema` and COPY the synthetic orders into them."""
    from recmart.source.schema import metadata

    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    # Tables without indexes or keys first (COPY is fastest that way), constraints after.
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            cols = ", ".join(f'"{c.name}" {c.type.compile(engine.dialect)}' for c in table.columns)
            conn.exec_driver_sql(f'CREATE TABLE "{schema}"."{table.name}" ({cols})')
    orders_text, items_text = _generate(items)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.copy_expert(
            f'COPY "{schema}".orders (order_id, user_id, created_at, status) FROM STDIN',
            io.BufferedReader(_Lines(orders_text), 1 << 20),
        )
        cur.copy_expert(
            f'COPY "{schema}".order_items (order_id, line_no, product_id, quantity, unit_price) FROM STDIN',
            io.BufferedReader(_Lines(items_text), 1 << 20),
        )
        raw.commit()
    finally:
        raw.close()
    t_copy = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.exec_driver_sql(f'ALTER TABLE "{schema}".orders ADD PRIMARY KEY (order_id)')
        conn.exec_driver_sql(f'ALTER TABLE "{schema}".order_items ADD PRIMARY KEY (order_id, line_no)')
        conn.exec_driver_sql(
            f'ALTER TABLE "{schema}".order_items ADD FOREIGN KEY (order_id) REFERENCES "{schema}".orders (order_id)'
        )
        conn.exec_driver_sql(f'CREATE INDEX ix_orders_created_at ON "{schema}".orders (created_at)')
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql(f'VACUUM ANALYZE "{schema}".orders')
        conn.exec_driver_sql(f'VACUUM ANALYZE "{schema}".order_items')
        counts = conn.exec_driver_sql(
            f'SELECT (SELECT count(*) FROM "{schema}".orders), (SELECT count(*) FROM "{schema}".order_items), '
            f"pg_total_relation_size('\"{schema}\".orders') + pg_total_relation_size('\"{schema}\".order_items')"
        ).one()
    return {
        "orders_total": counts[0], "items_total": counts[1], "table_bytes": counts[2],
        "copy_seconds": round(t_copy, 1), "load_seconds": round(time.perf_counter() - t0, 1),
    }


# ---- measure (child process) -----------------------------------------------------------------
def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class _RssSampler:
    """RSS every half second while running, to see growth that a peak alone would hide."""

    def __init__(self):
        self.samples: list[int] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._done.wait(0.5):
            self.samples.append(_rss_kib())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()

    def figures(self) -> dict:
        quarter = max(1, len(self.samples) // 4)
        return {
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "rss_first_quarter_max_mib": round(max(self.samples[:quarter], default=0) / 1024),
            "rss_last_quarter_max_mib": round(max(self.samples[-quarter:], default=0) / 1024),
        }


def _engine(url: str, schema: str) -> sa.Engine:
    return sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})


def export_statement(engine: sa.Engine, day: dt.date) -> tuple[str, dict]:
    """The SQL and parameters `export_transactions` sends for `day`, captured from the driver
    while it exports an empty day and moved to `day` (used by the breakdown modes)."""
    from recmart.source.export import export_transactions

    empty = day - dt.timedelta(days=30)
    seen: list[tuple[str, dict]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM orders" in statement:
            seen.append((statement, dict(parameters)))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        for _ in export_transactions(engine, empty):
            pass
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    statement, params = seen[-1]
    shift = day - empty
    return statement, {k: (v + shift if isinstance(v, dt.datetime) else v) for k, v in params.items()}


def measure(url: str, schema: str, day: dt.date, batch_rows: int | None, mode: str = "export") -> dict:
    """Time one export of `day` in this process: rows, wall and CPU time, RSS.

    mode "export": `export_transactions` itself (what the asset runs).
    mode "fetch": the same SQL through the same driver and server-side cursor, rows fetched
      in the same batches but not converted (the driver's share).
    mode "copy": the same SQL as `COPY (...) TO STDOUT` into a byte counter, with parallel
      query off as for a cursor (the database's share: plan, join, sort, send).
    """
    import pyarrow as pa  # noqa: F401  (imported before the baseline, as the export needs it)

    from recmart.source.export import DEFAULT_BATCH_ROWS, export_transactions

    batch_rows = batch_rows or DEFAULT_BATCH_ROWS
    engine = _engine(url, schema)
    # Warm-up on a day without orders: pays the one-time costs (lazy imports such as pyarrow's
    # pandas shim, the first connection, the schema inspection) outside the timed part.
    statement, params = export_statement(engine, day)
    baseline_kib = _rss_kib()
    rows = batches = out_bytes = 0
    first_batch_s = None
    with _RssSampler() as rss:
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        if mode == "export":
            for batch in export_transactions(engine, day, batch_rows=batch_rows):
                first_batch_s = first_batch_s if first_batch_s is not None else time.perf_counter() - t0
                rows += batch.num_rows
                batches += 1
                out_bytes += batch.nbytes
        else:
            raw = engine.raw_connection()
            try:
                if mode == "fetch":
                    cur = raw.cursor(name="bench_export_fetch")  # a server-side cursor, as the export's
                    cur.itersize = batch_rows
                    cur.execute(statement, params)
                    while True:
                        chunk = cur.fetchmany(batch_rows)
                        if not chunk:
                            break
                        first_batch_s = first_batch_s if first_batch_s is not None else time.perf_counter() - t0
                        rows += len(chunk)
                        batches += 1
                    cur.close()
                elif mode == "copy":
                    cur = raw.cursor()
                    cur.execute("SET max_parallel_workers_per_gather = 0")
                    sql = cur.mogrify(statement, params).decode()

                    class Sink:
                        def write(self, data):
                            nonlocal out_bytes, rows
                            out_bytes += len(data)
                            rows += data.count(b"\n") if isinstance(data, bytes) else data.count("\n")

                    cur.copy_expert(f"COPY ({sql}) TO STDOUT", Sink())
                else:
                    raise ValueError(f"unknown mode {mode!r}")
            finally:
                raw.rollback()
                raw.close()
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    return {
        "mode": mode, "rows": rows, "batches": batches, "batch_rows": batch_rows,
        "output_mib": round(out_bytes / 2**20, 1),
        "wall_seconds": round(wall, 1), "python_cpu_seconds": round(cpu, 1),
        "first_batch_seconds": round(first_batch_s, 1) if first_batch_s is not None else None,
        "rows_per_second": round(rows / wall) if wall else None,
        "rss_before_mib": round(baseline_kib / 1024),
        **rss.figures(),
    }


def _measure_in_child(url: str, schema: str, batch_rows: int | None, mode: str = "export") -> dict:
    cmd = [sys.executable, __file__, "--measure", mode, "--url", url, "--schema", schema]
    if batch_rows:
        cmd += ["--batch-rows", str(batch_rows)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("RECMART_BENCH_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--items", type=int, nargs="+", default=[1_000_000, 10_000_000],
                        help="order items on the exported day, one run per value")
    parser.add_argument("--batch-rows", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="leave the schema in place")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time the driver's fetch alone and the database's COPY alone")
    parser.add_argument("--measure", choices=("export", "fetch", "copy"), help=argparse.SUPPRESS)
    parser.add_argument("--schema", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.measure:
        print(json.dumps(measure(args.url, args.schema, DAY, args.batch_rows, args.measure)))
        return 0

    engine = sa.create_engine(args.url)
    print(f"cpus: {os.cpu_count()}, load average before: {_load_average()}", flush=True)
    results = []
    for items in args.items:
        schema = f"bench_export_{items}"
        try:
            print(f"[{items:,} items] loading with COPY into schema {schema} ...", flush=True)
            loaded = load(engine, schema, items)
            print(f"[{items:,} items] loaded: {json.dumps(loaded)}", flush=True)
            modes = ["export", "fetch", "copy"] if args.breakdown else ["export"]
            for mode in modes:
                print(f"[{items:,} items] {mode} of {DAY} in a child process ...", flush=True)
                measured = _measure_in_child(args.url, schema, args.batch_rows, mode)
                measured["load_average_after"] = _load_average()
                print(f"[{items:,} items] {mode}: {json.dumps(measured)}", flush=True)
                results.append({"items": items, **loaded, **measured})
        finally:
            if not args.keep:
                with engine.begin() as conn:
                    conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
