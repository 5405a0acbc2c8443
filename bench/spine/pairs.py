"""The spine and the DuckDB reference alternated on one seeded day, each in a fresh process:
ratios of runs a few seconds apart, so a shared machine's load weighs on both alike.

    .venv/bin/python bench/spine/pairs.py [--size 1000000] [--rounds 3] [--whole]

Reads the day `run_bench.py` seeded under bench/out/n<size> (seeding it when missing); prints
one line per run (wall seconds, peak RSS MiB, load average) and the ratio of each spine run
to the mean of the reference runs beside it. `--whole` adds the whole `daily_refresh` job of
the day (features, marts and serving too) to each round, between two references as well.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "bench/spine"))
import run_bench  # noqa: E402
from measure import measure  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=1_000_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--whole", action="store_true", help="also the whole daily_refresh job, each round")
    args = p.parse_args()
    where = REPO / "bench/out" / f"n{args.size}"
    run_bench.seed(args.size, where)
    lake, day = where / "lake", run_bench.DAY.isoformat()
    reference = [sys.executable, str(REPO / "bench/spine/duckdb_matrix.py"), str(lake / "landing/clickstream/*/*/*/*/*"),
                 "--source-db", f"sqlite:///{where / 'source.db'}", "--day", day, "--out", str(where / "duckdb_out.parquet")]
    spine = [str(REPO / ".venv/bin/dagster"), "asset", "materialize", "-m", "recmart.definitions",
             "--select", run_bench.SPINE, "--partition", day]
    whole = [str(REPO / ".venv/bin/dagster"), "job", "execute", "-m", "recmart.definitions", "-j", "daily_refresh",
             "--tags", json.dumps({"dagster/partition": day})]
    one_round = [("spine", spine), ("reference", reference)] + ([("whole", whole), ("reference", reference)] if args.whole else [])
    times: list[tuple[str, float]] = []
    for name, cmd in [("reference", reference)] + one_round * args.rounds:
        home = Path(tempfile.mkdtemp(prefix="recmart-bench-home-"))
        shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
        env = {**os.environ, "RECMART_LAKE": str(lake), "RECMART_SOURCE_DB": f"sqlite:///{where / 'source.db'}",
               "DAGSTER_HOME": str(home), "RECMART_EXECUTOR": "in_process", "RECMART_ENGINE": "duckdb",
               "RECMART_RECS_STORE": f"sqlite:///{where / 'recommendations.sqlite'}"}
        with open(where / f"pairs-{name}.log", "w") as log:
            m = measure(cmd, env=env, cwd=str(REPO), log=log)
        shutil.rmtree(home, ignore_errors=True)
        times.append((name, m.seconds))
        print(f"{name:9s} {m.seconds:6.1f} s  {m.peak_tree_rss_mb:6.0f} MiB  load {os.getloadavg()[0]:.2f}", flush=True)
    for k, (name, seconds) in enumerate(times):
        if name != "reference":
            beside = (times[k - 1][1] + times[k + 1][1]) / 2
            print(f"{name} / reference beside it: {seconds / beside:.1f}")


if __name__ == "__main__":
    main()
