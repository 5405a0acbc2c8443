"""The recommenders `recmart evaluate` and the daily report judge: the real-time scorer itself.

Every recommender but popularity is `recmart.realtime.scoring.recommend`, the function the
handler serves with, over a snapshot (`items`, `trending`) of the shape the store returns,
and each judged history is the one the handler would hold (`merge_history` with its
limits). So what is judged is what is served, not a re-implementation of it.

- `popularity`: the most clicked products of training, the same list for everyone;
- one per candidate source alone: the scorer with only that source's weight (same seeds,
  same recency, same fill), on that source's row blended alone (weight 1) the way the
  loader blends (`recmart.realtime.loader.blend_product`);
- `item_neighbours` (only when the snapshot has any): the scorer with the session sources
  taken out of the snapshot, i.e. what it served before they existed;
- `served_blend`: the scorer as served, at its default settings, on the blended rows the
  loader stores (`snapshot_items` builds them with the loader's `blend_sources`).

The store keeps only the blended row of a product; the items of `snapshot_items` keep the
separate rows too (`ItemInfo.sources`, which the scorer ignores where there is a blend), so
that each source can be judged alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from recmart.evaluation.protocol import Recommender
from recmart.realtime.history import HistoryEvent, HistoryLimits, UserHistory, merge_history
from recmart.realtime.loader import SOURCE_WEIGHTS, blend_product, blend_sources
from recmart.realtime.scoring import ScoringSettings, recommend
from recmart.realtime.store.base import POPULAR, ItemInfo, Neighbour, ProductInfo, TrendingEntry
from recmart.recsources.snapshot import SOURCES, SourceSettings, build_sources  # noqa: F401 (re-exported)


def snapshot_items(sources: Mapping[str, Mapping[str, Sequence[Neighbour]]],
                   neighbours: Mapping[str, Sequence[Neighbour]] | None = None,
                   products: Mapping[str, ProductInfo] | None = None) -> dict[str, ItemInfo]:
    """{product: ItemInfo} as the store would return it after loading these (see `load_snapshot`):
    the blended rows the loader stores (`blend`), plus the separate rows (`sources`, not stored)."""
    neighbours, products = neighbours or {}, products or {}
    keyed = set(neighbours) | set(products)
    for table in sources.values():
        keyed.update(table)
    blends = blend_sources(sources)
    items = {}
    for pid in keyed:
        info = products.get(pid)
        rows = {source: tuple(table[pid]) for source, table in sources.items() if table.get(pid)}
        items[pid] = ItemInfo(pid, info.name if info else None, info.category if info else None,
                              tuple(neighbours.get(pid, ())), rows, blends.get(pid, ()))
    return items


def _blended(items: Mapping[str, ItemInfo], weights: Sequence[tuple[str, float]]) -> dict[str, ItemInfo]:
    """The items with their separate rows blended at `weights`, as the loader would store them."""
    weights = tuple(weights)
    return {pid: dataclasses.replace(item, blend=blend_product(item.sources, weights)) if item.sources else item
            for pid, item in items.items()}


def as_events(session: str, items: Sequence[str], times: Sequence[float]) -> list[HistoryEvent]:
    """A click log's session as the handler's view events (ids unique within the session)."""
    return [HistoryEvent(f"{session}#{k}", "view", item, int(round(t * 1_000_000)))
            for k, (item, t) in enumerate(zip(items, times, strict=True))]


def _scorer(items: Mapping[str, ItemInfo], trending: Mapping[str, Sequence[TrendingEntry]],
            settings: ScoringSettings, limits: HistoryLimits) -> Recommender:
    by_n: dict[int, ScoringSettings] = {}

    def serve(history: Sequence[HistoryEvent], n: int) -> list[str]:
        s = by_n.get(n) or by_n.setdefault(n, dataclasses.replace(settings, top_n=n))
        held = merge_history(UserHistory("judged"), history, (), limits)  # what the handler would hold
        return [r["product_id"] for r in recommend(held, items, trending, s)]
    return serve


def recommenders(items: Mapping[str, ItemInfo], trending: Mapping[str, Sequence[TrendingEntry]],
                 popular: Sequence[TrendingEntry], settings: ScoringSettings = ScoringSettings(),
                 limits: HistoryLimits = HistoryLimits()) -> dict[str, Recommender]:
    """{name: recommender}: popularity, each source alone, item neighbours (if any), the served blend."""
    top = [pid for pid, _ in popular]
    trending = {**trending, POPULAR: tuple(popular)} if popular else dict(trending)
    out: dict[str, Recommender] = {"popularity": lambda history, n: top[:n]}
    for source, _ in settings.source_weights:
        alone = dataclasses.replace(settings, source_weights=((source, 1.0),))
        out[source] = _scorer(_blended(items, alone.source_weights), trending, alone, limits)
    if any(item.neighbours for item in items.values()):
        bare = {pid: dataclasses.replace(item, sources={}, blend=()) for pid, item in items.items()}
        out["item_neighbours"] = _scorer(bare, trending, settings, limits)
    # As stored, at the loader's weights; other weights (a tuning run) blend as the loader would at them.
    served = items if tuple(settings.source_weights) == SOURCE_WEIGHTS else _blended(items, settings.source_weights)
    out["served_blend"] = _scorer(served, trending, settings, limits)
    return out
