"""Benchmark of the batch spine: one day from landed NDJSON files to the matrix and scores.

For each size (events per day) it seeds one day of sample data, then runs, each in a fresh
process and measured by bench/measure.py (wall time, peak RSS of every process it starts):
  (1) the spine of `daily_refresh` for the day: `dagster asset materialize` of the raw layer,
      cleaned events, the interaction matrix and scores, on the default engine (DuckDB,
      in-process executor)
  (1m) the same with RECMART_EXECUTOR=multiprocess (a process per step; only up to
      --multiprocess-max events)
  (1f) the whole `dagster job execute -j daily_refresh` (also features, marts and serving)
  (1s) the spine on the Spark engine (RECMART_ENGINE=spark, one local Spark JVM; --spark)
  (2) bench/spine/naive_pyspark_matrix.py: schema inference, pivot, default shuffle settings
  (3) bench/spine/duckdb_matrix.py: the same matrix in DuckDB SQL
and writes bench/spine/results-<sizes>.json; RESULTS.md quotes them with this command:
  .venv/bin/python bench/spine/run_bench.py 1000000 10000000 --spark --multiprocess-max 0
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
from measure import measure  # noqa: E402

DAY = dt.date(2026, 11, 20)
PY = sys.executable
# The spine: landed files and the export in, the interaction matrix and scores out.
SPINE = ("group:raw or key:curated_cleaned_events or key:quarantine_clickstream or key:curated_interaction_matrix "
         "or key:curated_interaction_scores")


def seed(size: int, where: Path) -> dict:
    from recmart.sample.seed import seed_sample

    marker = where / "seeded.json"
    if marker.exists():
        return json.loads(marker.read_text())
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    t = time.perf_counter()
    summary = seed_sample(str(where / "lake"), f"sqlite:///{where / 'source.db'}", DAY, 1, size,
                          users=max(1000, size // 100), seed=1, catalogue=None)
    info = {"seconds": round(time.perf_counter() - t, 1), "events": summary.events}
    marker.write_text(json.dumps(info))
    return info


def landing_bytes(lake: Path) -> tuple[int, int]:
    import gzip

    files = sorted((lake / "landing/clickstream").rglob("*"))
    files = [f for f in files if f.is_file()]
    raw = sum(len(gzip.decompress(f.read_bytes())) if f.suffix == ".gz" else f.stat().st_size for f in files)
    return sum(f.stat().st_size for f in files), raw


def run_stats(home: Path) -> dict:
    """The run's step times, and the raw step's Spark job time (its `job_seconds` metadata)."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(home)
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        stats = instance.get_run_step_stats(run.run_id)
        raw = instance.get_latest_materialization_event(dg.AssetKey("raw_clickstream"))
        job = raw.asset_materialization.metadata.get("job_seconds") if raw else None
        return {
            "steps": {s.step_key: round(s.end_time - s.start_time, 2) for s in stats if s.end_time},
            "raw_job_seconds": job.value if job else None,
        }


def bench(size: int, out: Path, multiprocess_max: int, whole: bool = True, spark: bool = False) -> dict:
    where = out / f"n{size}"
    seeded = seed(size, where)
    lake = where / "lake"
    gz_bytes, ndjson_bytes = landing_bytes(lake)
    results: dict = {"events_per_day": size, "seeded": seeded, "landing_gzip_bytes": gz_bytes,
                     "landing_ndjson_bytes": ndjson_bytes}
    spine = [str(REPO / ".venv/bin/dagster"), "asset", "materialize", "-m", "recmart.definitions",
             "--select", SPINE, "--partition", DAY.isoformat()]
    whole_job = [str(REPO / ".venv/bin/dagster"), "job", "execute", "-m", "recmart.definitions", "-j", "daily_refresh",
             "--tags", json.dumps({"dagster/partition": DAY.isoformat()})]
    runs = [("daily_refresh", "in_process", "duckdb", spine)]
    if size <= multiprocess_max:
        runs.append(("daily_refresh_multiprocess", "multiprocess", "duckdb", spine))
    if whole:
        runs.append(("daily_refresh_whole", "in_process", "duckdb", whole_job))
    if spark:
        runs.append(("spine_spark", "in_process", "spark", spine))
    for name, executor, engine, cmd in runs:
        home = Path(tempfile.mkdtemp(prefix="recmart-bench-home-"))
        shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
        env = {**os.environ, "RECMART_LAKE": str(lake), "RECMART_SOURCE_DB": f"sqlite:///{where / 'source.db'}",
               "DAGSTER_HOME": str(home), "RECMART_EXECUTOR": executor, "RECMART_ENGINE": engine,
               "RECMART_RECS_STORE": f"sqlite:///{where / 'recommendations.sqlite'}"}
        with open(where / f"{name}.log", "w") as log:
            m = measure(cmd, env=env, cwd=str(REPO), log=log)
        results[name] = {**asdict(m), **run_stats(home)}
        shutil.rmtree(home, ignore_errors=True)
    landing_days = [str(p) for p in sorted((lake / "landing/clickstream").glob("*/*/*")) if p.is_dir()]
    with open(where / "naive.log", "w") as log:
        results["naive_pyspark"] = asdict(measure(
            [PY, str(REPO / "bench/spine/naive_pyspark_matrix.py"), *landing_days,
             "--source-db", f"sqlite:///{where / 'source.db'}", "--day", DAY.isoformat(),
             "--out", str(where / "naive_out")], cwd=str(REPO), log=log))
    with open(where / "duckdb.log", "w") as log:
        results["duckdb"] = asdict(measure(
            [PY, str(REPO / "bench/spine/duckdb_matrix.py"), str(lake / "landing/clickstream/*/*/*/*/*"),
             "--source-db", f"sqlite:///{where / 'source.db'}", "--day", DAY.isoformat(),
             "--out", str(where / "duckdb_out.parquet")], cwd=str(REPO), log=log))
    ours = results["daily_refresh"]
    ingest, ingest_job = ours["steps"].get("raw_clickstream"), ours.get("raw_job_seconds")
    duck = results["duckdb"]["seconds"]
    results["summary"] = {
        "seconds_per_million_events": round(ours["seconds"] / size * 1e6, 2),
        "speedup_vs_naive": round(results["naive_pyspark"]["seconds"] / ours["seconds"], 2),
        "ratio_to_duckdb": round(ours["seconds"] / duck, 2),
        "whole_ratio_to_duckdb": round(results["daily_refresh_whole"]["seconds"] / duck, 2) if whole else None,
        "spark_spine_vs_naive": round(results["spine_spark"]["seconds"] / results["naive_pyspark"]["seconds"], 2)
        if spark else None,
        # MB = 10^6 bytes of NDJSON. The step's time includes Dagster's own work around the
        # Spark job (publishing the partition); the job's time is the ingest alone.
        "ingest_mb_per_s": round(ndjson_bytes / 1e6 / ingest, 1) if ingest else None,
        "ingest_job_mb_per_s": round(ndjson_bytes / 1e6 / ingest_job, 1) if ingest_job else None,
    }
    return results


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("sizes", nargs="+", type=int)
    p.add_argument("--out", default=str(REPO / "bench/out"))
    p.add_argument("--multiprocess-max", type=int, default=1_000_000,
                   help="run (1m) up to this many events a day (0: never)")
    p.add_argument("--no-whole", action="store_true", help="leave out (1f), the whole daily_refresh")
    p.add_argument("--spark", action="store_true", help="also (1s), the spine on the Spark engine")
    args = p.parse_args()
    out = Path(args.out)
    all_results = [bench(n, out, args.multiprocess_max, not args.no_whole, args.spark) for n in args.sizes]
    name = REPO / "bench/spine" / f"results-{'-'.join(str(n) for n in args.sizes)}.json"
    name.write_text(json.dumps(all_results, indent=2))
    for r in all_results:
        print(json.dumps({"events_per_day": r["events_per_day"], **r["summary"],
                          "ours_s": round(r["daily_refresh"]["seconds"], 1),
                          "ours_multiprocess_s": round(r["daily_refresh_multiprocess"]["seconds"], 1)
                          if "daily_refresh_multiprocess" in r else None,
                          "whole_daily_refresh_s": round(r["daily_refresh_whole"]["seconds"], 1)
                          if "daily_refresh_whole" in r else None,
                          "naive_s": round(r["naive_pyspark"]["seconds"], 1),
                          "duckdb_s": round(r["duckdb"]["seconds"], 1),
                          "spark_spine_s": round(r["spine_spark"]["seconds"], 1) if "spine_spark" in r else None,
                          "ours_peak_mb": r["daily_refresh"]["peak_tree_rss_mb"]}))


if __name__ == "__main__":
    main()
