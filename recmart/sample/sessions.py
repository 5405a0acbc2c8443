"""Shopping sessions and their clicks, generated a block of time at a time.

A day is planned first (session start times and lengths only, cheap), so its events add up
to exactly `events_per_day`; then each block of the day (a multiple of the 5-minute Firehose
window) is expanded into columnar events with numpy. Every random draw comes from a
generator seeded by (seed, day, block), so a block is the same whichever range asks for it.

Event times are integer milliseconds since the epoch (UTC).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from recmart.sample.behaviour import Behaviour

DAY_MS = 86_400_000
WINDOW_MS = 300_000  # the Firehose buffer interval
VIEW, ADD_TO_CART, REMOVE_FROM_CART = 0, 1, 2

MEAN_SESSION_EVENTS = 8
MAX_SESSION_EVENTS = 150
ANONYMOUS_SESSION_SHARE = 0.3
TASTE_SHARE = 0.8  # clicks of an identified user in one of their taste groups
INTEREST_SHARE = 0.6  # clicks of an anonymous visitor in the group they came for
ADD_TO_CART_SHARE = 0.03
REMOVE_SHARE_OF_ADDS = 0.3
# A session whose cart is not empty at the end becomes an order this often: with the shares
# above, about 1% of clicks end up as purchased items.
CHECKOUT_SHARE = 0.45
CANCELLED_SHARE = 0.03
EMPTY_ORDER_SHARE = 0.005  # checkouts abandoned at payment: an order without items
ORDER_STATUSES = ("paid", "shipped", "delivered", "cancelled", "pending")
# Sessions per hour of the UTC day (European evening peak, night trough).
_HOURLY = np.array([
    2.0, 1.4, 1.0, 0.8, 0.8, 1.0, 1.6, 2.6, 3.4, 3.8, 4.0, 4.2,
    4.4, 4.4, 4.3, 4.3, 4.5, 4.8, 5.3, 5.9, 6.2, 5.8, 4.6, 3.1,
])
_HOURLY_P = _HOURLY / _HOURLY.sum()
# Events in the busiest block; memory in use follows it, not the length of the run.
MAX_BLOCK_EVENTS = 100_000


def day_start_ms(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * DAY_MS


def block_ms(events_per_day: int) -> int:
    """The block length: the longest of 60/30/15/10/5 minutes whose busiest block stays small."""
    for minutes in (60, 30, 15, 10, 5):
        if events_per_day * _HOURLY_P.max() * minutes / 60 <= MAX_BLOCK_EVENTS:
            return minutes * 60_000
    return WINDOW_MS


@dataclass(frozen=True)
class DayPlan:
    day: dt.date
    starts_ms: np.ndarray  # int64, sorted
    lengths: np.ndarray  # int32 events per session


def plan_day(day: dt.date, events_per_day: int, seed: int) -> DayPlan:
    """The day's sessions: start times by the hourly profile, lengths summing to events_per_day."""
    rng = np.random.default_rng([seed, day.toordinal(), 1])
    lengths = np.zeros(0, dtype=np.int64)
    while lengths.sum() < events_per_day:
        more = int((events_per_day - lengths.sum()) / MEAN_SESSION_EVENTS * 1.2) + 16
        drawn = np.minimum(rng.geometric(1 / MEAN_SESSION_EVENTS, more), MAX_SESSION_EVENTS)
        lengths = np.concatenate([lengths, drawn])
    total = np.cumsum(lengths)
    n = int(np.searchsorted(total, events_per_day)) + 1 if events_per_day > 0 else 0
    lengths = lengths[:n]
    if n:
        lengths[-1] -= total[n - 1] - events_per_day
    hours = rng.choice(24, size=n, p=_HOURLY_P)
    starts = day_start_ms(day) + hours * 3_600_000 + rng.integers(0, 3_600_000, size=n)
    order = np.argsort(starts, kind="stable")
    return DayPlan(day, starts[order], lengths[order].astype(np.int32))


@dataclass
class ClickBlock:
    """The clicks of the sessions that start in one block; session-level columns are per session."""

    # per event
    event_ms: np.ndarray  # int64
    session: np.ndarray  # int32 index into the session columns
    product: np.ndarray  # int32 index into the store's products
    event_type: np.ndarray  # int8: VIEW, ADD_TO_CART, REMOVE_FROM_CART
    event_id: np.ndarray  # (n, 16) uint8, random bytes of a version-4 uuid
    # per session
    session_user: np.ndarray  # int32 index into the store's users, -1 for an anonymous visitor
    session_id: np.ndarray  # (s, 16) uint8
    # per order (sessions that checked out)
    order_session: np.ndarray  # int32
    order_created_ms: np.ndarray  # int64
    order_status: np.ndarray  # int8 index into ORDER_STATUSES
    # per order line
    item_order: np.ndarray  # int32 index into the order columns
    item_product: np.ndarray  # int32
    item_quantity: np.ndarray  # int32
    item_unit_cents: np.ndarray  # int64
    rng_key: tuple  # (seed, day ordinal, block): more draws about this block are keyed on it

    def __len__(self) -> int:
        return len(self.event_ms)


def _uuid4_bytes(rng: np.random.Generator, n: int) -> np.ndarray:
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw


def expand_block(
    behaviour: Behaviour, plan: DayPlan, first: int, stop: int, seed: int, block: int
) -> ClickBlock:
    """The clicks, carts and orders of sessions first..stop-1 of the day's plan."""
    rng_key = (seed, plan.day.toordinal(), block)
    rng = np.random.default_rng([*rng_key, 2])
    starts, lengths = plan.starts_ms[first:stop], plan.lengths[first:stop].astype(np.int64)
    s, n = len(starts), int(lengths.sum())
    store = behaviour.store

    # Sessions: who, and which group an anonymous visitor came for.
    anonymous = rng.random(s) < (ANONYMOUS_SESSION_SHARE if store.n_users else 1.0)
    session_user = np.full(s, -1, dtype=np.int32)
    if store.n_users:
        session_user[~anonymous] = behaviour.active_users(rng.random(int((~anonymous).sum())))
    interest = behaviour.random_groups(rng.random(s))

    # Events: position in session and time (gaps of about half a minute between clicks).
    session = np.repeat(np.arange(s, dtype=np.int32), lengths)
    session_first = np.cumsum(lengths) - lengths
    gaps = np.minimum(rng.exponential(35_000, n), 600_000).astype(np.int64) + 500
    gaps[session_first] = 0
    elapsed = np.cumsum(gaps)
    event_ms = starts[session] + elapsed - np.repeat(elapsed[session_first], lengths) if n else np.zeros(0, np.int64)
    position = np.arange(n) - np.repeat(session_first, lengths)

    # Products: in a taste group most of the time, else anywhere by popularity.
    user = session_user[session]
    known = user >= 0
    group = interest[session].copy()
    in_group = rng.random(n) < np.where(known, TASTE_SHARE, INTEREST_SHARE)
    if known.any():
        group[known] = behaviour.taste_of(user[known], rng.random(int(known.sum())))
    u = rng.random(n)
    product = behaviour.popular_products(u)
    product[in_group] = behaviour.products_in_groups(group[in_group], u[in_group])

    # Carts: an add is of the product just viewed; some adds are removed later in the session.
    event_type = np.where(rng.random(n) < ADD_TO_CART_SHARE, ADD_TO_CART, VIEW).astype(np.int8)
    adds = np.flatnonzero(event_type == ADD_TO_CART)
    follows = adds[position[adds] > 0]
    product[follows] = product[follows - 1]
    remaining = lengths[session[adds]] - 1 - position[adds]
    removing = adds[(remaining > 0) & (rng.random(len(adds)) < REMOVE_SHARE_OF_ADDS)]
    if len(removing):
        left = lengths[session[removing]] - 1 - position[removing]
        target = removing + 1 + (rng.random(len(removing)) * left).astype(np.int64)
        ok = event_type[target] == VIEW
        event_type[target[ok]] = REMOVE_FROM_CART
        product[target[ok]] = product[removing[ok]]

    block_ = ClickBlock(
        event_ms=event_ms.astype(np.int64), session=session, product=product, event_type=event_type,
        event_id=_uuid4_bytes(rng, n), session_user=session_user, session_id=_uuid4_bytes(rng, s),
        order_session=np.zeros(0, np.int32), order_created_ms=np.zeros(0, np.int64),
        order_status=np.zeros(0, np.int8), item_order=np.zeros(0, np.int32),
        item_product=np.zeros(0, np.int32), item_quantity=np.zeros(0, np.int32),
        item_unit_cents=np.zeros(0, np.int64), rng_key=rng_key,
    )
    _checkout(block_, behaviour, rng, lengths)
    return block_


def _checkout(block: ClickBlock, behaviour: Behaviour, rng: np.random.Generator, lengths: np.ndarray) -> None:
    """Orders of the sessions whose cart is not empty at the end, a little after their last click."""
    prices = behaviour.store.product_price_cents
    n_products = np.int64(max(behaviour.store.n_products, 1))
    key = block.session.astype(np.int64) * n_products + block.product
    added = np.unique(key[block.event_type == ADD_TO_CART])
    in_cart = added[~np.isin(added, key[block.event_type == REMOVE_FROM_CART])]
    in_cart = in_cart[prices[in_cart % n_products] >= 0]  # a product without a price cannot be sold
    cart_session = (in_cart // n_products).astype(np.int32)
    sessions = np.unique(cart_session)
    buying = sessions[rng.random(len(sessions)) < CHECKOUT_SHARE]
    if not len(buying):
        return
    last_click = block.event_ms[np.cumsum(lengths)[buying] - 1]
    created = last_click + rng.integers(20_000, 900_000, size=len(buying))
    status = rng.choice(3, size=len(buying), p=[0.3, 0.35, 0.35]).astype(np.int8)
    status[rng.random(len(buying)) < CANCELLED_SHARE] = ORDER_STATUSES.index("cancelled")
    empty = rng.random(len(buying)) < EMPTY_ORDER_SHARE
    status[empty] = ORDER_STATUSES.index("pending")

    lines = in_cart[np.isin(cart_session, buying[~empty])]
    line_session = (lines // n_products).astype(np.int32)
    item_product = (lines % n_products).astype(np.int32)
    quantity = rng.choice([1, 2, 3], size=len(lines), p=[0.88, 0.10, 0.02]).astype(np.int32)
    discount = rng.choice([0, 10, 20, 30], size=len(lines), p=[0.8, 0.1, 0.06, 0.04])
    unit_cents = prices[item_product] * (100 - discount) // 100

    block.order_session = buying.astype(np.int32)
    block.order_created_ms = created.astype(np.int64)
    block.order_status = status
    block.item_order = np.searchsorted(buying, line_session).astype(np.int32)
    block.item_product = item_product
    block.item_quantity = quantity
    block.item_unit_cents = unit_cents.astype(np.int64)
