"""Wall time and peak RSS of the session sources and of the quality report at 1 M and 5 M clicks,
before (every event of the window as a dict, no bound) and after (Arrow, bounded), in one run.

    .venv/bin/python bench/quality/bench_sources_scale.py 1000000 5000000 [--out /tmp/rq-bench]

For each size, bench/quality/synth_events.py writes a lake of cleaned events (SIZE clicks over
the 14 days of the window, and the judged day after it), then each of four jobs runs in a
fresh process, measured by `measure` below (wall time, and the peak RSS of the process from
`os.wait4`'s rusage: no sampling, nothing to install):

- snapshot/before: what `recommendation_snapshot[D]` did until now: the 14 partitions read with
  `read_partition(...).to_pylist()`, then the sources of every click (`build_sources`);
- snapshot/after: `window_sources` as the asset now calls it (the newest
  `SourceSettings.max_clicks` clicks, three columns read as Arrow);
- quality/before: what `curated_recommendation_quality[D+1]` did until now: every event of the window
  and of the day as dicts, the sources of every click, the report (a verbatim copy of the
  former `judge_day`, below);
- quality/after: `judge_lake_day` as the asset now calls it.

The store load of the snapshot (unchanged) is left out of both. Each job also reports a digest
of what it built (the tables and popularity fill, or the report's rows): below the bound
before and after must agree, which the bench checks. Results go to
bench/quality/results-scale-<sizes>.json; RESULTS_SCALE.md quotes them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench/quality"))

DAY = dt.date(2026, 11, 20)  # the snapshot's day; the report judges the day after it
JOBS = ("snapshot/before", "snapshot/after", "quality/before", "quality/after")


def _digest(value) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def _window(day: dt.date, newest_first: bool) -> list[str]:
    days = [(day - dt.timedelta(days=k)).isoformat() for k in range(14)]
    return days if newest_first else days[::-1]


# ---- before: the former code path, kept here verbatim (recmart/steps/recommendation_quality.py and
# ---- the two assets as they were), on the pure functions it called, which did not change.

def before_snapshot(lake):
    from recmart.recsources.snapshot import build_sources
    from recmart.recsources.tables import sessions_from_clicks
    from recmart.steps.recommendation_quality import EVENT_COLUMNS, source_clicks
    from recmart.tables import CURATED_CLEANED_EVENTS

    events = []
    for key in _window(DAY, newest_first=True):
        part = lake.read_partition(CURATED_CLEANED_EVENTS, key, EVENT_COLUMNS)
        if part is not None:
            events.extend(part.to_pylist())
    tables, popular = build_sources(sessions_from_clicks(source_clicks(events)))
    return {"events": len(events)}, (tables, popular)


def before_judge_day(day_events, window_events, neighbours=(), trending=(), products=(), settings=None):
    from recmart.evaluation.protocol import evaluate
    from recmart.evaluation.recommenders import recommenders, snapshot_items
    from recmart.realtime.loader import group_neighbours, group_trending, product_infos
    from recmart.recsources.snapshot import build_sources
    from recmart.recsources.tables import sessions_from_clicks
    from recmart.steps.recommendation_quality import (
        LIST_LENGTH,
        Report,
        _sample,
        _user_events,
        source_clicks,
    )

    window_events = list(window_events)
    tables, popular = build_sources(sessions_from_clicks(source_clicks(window_events)))
    items = snapshot_items(tables, group_neighbours(neighbours), product_infos(products))
    today = _user_events(day_events)
    sampled = _sample(today, settings.max_users)
    test = {u: rows for u, rows in today.items() if u in sampled}
    earlier = _user_events(window_events)
    prior = {u: earlier[u] for u in test if u in earlier}
    train = sessions_from_clicks(source_clicks(window_events))
    results = evaluate({s: [i for i, _ in rows] for s, rows in train.items()}, test,
                       recommenders(items, group_trending(trending), popular), cutoff=LIST_LENGTH, prior=prior)
    return Report(results, len(today), sum(1 for rows in test.values() if len(rows) > 1))


def before_quality(lake):
    from recmart.steps.recommendation_quality import EVENT_COLUMNS, QualitySettings
    from recmart.tables import CURATED_CLEANED_EVENTS

    def rows(keys):
        out = []
        for key in keys:
            part = lake.read_partition(CURATED_CLEANED_EVENTS, key, EVENT_COLUMNS)
            if part is not None:
                out.extend(part.to_pylist())
        return out

    judged = DAY + dt.timedelta(days=1)
    window = rows(_window(DAY, newest_first=False))
    today = rows([judged.isoformat()])
    report = before_judge_day(today, window, settings=QualitySettings())
    return {"events": len(window) + len(today), "users_active": report.users_active,
            "users_judged": report.users_judged}, report


def after_snapshot(lake):
    from recmart.steps.recommendation_quality import window_sources

    tables, popular, clicks = window_sources(lake, _window(DAY, newest_first=True))
    return clicks.metadata(), (tables, popular)


def after_quality(lake):
    from recmart.steps.recommendation_quality import judge_lake_day

    judged = DAY + dt.timedelta(days=1)
    report, clicks = judge_lake_day(lake, judged.isoformat(), _window(DAY, newest_first=False))
    return {**clicks.metadata(), "users_active": report.users_active, "users_judged": report.users_judged}, report


def measure(command: list[str], log) -> dict:
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=str(REPO), stdout=log, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": round(time.perf_counter() - started, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "returncode": proc.returncode}


def run_job(job: str, root: str, out: str) -> None:
    """In the measured child process: one job, its figures and digest to `out`."""
    from recmart.resources.lake import LocalLake
    from recmart.steps.recommendation_quality import report_rows

    lake = LocalLake(root=root)
    fn = {"snapshot/before": before_snapshot, "snapshot/after": after_snapshot,
          "quality/before": before_quality, "quality/after": after_quality}[job]
    started = time.perf_counter()
    info, built = fn(lake)
    seconds = time.perf_counter() - started
    if job.startswith("snapshot"):
        tables, popular = built
        digest = _digest([tables, popular])
        info["source_rows"] = sum(len(t) for t in tables.values())
    else:
        rows = report_rows(built)
        digest = _digest(rows)
        served = {(r["recommender"], r["scope"]): r for r in rows}.get(("served_blend", "next_is_other"), {})
        info.update({"positions": served.get("positions"), "served_hr_at_20": served.get("hr_at_20"),
                     "served_mrr_at_20": served.get("mrr_at_20")})
    Path(out).write_text(json.dumps({"job_seconds": round(seconds, 1), "digest": digest, **info}))


def main() -> None:
    from synth_events import synthesise

    p = argparse.ArgumentParser()
    p.add_argument("sizes", nargs="*", type=int, default=[1_000_000, 5_000_000])
    p.add_argument("--out", default="/tmp/rq-bench")
    p.add_argument("--jobs", default=",".join(JOBS))
    a = p.parse_args()
    from recmart.recsources.snapshot import SourceSettings

    results = {"bound": SourceSettings().max_clicks, "sizes": {}}
    for size in a.sizes:
        where = Path(a.out) / f"n{size}"
        started = time.perf_counter()
        seeded = synthesise(str(where), size, DAY)
        entry = {"synthesised": seeded, "synth_seconds": round(time.perf_counter() - started, 1)}
        for job in a.jobs.split(","):
            out = where / f"{job.replace('/', '-')}.json"
            out.unlink(missing_ok=True)
            with open(where / f"{job.replace('/', '-')}.log", "w") as log:
                m = measure([sys.executable, __file__, "--run", job, str(where), str(out)], log)
            child = json.loads(out.read_text()) if m["returncode"] == 0 and out.exists() else {}
            entry[job] = {**m, **child}
            print(size, job, entry[job], flush=True)
        for kind in ("snapshot", "quality"):
            b, f = entry.get(f"{kind}/before", {}), entry.get(f"{kind}/after", {})
            if b.get("digest") and f.get("digest"):
                entry[f"{kind}/same_result"] = b["digest"] == f["digest"]
        results["sizes"][str(size)] = entry
        print(json.dumps({k: v for k, v in entry.items() if k.endswith("same_result")}), flush=True)
    path = REPO / "bench/quality" / f"results-scale-{'-'.join(map(str, a.sizes))}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--run":
        run_job(*sys.argv[2:5])
    else:
        main()
