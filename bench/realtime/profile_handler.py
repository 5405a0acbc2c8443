"""Where the handler's time goes: cProfile of one benchmark case (not a test).

    .venv/bin/python bench/realtime/profile_handler.py --snapshot sources --case 0 [--products 20000]

Builds the SQLite store of `bench_handler.py`, warms the handler as the benchmark does, then
profiles the timed part of the case and prints the functions by own time and cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_handler import CASES, SNAPSHOTS, START, batches_of, clicks, sqlite_store  # noqa: E402

from recmart.realtime.config import HandlerConfig  # noqa: E402
from recmart.realtime.dead_letters import MemoryDeadLetters  # noqa: E402
from recmart.realtime.handler import Handler, tune_garbage_collector  # noqa: E402
from recmart.realtime.kinesis import Shard, batch_event  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--snapshot", default="sources", choices=list(SNAPSHOTS))
    parser.add_argument("--case", type=int, default=0, help="index into bench_handler.CASES")
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--warm", type=int, default=None, help="warm-up records (default: half of --records)")
    args = parser.parse_args()
    store, _ = sqlite_store(args.products, 50, SNAPSHOTS[args.snapshot][1], 100, 1.0)
    label, cache, batch_size, seed = CASES[args.case]
    handler = Handler(store, MemoryDeadLetters(), HandlerConfig(item_cache_size=cache, log_level="WARNING"))
    shard = Shard()
    tune_garbage_collector()  # as the Lambda does
    for batch in batches_of(shard, clicks(args.records // 2 if args.warm is None else args.warm, args.users, args.products, seed=seed + 100), 100):
        handler.process(batch_event(batch))
    profile = cProfile.Profile()
    for batch in batches_of(shard, clicks(args.records, args.users, args.products, seed=seed,
                                          start=START + timedelta(hours=seed)), batch_size):
        event = batch_event(batch)
        profile.enable()
        handler.process(event)
        profile.disable()
    print(f"{args.snapshot}, {label}, batch {batch_size}, {args.records} records")
    stats = pstats.Stats(profile)
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    store.close()


if __name__ == "__main__":
    main()
