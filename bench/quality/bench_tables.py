"""Time the candidate-source tables before and after the speed-up, in one process, interleaved.

    .venv/bin/python bench/quality/bench_tables.py [--repeats 3] [--synthetic 300000]
        [--train ../shared/data/rsc15-validation/yoochoose-clicks-100k_train_tr.txt]

Runs the `build_sources` equivalent (sessions_from_clicks, sequential_rules, session_neighbours,
completed on both, popularity; `SourceSettings` defaults) with the reference module
`bench/quality/tables_before.py` and with `recmart.recsources.tables`, alternating, on the
RSC15 training clicks and on synthetic clicks (sessions of geometric length, mean 8 events, at
most 150, Zipf products over 50,000, drift towards the previous product; seeded). Prints the
median of each step per variant and checks that both give equal tables (== on every score).
The machine is shared: compare the two columns of one run, not runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from recmart.evaluation.clicklog import read_clicks
from recmart.recsources import tables as after
from recmart.recsources.snapshot import SourceSettings

HERE = Path(__file__).resolve().parent
DEFAULT_TRAIN = HERE.parents[1] / ".." / "shared" / "data" / "rsc15-validation" / "yoochoose-clicks-100k_train_tr.txt"


def _reference():
    spec = importlib.util.spec_from_file_location("tables_before", HERE / "tables_before.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["tables_before"] = module
    spec.loader.exec_module(module)
    return module


def synthetic_clicks(clicks: int, seed: int = 7, products: int = 50_000) -> list[tuple[str, str, float]]:
    """(session, item, time) like synth_events.py's sessions, in memory."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, products + 1) ** 1.1
    weights /= weights.sum()
    out: list[tuple[str, str, float]] = []
    start, s = 1_700_000_000.0, 0
    while len(out) < clicks:
        length = min(int(rng.geometric(1 / 8)), 150)
        t = start + float(rng.uniform(0, 14 * 86400))
        item = int(rng.choice(products, p=weights))
        for _ in range(length):
            out.append((f"s{s}", f"p{item}", t))
            t += float(rng.exponential(40.0))
            item = (item + int(rng.integers(-20, 21))) % products if rng.random() < 0.6 \
                else int(rng.choice(products, p=weights))
        s += 1
    return out[:clicks]


def build(module, clicks, settings: SourceSettings):
    """({step: seconds}, result) of the build_sources equivalent with `module`."""
    times: dict[str, float] = {}

    def step(name, fn, *args):
        t0 = time.perf_counter()
        value = fn(*args)
        times[name] = time.perf_counter() - t0
        return value

    train = step("sessions_from_clicks", module.sessions_from_clicks, clicks)
    sr = step("sequential_rules", module.sequential_rules, train, settings.sr_steps, settings.sr_power,
              settings.sr_row_power, settings.half_life_days, settings.max_neighbours)
    sn = step("session_neighbours", module.session_neighbours, train, settings.sn_window, settings.sn_power,
              settings.sn_damping, settings.sn_length_power, settings.sn_row_power, settings.half_life_days,
              settings.max_neighbours)
    sr2 = step("completed(sr)", module.completed, sr, settings.two_hop_discount, settings.two_hop_fan_out,
               settings.max_neighbours)
    sn2 = step("completed(sn)", module.completed, sn, settings.two_hop_discount, settings.two_hop_fan_out,
               settings.max_neighbours)
    pop = step("popularity", module.popularity, train, settings.popular)
    times["total"] = sum(times.values())
    return times, (train, sr, sn, sr2, sn2, pop)


def bench(name: str, clicks, repeats: int, before, settings: SourceSettings) -> None:
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    results = {}
    for r in range(repeats):
        order = [("before", before), ("after", after)] if r % 2 == 0 else [("after", after), ("before", before)]
        for label, module in order:
            times, result = build(module, clicks, settings)
            runs[label].append(times)
            results[label] = result
            del result
    same = all(list(x.items()) == list(y.items()) if isinstance(x, dict) else x == y
               for x, y in zip(results["before"], results["after"], strict=True))
    sessions = len(results["after"][0])
    print(f"\n{name}: {len(clicks):,} clicks, {sessions:,} sessions, {repeats} repeats (median s);"
          f" results equal (incl. key order): {same}")
    print("| step | before s | after s | speed-up |\n|---|---|---|---|")
    for key in runs["before"][0]:
        b = statistics.median(t[key] for t in runs["before"])
        a = statistics.median(t[key] for t in runs["after"])
        print(f"| {key} | {b:.2f} | {a:.2f} | {b / a:.1f}x |")
    if not same:
        raise SystemExit("results differ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", default=str(DEFAULT_TRAIN))
    parser.add_argument("--synthetic", type=int, default=300_000, help="synthetic clicks (0: none)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    before, settings = _reference(), SourceSettings()
    if args.train:
        clicks = [(c.session, c.item, c.time) for c in read_clicks(args.train)]
        bench(f"RSC15 {Path(args.train).name}", clicks, args.repeats, before, settings)
    if args.synthetic:
        bench("synthetic", synthetic_clicks(args.synthetic), args.repeats, before, settings)


if __name__ == "__main__":
    main()
