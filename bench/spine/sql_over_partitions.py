"""Daily-aggregate SQL over many partitions of the interaction matrix, locally (`recmart sql`).

    .venv/bin/python bench/spine/sql_over_partitions.py [--days 90] [--rows 300000] [--repeats 5]

Writes `--days` daily partitions of `curated_interaction_matrix` (`--rows` rows each, the
table's own schema, users and products drawn with a skew) into a fresh local lake, as the
asset publishes them (one Snappy Parquet file per partition), then times, median of
`--repeats` runs each:

- the query through `DuckDBLakeSql.query` (what `recmart sql` and the checks call: a fresh
  DuckDB with the lake's views, the query, the rows back), and
- the whole command, `recmart sql "<query>"` as a new process (Python and the package's
  imports included), with `RECMART_LAKE` pointing at the lake.

Two daily aggregates of the whole window: per day, rows, views, add-to-carts, purchases,
units and revenue (`sums`); the same with distinct users and products. `--lake DIR` reuses
the partitions a previous run wrote there (writing them takes minutes).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from recmart.resources.lake import LocalLake
from recmart.resources.sql import DuckDBLakeSql
from recmart.tables import CURATED_INTERACTION_MATRIX as MATRIX

SUMS = ("count(*) AS rows, sum(views) AS views, sum(add_to_carts) AS add_to_carts, "
        "sum(purchases) AS purchases, sum(units) AS units, sum(revenue) AS revenue")
QUERIES = {
    "sums": f"SELECT event_date, {SUMS} FROM curated_interaction_matrix GROUP BY event_date ORDER BY event_date",
    "sums and distinct users, products": (
        f"SELECT event_date, {SUMS}, count(DISTINCT user_id) AS users, count(DISTINCT product_id) AS products "
        "FROM curated_interaction_matrix GROUP BY event_date ORDER BY event_date"),
}


def write_partitions(root: Path, days: int, rows: int) -> None:
    rng = np.random.default_rng(1)
    start = date(2026, 8, 1)
    schema = MATRIX.arrow_schema()
    for d in range(days):
        day = start + timedelta(days=d)
        users = rng.zipf(1.3, rows) % 200_000
        products = rng.zipf(1.5, rows) % 40_000
        views = rng.integers(1, 6, rows)
        carts = rng.integers(0, 2, rows)
        t0 = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        first = [t0 + timedelta(seconds=int(s)) for s in rng.integers(0, 86_000, rows)]
        table = pa.table({
            "user_id": pa.array([f"u{u}" for u in users]),
            "product_id": pa.array([f"p{p}" for p in products]),
            "views": views, "add_to_carts": carts, "remove_from_carts": np.zeros(rows, dtype=np.int64),
            "purchases": carts // 1, "units": carts, "revenue": pa.array([Decimal(int(c) * 1999) / 100 for c in carts], schema.field("revenue").type),
            "first_event_time": first, "last_event_time": first,
        }, schema=schema)
        folder = root / MATRIX.partition_path(day.isoformat())
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / "part-00000.parquet", compression="snappy")


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--lake", type=Path, help="a lake folder to write to, or reuse when it has the partitions")
    args = parser.parse_args()
    root = args.lake or Path(tempfile.mkdtemp(prefix="recmart-sql-bench-")) / "lake"
    t0 = time.perf_counter()
    if not (root / MATRIX.path).exists():
        write_partitions(root, args.days, args.rows)
    size = sum(f.stat().st_size for f in root.rglob("*.parquet")) / 2**20
    print(f"{args.days} partitions x {args.rows:,} rows ({size:,.0f} MB of Parquet) written in {time.perf_counter() - t0:.0f} s")
    sql = DuckDBLakeSql(lake=LocalLake(root=str(root)))
    recmart = str(Path(sys.executable).with_name("recmart"))
    env = {**os.environ, "RECMART_LAKE": str(root)}
    for name, query in QUERIES.items():
        _, rows = sql.query(query)
        assert len(rows) == args.days and all(r[1] == args.rows for r in rows), "every day, every row"
        in_process = median_seconds(lambda q=query: sql.query(q), args.repeats)
        command = median_seconds(lambda q=query: subprocess.run([recmart, "sql", q], env=env, check=True,
                                                                capture_output=True), args.repeats)
        print(f"{name}, over {args.days} partitions: DuckDBLakeSql.query {in_process:.2f} s, "
              f"`recmart sql` as a new process {command:.2f} s (median of {args.repeats})")

if __name__ == "__main__":
    main()
