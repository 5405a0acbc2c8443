"""The simulated clickstream: blocks of clicks over a time range, and the streaming API.

`simulate_clicks` is what the real-time simulator consumes: contract-shaped click dicts in
event-time order. `recmart.sample.seed` lands the same clicks in the Firehose layout, in
arrival order. Both sort with `TimeOrder`, which releases rows only once no later block can
produce an earlier one, so memory holds about one block, not the whole range.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recmart.sample.behaviour import Behaviour
from recmart.sample.render import MALFORMED_KINDS, LineRenderer, with_malformed
from recmart.sample.sessions import DAY_MS, ClickBlock, block_ms, expand_block, plan_day
from recmart.sample.store import SampleStore

_EPOCH = dt.date(1970, 1, 1)
# Sessions started this long before `start` still send clicks after it.
_LEAD_IN_MS = 2 * 3_600_000


def to_ms(value: dt.datetime) -> int:
    """A datetime as epoch milliseconds; a naive one is UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return int(value.timestamp() * 1000)


def click_blocks(
    behaviour: Behaviour, start_ms: int, end_ms: int, events_per_day: int, seed: int
) -> Iterator[tuple[int, ClickBlock]]:
    """(block end, clicks of the sessions starting in the block) for every block meeting [start, end)."""
    step = block_ms(events_per_day)
    for day_number in range(start_ms // DAY_MS, (end_ms - 1) // DAY_MS + 1):
        plan = None
        for block in range(DAY_MS // step):
            block_start = day_number * DAY_MS + block * step
            if block_start + step <= start_ms:
                continue
            if block_start >= end_ms:
                return
            plan = plan or plan_day(_EPOCH + dt.timedelta(days=day_number), events_per_day, seed)
            first, stop = np.searchsorted(plan.starts_ms, [block_start, block_start + step])
            yield block_start + step, expand_block(behaviour, plan, int(first), int(stop), seed, block)


class TimeOrder:
    """Merges tables, each sorted by an int64 time column, releasing rows below a watermark.

    What is released is a zero-copy slice of the merged rows; the rest waits for the next push.
    """

    def __init__(self, column: str):
        self.column = column
        self._pending: pa.Table | None = None

    def push(self, table: pa.Table) -> None:
        """Add rows sorted by time."""
        if self._pending is None or self._pending.num_rows == 0:
            self._pending = table
            return
        # Contiguous columns first: Arrow's take from several chunks is several times slower.
        merged = pa.concat_tables([self._pending, table]).combine_chunks()
        order = np.argsort(merged[self.column].to_numpy(), kind="stable")
        self._pending = merged.take(pa.array(order))

    def release(self, watermark_ms: int | None = None) -> pa.Table | None:
        """Rows with time < watermark (all rows when None), in time order (stable)."""
        if self._pending is None or self._pending.num_rows == 0:
            return None
        if watermark_ms is None:
            ready, self._pending = self._pending, None
            return ready
        times = self._pending[self.column].to_numpy()
        cut = int(np.searchsorted(times, watermark_ms, side="left"))
        ready, self._pending = self._pending.slice(0, cut), self._pending.slice(cut)
        return ready if cut else None


def simulate_clicks(
    store: SampleStore,
    start: dt.datetime,
    end: dt.datetime,
    events_per_day: int,
    seed: int,
    malformed_share: float = 0.0,
    duplicate_share: float = 0.0,
) -> Iterator[dict]:
    """Click events with event_time in [start, end), in event-time order, as contract dicts.

    The clicks are those `seed_sample` lands for the same store, seed and events_per_day
    (use the seed the store was made with to keep each user's taste). Asked for, a share of
    events is malformed (every kind that still parses as JSON) or repeated right after
    itself as a producer retry would.
    """
    start_ms, end_ms = to_ms(start), to_ms(end)
    if end_ms <= start_ms:
        return
    behaviour, renderer = Behaviour(store, seed), LineRenderer(store)
    order = TimeOrder("event_ms")
    for watermark, block in click_blocks(behaviour, start_ms - _LEAD_IN_MS, end_ms, events_per_day, seed):
        order.push(_event_table(block, renderer.render(block), malformed_share, duplicate_share))
        yield from _dicts(order.release(min(watermark, end_ms)), start_ms)
        if watermark >= end_ms:
            break


def _event_table(block: ClickBlock, lines: pa.Array, malformed_share: float, duplicate_share: float) -> pa.Table:
    """The block's lines sorted by event time; a retried copy right after its original."""
    rng = np.random.default_rng([*block.rng_key, 5])
    n = len(block)
    bad = np.flatnonzero(rng.random(n) < malformed_share)
    parsable = len(MALFORMED_KINDS) - 1  # every kind but not_json, the first
    kinds = 1 + (int(rng.integers(parsable)) + np.arange(len(bad))) % parsable
    lines = with_malformed(lines, bad, kinds, rng.integers(0, 1 << 20, len(bad)))
    again = np.flatnonzero(rng.random(n) < duplicate_share)
    again = again[~np.isin(again, bad)]
    rows = np.concatenate([np.arange(n), again])
    order = np.argsort(block.event_ms[rows], kind="stable")
    return pa.table({
        "event_ms": pa.array(block.event_ms[rows][order]),
        "line": lines.take(pa.array(rows[order])),
    })


def _dicts(table: pa.Table | None, start_ms: int) -> Iterator[dict]:
    if table is None:
        return
    table = table.filter(pc.greater_equal(table["event_ms"], start_ms))
    for line in table["line"].to_pylist():
        yield json.loads(line)
