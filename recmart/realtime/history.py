"""A user's recent history: the clicks and purchases that recommendations are computed from.

History is bounded (by count and by age) and deduplicated by event id, and merging is
order-independent: merging the same events again, or in another order, gives the same
history. That is what makes producer retries and Kinesis replays harmless. Ages are
measured from the user's newest event, never from the wall clock, for the same reason.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from recmart.realtime.jsontext import dumps, loads

MICROS_PER_DAY = 86_400_000_000


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    event_id: str
    event_type: str  # view | add_to_cart | remove_from_cart
    product_id: str
    event_micros: int


@dataclass(frozen=True, slots=True)
class Purchase:
    order_id: str
    product_id: str
    purchased_micros: int


@dataclass(frozen=True)
class HistoryLimits:
    max_events: int = 50
    max_age_days: float = 30.0
    max_purchases: int = 100
    purchase_window_days: float = 30.0


@dataclass(frozen=True)
class UserHistory:
    user_id: str
    events: tuple[HistoryEvent, ...] = ()  # oldest first, one per event_id
    purchases: tuple[Purchase, ...] = ()  # oldest first, one per (order_id, product_id)
    # The stored revision this history was read at; 0 when nothing is stored yet.
    # Stores write conditionally on it, so concurrent writers never lose each other's events.
    revision: int = field(default=0, compare=False)

    @property
    def newest_micros(self) -> int | None:
        """The time of the newest event or purchase: the clock everything per user runs on."""
        newest_event = self.events[-1].event_micros if self.events else None
        newest_purchase = self.purchases[-1].purchased_micros if self.purchases else None
        if newest_purchase is None or (newest_event is not None and newest_event >= newest_purchase):
            return newest_event
        return newest_purchase

    def same_content(self, other: UserHistory) -> bool:
        return self.events == other.events and self.purchases == other.purchases

    # ---- storage encoding (compact JSON: the history is read and written on every click) ---
    # Rows [event_id, event_type, product_id, event_micros] and [order_id, product_id,
    # purchased_micros], oldest first (jsontext.dumps: msgspec's encoder).
    def events_json(self) -> str:
        return dumps(list(map(_EVENT_ROW, self.events)))

    def purchases_json(self) -> str:
        return dumps(list(map(_PURCHASE_ROW, self.purchases)))

    @classmethod
    def from_json(cls, user_id: str, events: str | None, purchases: str | None, revision: int) -> UserHistory:
        return cls(
            user_id=user_id,
            events=tuple([HistoryEvent(*e) for e in loads(events or "[]")]),
            purchases=tuple([Purchase(*p) for p in loads(purchases or "[]")]),
            revision=revision,
        )


# Keys for sorting and bisecting (attrgetters run in C: merging runs for every user of every batch).
_EVENT_ID = attrgetter("event_id")
_EVENT_TIME = attrgetter("event_micros")
_EVENT_ORDER = attrgetter("event_micros", "event_id")
_PURCHASE_TIME = attrgetter("purchased_micros")
_PURCHASE_ORDER = attrgetter("purchased_micros", "order_id", "product_id")
# A stored row of each (a tuple, built in C; written as a JSON array).
_EVENT_ROW = attrgetter("event_id", "event_type", "product_id", "event_micros")
_PURCHASE_ROW = attrgetter("order_id", "product_id", "purchased_micros")


def merge_history(
    history: UserHistory,
    events: Sequence[HistoryEvent] = (),
    purchases: Sequence[Purchase] = (),
    limits: HistoryLimits = HistoryLimits(),
) -> UserHistory:
    """`history` with `events` and `purchases` added, deduplicated and trimmed.

    The first copy of an event id wins: a producer retry carries the same event again.
    """
    stored = history.events
    by_id = dict(zip(map(_EVENT_ID, stored), stored, strict=True))
    for e in events:
        by_id.setdefault(e.event_id, e)
    by_key = {(p.order_id, p.product_id): p for p in history.purchases}
    for p in purchases:
        by_key.setdefault((p.order_id, p.product_id), p)

    all_events = sorted(by_id.values(), key=_EVENT_ORDER)
    all_purchases = sorted(by_key.values(), key=_PURCHASE_ORDER)
    times = [e.event_micros for e in all_events[-1:]] + [p.purchased_micros for p in all_purchases[-1:]]
    if not times:
        return UserHistory(history.user_id, (), (), history.revision)
    newest = max(times)

    # Both lists are in time order, so what is recent enough is a suffix: bisect for it.
    oldest_event = newest - int(limits.max_age_days * MICROS_PER_DAY)
    kept_events = all_events[bisect_left(all_events, oldest_event, key=_EVENT_TIME):]
    oldest_purchase = newest - int(limits.purchase_window_days * MICROS_PER_DAY)
    kept_purchases = all_purchases[bisect_left(all_purchases, oldest_purchase, key=_PURCHASE_TIME):]
    return UserHistory(history.user_id, tuple(kept_events[-limits.max_events:]),
                       tuple(kept_purchases[-limits.max_purchases:]), history.revision)
