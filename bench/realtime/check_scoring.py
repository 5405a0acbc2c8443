"""Check that a change to the scorer serves what it served before (not a test).

    .venv/bin/python bench/realtime/check_scoring.py [--users 20000]

`scoring_before.py` is a reference copy of recmart/realtime/scoring.py (SCORER_VERSION
rt-sessions-2, as of 2026-12-02), scoring the separate session-source rows. The current
scorer (rt-sessions-3) scores the rows the loader pre-blends (`loader.blend_product` of the
same rows at the same weights). This scores random histories against random snapshots with
both and compares list by list:

- the same list, score for score (by repr: bit for bit) and reason for reason: `identical`;
- the same products and reasons, scores equal to 1e-9 relative (float order of the sums):
  `float order`;
- at some positions another product, every position's score equal to 1e-9: near-tied
  candidates ordered by sums that differ in their last bits, `near-tie order`;
- reasons that differ: the reason is now the seed whose blended row contributed most, before
  the seed of the largest single source row (`reason`, counted apart, scores equal to 1e-9);
- anything else (a score differing by more) fails the check.

Cases include those the loader never produces: a candidate listed twice in a source row,
many seeds, negative seeds (removals from the cart), tied scores, seeds with and without
session-source rows, excluded products, a neighbour budget cut. Not compared: rows cut by a
small `source_budget` (the cut now falls on the blended row, so it keeps other entries by
design). `bench_handler.py --combos sources:reference,sources:current` measures the two in
one run.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dataclasses  # noqa: E402
import math  # noqa: E402

import scoring_before  # noqa: E402

from recmart.realtime import scoring  # noqa: E402
from recmart.realtime.history import HistoryEvent, Purchase, UserHistory  # noqa: E402
from recmart.realtime.loader import blend_product  # noqa: E402
from recmart.realtime.store.base import POPULAR, TRENDING_ALL, ItemInfo, category_scope  # noqa: E402

EVENTS = ["view"] * 6 + ["add_to_cart"] * 2 + ["remove_from_cart"]
CATEGORIES = ["A", "B", "C"]


def snapshot(rng: random.Random, n_products: int, row_len: int, ties: bool, duplicates: bool):
    products = [f"P{i:04d}" for i in range(n_products)]

    def row(pid: str, n: int, duplicates: bool = duplicates) -> tuple:
        ids = [x for x in rng.sample(products, min(n + 1, n_products)) if x != pid][:n]
        if duplicates and ids and rng.random() < 0.3:
            ids.insert(rng.randrange(len(ids) + 1), rng.choice(ids))
        return tuple((x, (rng.choice([0.5, 0.25, 0.125]) if ties else round(rng.random(), 6))) for x in ids)

    items = {}
    for pid in products:
        r = rng.random()
        sources = {}
        if r < 0.7:
            sources = {"sequential_rules": row(pid, rng.randint(0, row_len)),
                       "session_neighbours": row(pid, rng.randint(0, row_len))}
            if rng.random() < 0.1:
                sources.pop(rng.choice(list(sources)))
        if r < 0.9 or not sources:
            items[pid] = ItemInfo(pid, None, rng.choice(CATEGORIES + [None]), row(pid, rng.randint(0, 50), False),
                                  {k: v for k, v in sources.items() if v})
    trending = {scope: tuple((p, 1.0) for p in rng.sample(products, 30))
                for scope in [TRENDING_ALL, POPULAR] + [category_scope(c) for c in CATEGORIES]}
    return products, items, trending


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    # source_budget: rows whole in both scorers (the reference cuts each of its rows at
    # source_budget // seeds, the current scorer the blended row).
    settings_choices = [
        scoring.ScoringSettings(),
        scoring.ScoringSettings(candidate_budget=30),  # neighbour rows cut
        scoring.ScoringSettings(window=20, seed_events=40, source_budget=4000),
        scoring.ScoringSettings(top_n=5),
        scoring.ScoringSettings(source_weights=(("session_neighbours", 4.0), ("sequential_rules", 0.0))),
    ]
    counts = dict.fromkeys(["identical", "float order", "near-tie order", "reason"], 0)
    example = None
    checked = 0
    for world in range(40):
        products, items, trending = snapshot(rng, rng.choice([30, 300, 3000]), rng.choice([10, 100]),
                                             ties=world % 3 == 0, duplicates=world % 4 == 1)
        blended: dict[tuple, dict] = {}  # per source weights: the items as the loader stores them
        for _ in range(args.users // 40):
            n = rng.choice([1, 2, 3, 5, 10, 20, 50])
            events = tuple(HistoryEvent(f"e{i}", rng.choice(EVENTS), rng.choice(products),
                                        1_800_000_000_000_000 + i * rng.choice([1, 30_000_000, 3_600_000_000]))
                           for i in range(n))
            purchases = tuple(Purchase(f"o{i}", rng.choice(products), 1_800_000_000_000_000) for i in range(rng.choice([0, 0, 2])))
            history = UserHistory("u", events, purchases)
            settings = rng.choice(settings_choices)
            weights = settings.source_weights
            if weights not in blended:
                # As the loader stores them: the blend alone. A product whose rows all have weight 0
                # here (only with weights like (4, 0)) keeps its rows, as the evaluation's per-source
                # items do: it then seeds nothing, as before, instead of falling back to neighbours.
                blended[weights] = {pid: dataclasses.replace(item, sources={} if row else item.sources, blend=row)
                                    for pid, item in items.items()
                                    for row in [blend_product(item.sources, weights)]}
            before = scoring_before.recommend(history, items, trending, settings)
            after = scoring.recommend(history, blended[weights], trending, settings)
            checked += 1
            kind = compare(before, after)
            if kind is None:
                print("DIFFERENT", history, settings, before, after, sep="\n")
                return 1
            counts[kind] += 1
            if kind == "reason" and example is None:
                example = (before, after)
    differ = checked - counts["identical"]
    print(f"{checked:,} users: {differ:,} lists differ at all ({differ / checked:.2%}); " +
          ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    if example:
        b, a = example
        print("a reason that differs:", next((x, y) for x, y in zip(b, a, strict=True) if x["reason"] != y["reason"]))
    return 0


def compare(before: list[dict], after: list[dict]) -> str | None:
    """The kind of difference (see the module's docstring), or None: not allowed."""
    if repr(before) == repr(after):
        return "identical"
    if len(before) != len(after):
        return None
    if not all(math.isclose(b["score"], a["score"], rel_tol=1e-9, abs_tol=1e-12) for b, a in zip(before, after, strict=True)):
        return None
    reason_before = {r["product_id"]: r["reason"] for r in before}
    if any(reason_before.get(r["product_id"], r["reason"]) != r["reason"] for r in after):
        return "reason"
    if [r["product_id"] for r in before] != [r["product_id"] for r in after]:
        return "near-tie order"
    return "float order"


if __name__ == "__main__":
    sys.exit(main())
