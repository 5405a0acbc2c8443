"""Check that a change to the scorer serves exactly what it served before (not a test).

    .venv/bin/python bench/realtime/check_scoring.py [--users 20000]

`scoring_before.py` is a reference copy of recmart/realtime/scoring.py before the exact pruning
of the session-source scoring (rt-sessions-3, as of 2026-12-03). This scores random histories
against random snapshots with both, on the items as the loader stores them (the blended session
row, `loader.blend_product`) and on items with separate source rows and neighbours only (the
evaluation's and older stores' items), and requires the same list for every user: score for
score by repr (bit for bit), reason for reason. Any difference fails the check.

Cases include those the loader never produces: a candidate listed twice in a row, many seeds,
negative seeds (removals from the cart), tied scores, scores out of order, seeds with and
without session-source rows, excluded products, a neighbour budget cut, small source budgets.
It also counts how many users the pruned scoring settled (`scoring._pruned`; the others are
scored entry by entry, as before). `bench_handler.py --combos sources:reference,sources:current`
measures the two in one run.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dataclasses  # noqa: E402

import scoring_before  # noqa: E402

from recmart.realtime import scoring  # noqa: E402
from recmart.realtime.history import HistoryEvent, Purchase, UserHistory  # noqa: E402
from recmart.realtime.loader import blend_product  # noqa: E402
from recmart.realtime.store.base import POPULAR, TRENDING_ALL, ItemInfo, category_scope  # noqa: E402

EVENTS = ["view"] * 6 + ["add_to_cart"] * 2 + ["remove_from_cart"]
CATEGORIES = ["A", "B", "C"]


def snapshot(rng: random.Random, n_products: int, row_len: int, ties: bool, duplicates: bool, ordered: bool):
    """(products, items, trending); `ordered`: rows best first with scores falling as the loader's do."""
    products = [f"P{i:04d}" for i in range(n_products)]

    def row(pid: str, n: int, duplicates: bool = duplicates) -> tuple:
        ids = [x for x in rng.sample(products, min(n + 1, n_products)) if x != pid][:n]
        if duplicates and ids and rng.random() < 0.3:
            ids.insert(rng.randrange(len(ids) + 1), rng.choice(ids))
        if ordered:
            scores = sorted((round(0.5 / (rank + rng.random()) ** 1.2, 6) for rank in range(1, len(ids) + 1)), reverse=True)
            if ties:
                scores = sorted((rng.choice([0.5, 0.25, 0.125]) for _ in ids), reverse=True)
            return tuple(zip(ids, scores, strict=True))
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


class _Counting:
    """Counts the users `scoring._pruned` settled, and the entries it scored."""

    def __init__(self) -> None:
        self.calls = self.settled = 0
        self._pruned = scoring._pruned

    def __call__(self, rows, excluded, n):
        self.calls += 1
        found = self._pruned(rows, excluded, n)
        if found is not None:
            self.settled += 1
        return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    settings_choices = [
        scoring.ScoringSettings(),
        scoring.ScoringSettings(candidate_budget=30),  # neighbour rows cut
        scoring.ScoringSettings(window=20, seed_events=40, source_budget=4000),
        scoring.ScoringSettings(top_n=5),
        scoring.ScoringSettings(top_n=1),
        scoring.ScoringSettings(source_budget=100),  # blended rows cut
        scoring.ScoringSettings(source_weights=(("session_neighbours", 4.0), ("sequential_rules", 0.0))),
    ]
    counting = _Counting()
    scoring._pruned = counting
    checked = 0
    for world in range(40):
        products, items, trending = snapshot(rng, rng.choice([30, 300, 3000]), rng.choice([10, 100]),
                                             ties=world % 3 == 0, duplicates=world % 4 == 1, ordered=world % 5 != 4)
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
                blended[weights] = {pid: dataclasses.replace(item, sources={} if row else item.sources, blend=row)
                                    for pid, item in items.items()
                                    for row in [blend_product(item.sources, weights)]}
            for world_items in (blended[weights], items):
                before = scoring_before.recommend(history, world_items, trending, settings)
                after = scoring.recommend(history, world_items, trending, settings)
                checked += 1
                if repr(before) != repr(after):
                    print("DIFFERENT", history, settings, before, after, sep="\n")
                    return 1
    print(f"{checked:,} lists, all identical (scores by repr, reasons, order); the pruned scoring "
          f"settled {counting.settled:,} of the {counting.calls:,} it was offered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
