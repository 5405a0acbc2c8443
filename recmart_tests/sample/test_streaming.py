"""The pieces that keep generation memory-bounded: small blocks, and a re-sorter holding little."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from recmart.sample.clickstream import TimeOrder
from recmart.sample.sessions import (
    _HOURLY_P,
    DAY_MS,
    MAX_BLOCK_EVENTS,
    WINDOW_MS,
    block_ms,
    plan_day,
)


def test_blocks_stay_small_at_any_rate():
    for events_per_day in (0, 1_000, 1_000_000, 5_000_000, 15_000_000):
        step = block_ms(events_per_day)
        assert DAY_MS % step == 0 and step % WINDOW_MS == 0
        assert events_per_day * _HOURLY_P.max() * step / 3_600_000 <= MAX_BLOCK_EVENTS
    assert block_ms(100_000_000) == WINDOW_MS  # never shorter than the Firehose window


def test_a_day_plan_adds_up_exactly():
    plan = plan_day(dt.date(2024, 1, 1), 12_345, seed=1)
    assert plan.lengths.sum() == 12_345 and plan.lengths.min() >= 1
    assert (np.diff(plan.starts_ms) >= 0).all()
    assert plan_day(dt.date(2024, 1, 1), 0, seed=1).lengths.size == 0


def test_time_order_releases_below_the_watermark_in_order_and_keeps_the_rest():
    order = TimeOrder("t")
    order.push(pa.table({"t": pa.array([1, 5, 12, 40], pa.int64()), "v": ["a", "b", "c", "d"]}))
    first = order.release(10)
    assert first["v"].to_pylist() == ["a", "b"]
    order.push(pa.table({"t": pa.array([11, 12, 25], pa.int64()), "v": ["e", "f", "g"]}))
    second = order.release(20)
    assert second["t"].to_pylist() == [11, 12, 12] and second["v"].to_pylist() == ["e", "c", "f"]
    assert order.release(21) is None
    assert order.release()["v"].to_pylist() == ["g", "d"]
    assert order.release() is None
