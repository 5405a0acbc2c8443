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
from collections.abc import Iterator, Mapping, Sequence

from recmart.evaluation.protocol import Recommender
from recmart.realtime.history import HistoryEvent, HistoryLimits, UserHistory, merge_history
from recmart.realtime.loader import SOURCE_WEIGHTS, blend_product, blend_sources
from recmart.realtime.scoring import ScoringSettings, recommend
from recmart.realtime.store.base import POPULAR, ItemInfo, Neighbour, ProductInfo, TrendingEntry
from recmart.recsources.snapshot import SOURCES, SourceSettings, build_sources  # noqa: F401 (re-exported)


def snapshot_items(sources: Mapping[str, Mapping[str, Sequence[Neighbour]]],
                   neighbours: Mapping[str, Sequence[Neighbour]] | None = None,
                   products: Mapping[str, ProductInfo] | None = None,
                   blends: Mapping[str, tuple[Neighbour, ...]] | None = None) -> dict[str, ItemInfo]:
    """{product: ItemInfo} as the store would return it after loading these (see `load_snapshot`):
    the blended rows the loader stores (`blend`), plus the separate rows (`sources`, not stored).
    `blends`: `blend_sources(sources)` when the caller has it already."""
    neighbours, products = neighbours or {}, products or {}
    keyed = set(neighbours) | set(products)
    for table in sources.values():
        keyed.update(table)
    if blends is None:
        blends = blend_sources(sources)
    items = {}
    for pid in keyed:
        info = products.get(pid)
        rows = {source: tuple(table[pid]) for source, table in sources.items() if table.get(pid)}
        items[pid] = ItemInfo(pid, info.name if info else None, info.category if info else None,
                              tuple(neighbours.get(pid, ())), rows, blends.get(pid, ()))
    return items


class _Blended(Mapping[str, ItemInfo]):
    """The items with their separate rows blended at `weights`, as the loader would store them,
    each blended when it is first read: a report reads the rows of the few thousand products
    its histories hold, and blending every product of the snapshot up front was most of its
    time (two sources alone: twice the whole snapshot, for a day's report)."""

    def __init__(self, items: Mapping[str, ItemInfo], weights: Sequence[tuple[str, float]]) -> None:
        self._items, self._weights = items, tuple(weights)
        self._done: dict[str, ItemInfo] = {}

    def __getitem__(self, pid: str) -> ItemInfo:
        done = self._done.get(pid)
        if done is None:
            item = self._items[pid]
            done = dataclasses.replace(item, blend=blend_product(item.sources, self._weights)) if item.sources else item
            self._done[pid] = done
        return done

    def __contains__(self, pid: object) -> bool:
        return pid in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def as_events(session: str, items: Sequence[str], times: Sequence[float]) -> list[HistoryEvent]:
    """A click log's session as the handler's view events (ids unique within the session)."""
    return [HistoryEvent(f"{session}#{k}", "view", item, int(round(t * 1_000_000)))
            for k, (item, t) in enumerate(zip(items, times, strict=True))]


def _scorer(items: Mapping[str, ItemInfo], trending: Mapping[str, Sequence[TrendingEntry]],
            settings: ScoringSettings, limits: HistoryLimits, held: list) -> Recommender:
    by_n: dict[int, ScoringSettings] = {}

    def serve(history: Sequence[HistoryEvent], n: int) -> list[str]:
        s = by_n.get(n) or by_n.setdefault(n, dataclasses.replace(settings, top_n=n))
        return [r["product_id"] for r in recommend(_held(held, history, limits), items, trending, s)]
    return serve


def _held(last: list, history: Sequence[HistoryEvent], limits: HistoryLimits) -> UserHistory:
    """What the handler would hold after `history` (`merge_history` with its limits). The
    protocol asks every recommender in turn at one position with the same history object, so
    the last merge is kept ([history, held], shared by the recommenders of one `recommenders`
    call) and taken while that same object is asked again; merge_history is a pure function."""
    if not last or last[0] is not history:
        last[:] = [history, merge_history(UserHistory("judged"), history, (), limits)]
    return last[1]


def recommenders(items: Mapping[str, ItemInfo], trending: Mapping[str, Sequence[TrendingEntry]],
                 popular: Sequence[TrendingEntry], settings: ScoringSettings = ScoringSettings(),
                 limits: HistoryLimits = HistoryLimits()) -> dict[str, Recommender]:
    """{name: recommender}: popularity, each source alone, item neighbours (if any), the served blend."""
    top = [pid for pid, _ in popular]
    trending = {**trending, POPULAR: tuple(popular)} if popular else dict(trending)
    held: list = []  # the last merged history, shared (`_held`)
    out: dict[str, Recommender] = {"popularity": lambda history, n: top[:n]}
    for source, _ in settings.source_weights:
        alone = dataclasses.replace(settings, source_weights=((source, 1.0),))
        out[source] = _scorer(_Blended(items, alone.source_weights), trending, alone, limits, held)
    if any(item.neighbours for item in items.values()):
        bare = {pid: dataclasses.replace(item, sources={}, blend=()) for pid, item in items.items()}
        out["item_neighbours"] = _scorer(bare, trending, settings, limits, held)
    # As stored, at the loader's weights; other weights (a tuning run) blend as the loader would at them.
    served = items if tuple(settings.source_weights) == SOURCE_WEIGHTS else _Blended(items, settings.source_weights)
    out["served_blend"] = _scorer(served, trending, settings, limits, held)
    return out
