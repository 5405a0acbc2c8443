"""How long the batch tables and one serving-time blend take, on a train/test split.

    .venv/bin/python bench/quality/bench_blend.py TRAIN.tsv TEST.tsv

Batch: grouping the training clicks and building every source's table (best of 3). Serving:
`blend` after every click of every test session, each call timed alone (the rows are in
memory: the store read the handler adds is not in it), with how many rows a call reads.
"""

from __future__ import annotations

import statistics
import sys
import time

from recmart.evaluation.clicklog import read_clicks, sessions_of
from recmart.evaluation.recommenders import build_sources as build_tables
from recmart.recsources.blend import BlendSettings, blend, seeds
from recmart.recsources.tables import sessions_from_clicks


def main(train_path: str, test_path: str) -> None:
    train_clicks = read_clicks(train_path)
    test = [[c.item for c in cs] for cs in sessions_of(read_clicks(test_path)).values()]
    batch = []
    for _ in range(3):
        started = time.perf_counter()
        tables, popular = build_tables(sessions_from_clicks((c.session, c.item, c.time) for c in train_clicks))
        batch.append(time.perf_counter() - started)
    settings = BlendSettings()
    calls, rows_read = [], []
    for items in test:
        for pos in range(len(items) - 1):
            history = items[:pos + 1]
            started = time.perf_counter()
            blend(history, tables, popular, settings)
            calls.append(time.perf_counter() - started)
            rows_read.append(sum(item in t for item, _ in seeds(history, settings) for t in tables.values()))
    calls.sort()
    per_row = [len(row) for t in tables.values() for row in t.values()]
    print(f"batch tables ({len(train_clicks):,} clicks): best {min(batch):.2f} s of {', '.join(f'{b:.2f}' for b in batch)}")
    print(f"rows: {', '.join(f'{name} {len(t):,}' for name, t in tables.items())}; "
          f"neighbours per row mean {statistics.mean(per_row):.1f}, max {max(per_row)}")
    print(f"blend calls: {len(calls):,}; mean {statistics.mean(calls) * 1e3:.3f} ms, "
          f"p50 {calls[len(calls) // 2] * 1e3:.3f} ms, p99 {calls[int(len(calls) * 0.99)] * 1e3:.3f} ms, "
          f"max {calls[-1] * 1e3:.3f} ms; rows read per call mean {statistics.mean(rows_read):.1f}, max {max(rows_read)}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
