"""The local feature store: records per second, the row path against the columnar path, in one run.

    .venv/bin/python bench/features/bench_feature_store.py [--rows 200000] [--rounds 2]

Rows of each feature group are generated (every column filled, 5% nulls), written as the lake's
Arrow batches of 10,000 rows, and put into a fresh SQLite online store twice, interleaved: by
`put_records` of the batches' rows as dicts (what the ingestion asset did before) and by
`put_batches` (what it does now). The two stores must hold the same bytes; the figures are CPU
seconds of the process (the machine is shared: compare the two paths of one run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from recmart.feature_groups.groups import FEATURE_GROUPS
from recmart.resources.feature_store import LocalFeatureStore

BATCH = 10_000


def column(rng: random.Random, type_: str, n: int) -> list:
    start = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    make = {
        "string": lambda i: f"value-{rng.randrange(10**6)}",
        "int32": lambda i: rng.randrange(1000), "int64": lambda i: rng.randrange(10**6),
        "double": lambda i: rng.random() * 100, "bool": lambda i: rng.random() < 0.5,
        "money": lambda i: Decimal(rng.randrange(10**6)) / 100,
        "date": lambda i: start.date() + dt.timedelta(days=rng.randrange(30)),
        "timestamp": lambda i: start + dt.timedelta(seconds=rng.randrange(30 * 86400)),
    }[type_]
    return [None if rng.random() < 0.05 else make(i) for i in range(n)]


def batches(group, n: int) -> list[pa.RecordBatch]:
    rng = random.Random(1)
    schema = group.table.arrow_schema()
    data = {c.name: column(rng, c.type, n) for c in group.table.columns}
    data[group.record_identifier] = [f"id-{i}" for i in range(n)]
    data[group.event_time_feature] = [dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)] * n
    table = pa.table(data, schema=schema)
    return table.to_batches(max_chunksize=BATCH)


def put(path: Path, group, parts: list[pa.RecordBatch], how: str) -> float:
    store = LocalFeatureStore(path=str(path))
    store.ensure_groups([group])
    t0 = time.process_time()
    if how == "rows":
        store.put_records(group, (row for b in parts for row in b.to_pylist()))
    else:
        store.put_batches(group, parts)
    return time.process_time() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="recmart-fs-bench-"))
    print(f"{args.rows:,} rows per group, {args.rounds} rounds; CPU seconds, records per CPU second")
    for group in FEATURE_GROUPS:
        parts = batches(group, args.rows)
        best = {}
        for r in range(args.rounds):
            for how in ("rows", "batches"):
                best[how] = min(best.get(how, float("inf")), put(tmp / f"{group.kind}-{how}-{r}.db", group, parts, how))
        stored = [sqlite3.connect(tmp / f"{group.kind}-{how}-0.db").execute(
            "SELECT record_identifier, event_time, record FROM online_records ORDER BY 1").fetchall()
            for how in ("rows", "batches")]
        assert stored[0] == stored[1], f"{group.kind}: the two paths stored different records"
        print(f"{group.kind:13} {len(group.table.columns)} features: rows {best['rows']:.2f} s "
              f"({args.rows / best['rows']:,.0f}/s), batches {best['batches']:.2f} s "
              f"({args.rows / best['batches']:,.0f}/s): {best['rows'] / best['batches']:.1f}x; same records")


if __name__ == "__main__":
    main()
