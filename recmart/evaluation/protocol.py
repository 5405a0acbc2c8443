"""The next-interaction protocol: after each click of a test session but its last, the list a
recommender would serve is judged against the session's next click.

Two scopes, both reported:
- `all`: every position, the list as served (a recommender that never shows the current
  product misses every position whose next click repeats it);
- `next_is_other`: only the positions whose next click is another product, with the
  current product removed from every list first, so a recommender that shows it is not
  penalised for the slot and one that hides it is not penalised for the repeat.

Per scope: HR@10 and HR@20 (the next click is in the top 10 / 20), MRR@20 (1/rank, 0
beyond 20), NDCG@20 (1/log2(rank + 1): one relevant item, so the ideal DCG is 1),
catalogue coverage (distinct products in any top 20 / distinct products in training) and
popularity bias (per list, the mean of each product's training clicks / the most clicked
product's; averaged over lists: session-rec's "popularity" figure).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

# (the session's clicks so far, oldest first; how many to return) -> items, best first.
# A click is an item id, or an event with a `product_id` (the handler's HistoryEvent).
Recommender = Callable[[Sequence, int], Sequence[str]]

SCOPES = ("all", "next_is_other")
CUTOFF = 20


@dataclass(frozen=True)
class Result:
    recommender: str
    scope: str
    positions: int
    hr_at_10: float
    hr_at_20: float
    mrr_at_20: float
    ndcg_at_20: float
    coverage: float
    popularity_bias: float

    def as_dict(self) -> dict:
        return asdict(self)


class _Tally:
    def __init__(self) -> None:
        self.positions = 0
        self.hits10 = 0
        self.hits20 = 0
        self.rr = 0.0
        self.ndcg = 0.0
        self.pop = 0.0
        self.shown: set[str] = set()

    def add(self, top: Sequence[str], target: str, popularity: Mapping[str, float]) -> None:
        self.positions += 1
        self.shown.update(top)
        if top:
            self.pop += sum(popularity.get(i, 0.0) for i in top) / len(top)
        for rank, item in enumerate(top, start=1):
            if item == target:
                self.hits20 += 1
                self.hits10 += rank <= 10
                self.rr += 1.0 / rank
                self.ndcg += 1.0 / math.log2(rank + 1)
                break

    def result(self, name: str, scope: str, catalogue: int) -> Result:
        n = self.positions or 1  # no position: every figure is 0, and `positions` says why
        return Result(name, scope, self.positions, self.hits10 / n, self.hits20 / n, self.rr / n,
                      self.ndcg / n, len(self.shown) / catalogue if catalogue else 0.0, self.pop / n)


def training_popularity(train_sessions: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """{item: its training clicks / the most clicked item's}: the popularity-bias scale."""
    counts = Counter(i for items in train_sessions.values() for i in items)
    top = max(counts.values(), default=0)
    return {i: c / top for i, c in counts.items()} if top else {}


def _item(click) -> str:
    return click if isinstance(click, str) else click.product_id


def evaluate(train_sessions: Mapping[str, Sequence], test_sessions: Mapping[str, Sequence],
             recommenders: Mapping[str, Recommender], cutoff: int = CUTOFF,
             prior: Mapping[str, Sequence] | None = None) -> list[Result]:
    """Two results (one per scope) per recommender, in the order the recommenders are given.

    Each recommender is asked for `cutoff + 1` items, so that `cutoff` remain once the
    current product is removed for the `next_is_other` scope. `prior` {session: clicks}
    are clicks of a judged session (user) from before the test, which the recommender's
    history starts with but which are not judged: the handler keeps a user's history
    across days.
    """
    if cutoff < 10:
        raise ValueError(f"cutoff {cutoff} is below 10: HR@10 needs at least 10 slots")
    popularity = training_popularity({s: [_item(c) for c in cs] for s, cs in train_sessions.items()})
    catalogue = len(popularity)
    prior = prior or {}
    # Position by position, every recommender in turn on the same history object: the scorers
    # share what the handler would hold after it (`recmart.evaluation.recommenders._held`).
    # Each tally adds its positions in the same order as one recommender at a time would.
    tallies = {name: {scope: _Tally() for scope in SCOPES} for name in recommenders}
    for session, items in test_sessions.items():
        before = list(prior.get(session, ()))
        for pos in range(len(items) - 1):
            history = before + list(items[:pos + 1]) if before else items[:pos + 1]
            current, target = _item(items[pos]), _item(items[pos + 1])
            for name, recommend in recommenders.items():
                served = list(recommend(history, cutoff + 1))
                tallies[name]["all"].add(served[:cutoff], target, popularity)
                if target != current:
                    other = [i for i in served if i != current][:cutoff]
                    tallies[name]["next_is_other"].add(other, target, popularity)
    return [tallies[name][scope].result(name, scope, catalogue) for name in recommenders for scope in SCOPES]
