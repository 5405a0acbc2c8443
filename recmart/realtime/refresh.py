"""Apply new events (or purchases) to users' histories and refresh their recommendations.

`Refresher` does the store work for a batch of users with as few round trips as it can:
one batched read of all their histories, one batched read of the neighbours of all their
seed products (fewer with the warm cache), one of the trending scopes; then per user one
conditional history write and one recommendations write. The handler is its Kinesis
front end; `record_purchases` is its purchases front end.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import cast

from recmart.realtime.config import HandlerConfig
from recmart.realtime.history import HistoryEvent, Purchase, UserHistory, merge_history
from recmart.realtime.scoring import SCORER_VERSION, recommend, seed_weights, trending_scopes_of
from recmart.realtime.store.base import (
    HistoryConflict,
    ItemInfo,
    RecommendationStore,
    Snapshot,
    TrendingEntry,
    expiry,
    history_ttl,
)
from recmart.realtime.timeutil import micros_to_iso

_CONFLICT_ATTEMPTS = 4
_UNKNOWN = object()  # not in the item cache (None there: the snapshot does not know the product)
_EVENT_ID = attrgetter("event_id")


@dataclass
class UserUpdate:
    user_id: str
    events: list[HistoryEvent] = field(default_factory=list)
    purchases: list[Purchase] = field(default_factory=list)


@dataclass(frozen=True)
class Refreshed:
    user_id: str
    new_events: int  # events not seen before (the others were retries or replays)
    duplicates: int
    written: bool  # False: the store already had newer recommendations
    recommendations: dict | None


def build_recommendations(history: UserHistory, items: Mapping[str, ItemInfo],
                          trending: Mapping[str, Sequence[TrendingEntry]], snapshot: Snapshot | None,
                          config: HandlerConfig, weights: Mapping[str, float] | None = None,
                          now_seconds: float | None = None) -> dict:
    """The stored item: deterministic in its inputs, but for `ttl`.

    `updated_at` is the newest event's time, never 'now'; `history_revision` and
    `snapshot_generation` say what the item was computed from (they order writes of the
    same `updated_at`, see `recommendations_order`). Only `ttl` reads the wall clock
    (`now_seconds`, default now), so that no write is born expired (see `expiry`).
    """
    newest = history.newest_micros or 0
    return {
        "user_id": history.user_id,
        "items": recommend(history, items, trending, config.scoring, weights),
        "model_version": f"{SCORER_VERSION}+{snapshot.version if snapshot else 'none'}",
        "updated_at": micros_to_iso(newest),
        "ttl": expiry(newest, config.recs_ttl_days, time.time() if now_seconds is None else now_seconds),
        "history_revision": history.revision,
        "snapshot_generation": snapshot.generation if snapshot else 0,
    }


class Refresher:
    def __init__(self, store: RecommendationStore, config: HandlerConfig = HandlerConfig(),
                 clock=time.monotonic, wall_clock=time.time) -> None:
        self.store = store
        self.config = config
        self._clock = clock
        self._wall_clock = wall_clock  # for expiry times only
        self._snapshot: Snapshot | None = None
        self._snapshot_read_at: float | None = None
        # Warm-Lambda caches of the current generation: products (None: unknown to it) and scopes.
        self._items: OrderedDict[str, ItemInfo | None] = OrderedDict()
        self._trending: dict[str, tuple[TrendingEntry, ...]] = {}
        self._cached_generation: int | None = None

    # ---- snapshot reads, cached ------------------------------------------------------------
    def snapshot(self) -> Snapshot | None:
        now = self._clock()
        if self._snapshot_read_at is None or now - self._snapshot_read_at >= self.config.snapshot_refresh_seconds:
            self._snapshot = self.store.current_snapshot()
            self._snapshot_read_at = now
        generation = self._snapshot.generation if self._snapshot else None
        if generation != self._cached_generation:
            self._items.clear()
            self._trending.clear()
            self._cached_generation = generation
        return self._snapshot

    def items(self, product_ids: Iterable[str], snapshot: Snapshot | None) -> dict[str, ItemInfo]:
        wanted = set(product_ids)
        if snapshot is None or not wanted:
            return {}
        found: dict[str, ItemInfo] = {}
        missing = []
        cache, touch = self._items, self._items.move_to_end
        for pid in wanted:  # every seed of every user of the batch: one lookup each
            item = cache.get(pid, _UNKNOWN)
            if item is _UNKNOWN:
                missing.append(pid)
            else:
                touch(pid)
                if item is not None:
                    found[pid] = cast(ItemInfo, item)  # neither _UNKNOWN nor None: a cached ItemInfo
        if missing:
            fetched = self.store.get_items(missing, snapshot)
            found.update(fetched)
            if self.config.item_cache_size:
                for pid in missing:
                    self._items[pid] = fetched.get(pid)
                while len(self._items) > self.config.item_cache_size:
                    self._items.popitem(last=False)
        return found

    def trending(self, scopes: Iterable[str], snapshot: Snapshot | None) -> dict[str, tuple[TrendingEntry, ...]]:
        wanted = set(scopes)
        if snapshot is None or not wanted:
            return {}
        missing = wanted - set(self._trending)
        if missing:
            fetched = self.store.get_trending(missing, snapshot)
            for scope in missing:
                self._trending[scope] = fetched.get(scope, ())
        return {s: self._trending[s] for s in wanted if self._trending[s]}

    def _context(self, weights: Iterable[Mapping[str, float]], snapshot: Snapshot | None, items: dict,
                 trending: dict) -> None:
        """Add to `items` and `trending` what scoring users with these seed weights needs.

        One batched read of the seeds, one of the scopes (fewer with the warm caches).
        """
        weights = list(weights)
        seeds = set().union(*weights)
        items.update(self.items(seeds - set(items), snapshot))
        scopes = trending_scopes_of(weights, items)
        trending.update(self.trending(scopes - set(trending), snapshot))

    # ---- the work ------------------------------------------------------------------------
    def refresh(self, updates: Sequence[UserUpdate]) -> Generator[tuple[str, Refreshed | Exception], None, None]:
        """Apply each update, yielding (user_id, Refreshed or the exception that stopped it).

        Users are done in the given order; the caller may stop consuming at the first
        failure. A failure of the batched reads raises from the first `next()`.
        """
        if not updates:
            return
        limits = self.config.history_limits
        snapshot = self.snapshot()
        now = self._wall_clock()
        stored = self.store.get_histories([u.user_id for u in updates])
        merged = {u.user_id: merge_history(stored[u.user_id], u.events, u.purchases, limits) for u in updates}
        weights = {uid: seed_weights(h, self.config.scoring) for uid, h in merged.items()}
        items: dict[str, ItemInfo] = {}
        trending: dict[str, tuple[TrendingEntry, ...]] = {}
        self._context(weights.values(), snapshot, items, trending)
        for u in updates:
            try:
                yield u.user_id, self._apply(u, stored[u.user_id], merged[u.user_id], weights[u.user_id], snapshot,
                                             items, trending, now)
            except Exception as exc:  # noqa: BLE001 - the caller decides what a failure means
                yield u.user_id, exc

    def _apply(self, update: UserUpdate, stored: UserHistory, merged: UserHistory, weights: Mapping[str, float],
               snapshot: Snapshot | None, items: dict, trending: dict, now: float) -> Refreshed:
        limits = self.config.history_limits
        for attempt in range(_CONFLICT_ATTEMPTS):
            if not merged.same_content(stored):
                try:
                    merged = self.store.save_history(merged, history_ttl(merged, limits, now))
                except HistoryConflict:
                    if attempt == _CONFLICT_ATTEMPTS - 1:
                        raise
                    # Someone else wrote this user's history: merge into theirs and try again.
                    stored = self.store.get_history(update.user_id)
                    merged = merge_history(stored, update.events, update.purchases, limits)
                    weights = seed_weights(merged, self.config.scoring)
                    self._context([weights], snapshot, items, trending)
                    continue
            break
        fresh = set(map(_EVENT_ID, update.events)).difference(map(_EVENT_ID, stored.events))
        if not merged.events and not merged.purchases:
            return Refreshed(update.user_id, len(fresh), len(update.events) - len(fresh), False, None)
        recs = build_recommendations(merged, items, trending, snapshot, self.config, weights, now)
        written = self.store.put_recommendations(recs)
        return Refreshed(update.user_id, len(fresh), len(update.events) - len(fresh), written, recs)


def record_purchases(store: RecommendationStore, user_id: str, purchases: Sequence[Purchase],
                     config: HandlerConfig = HandlerConfig()) -> Refreshed:
    """Remember purchases and refresh the user's recommendations so they leave the products out."""
    [(_, outcome)] = list(Refresher(store, config).refresh([UserUpdate(user_id, [], list(purchases))]))
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
