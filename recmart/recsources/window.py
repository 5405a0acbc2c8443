"""The clicks the session sources learn from, read from the lake's cleaned events of a window:
only the three columns they need, as Arrow, filtered in Arrow, and at most `max_clicks` of
them, the newest (`SourceSettings.max_clicks` says why there is a bound).

Days are read newest first, streamed a record batch at a time; a day whose clicks all fit in
what is left of the bound is taken whole, the day where the bound is reached gives only its
newest clicks (a running top-k of the event times finds the cut, then a second pass keeps
the clicks after it), and older days are not read at all. So memory is the bound's worth of
clicks plus a batch, whatever the store's size, and time is a scan of two columns of the
days read. Below the bound every click of the window is used, in the order the caller lists
the days and the lake stores the rows: the same input, in the same order, as reading each
partition whole.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from recmart.recsources.tables import sessions_from_clicks
from recmart.tables import CURATED_CLEANED_EVENTS

if TYPE_CHECKING:  # the resource module imports Dagster, which a Spark driver does not have
    from recmart.resources.lake import Lake

# Events that say "this product interests me"; a removal from the cart says the opposite
# and is no click to learn sequences from (the scorer still sees it in the history).
CLICK_EVENTS = ("view", "add_to_cart")
CLICK_COLUMNS = ["session_id", "product_id", "event_time"]


@dataclasses.dataclass(frozen=True)
class WindowClicks:
    sessions: dict[str, list[tuple[str, float]]]  # `sessions_from_clicks` of the clicks used
    clicks: int  # clicks used
    bound: int  # the most that may be used (`SourceSettings.max_clicks`)
    bound_hit: bool  # the window holds more clicks than the bound: only the newest were used
    days_read: int  # partitions of the window read (older ones are skipped once the bound is hit)
    oldest_used: float | None  # epoch seconds of the oldest click used

    def metadata(self, prefix: str = "source_") -> dict:
        """What an asset reports of it: how many clicks were used and whether the bound was hit."""
        return {f"{prefix}clicks": self.clicks, f"{prefix}clicks_bound": self.bound,
                f"{prefix}bound_hit": self.bound_hit, f"{prefix}days_read": self.days_read}


def dataset(lake: Lake, table, key: str) -> pads.Dataset | None:
    """One published partition as a lazy Arrow dataset (nothing read yet); None when there is none."""
    location = lake.partition_location(table, key)
    if location is None:
        return None
    fs, _ = lake.filesystem()
    return pads.dataset(lake.fs_path(location), filesystem=fs, format="parquet", schema=table.arrow_schema())


def _is_click() -> pc.Expression:
    return pc.field("event_type").isin(list(CLICK_EVENTS))


def _micros(column: pa.Array) -> np.ndarray:
    return column.cast(pa.int64()).to_numpy(zero_copy_only=False)


def _cut(ds: pads.Dataset, k: int) -> tuple[int, int]:
    """(t, n): the k-th newest click time of the partition (epoch µs) and how many clicks are newer."""
    best = np.empty(0, np.int64)
    for batch in ds.to_batches(columns=["event_time"], filter=_is_click()):
        best = np.concatenate([best, _micros(batch.column(0))])
        if len(best) > k:
            best = np.partition(best, len(best) - k)[len(best) - k:]
    t = int(best.min())
    return t, int((best > t).sum())


def _take(ds: pads.Dataset, k: int | None) -> list[pa.RecordBatch]:
    """The partition's clicks (its newest k when k is given), columns CLICK_COLUMNS, in stored order."""
    if k is not None:
        t, newer = _cut(ds, k)
        ties = k - newer  # clicks at exactly t that are kept: the first in stored order
    out = []
    for batch in ds.to_batches(columns=CLICK_COLUMNS, filter=_is_click()):
        if k is not None:
            micros = _micros(batch.column("event_time"))
            keep = micros > t
            at = np.nonzero(micros == t)[0][:max(ties, 0)]
            keep[at] = True
            ties -= len(at)
            batch = batch.filter(pa.array(keep))
        if batch.num_rows:
            out.append(batch)
    return out


def read_window_clicks(lake: Lake, days: Sequence[str], max_clicks: int) -> WindowClicks:
    """The newest `max_clicks` clicks of the cleaned events of `days` (all of them when fewer), grouped
    by session; `days` in the order their clicks are fed (which orders equal times in a session)."""
    if max_clicks < 1:
        raise ValueError(f"max_clicks {max_clicks} is below 1")
    chunks: dict[str, list[pa.RecordBatch]] = {}
    remaining, hit, read = max_clicks, False, 0
    for key in sorted(set(days), reverse=True):  # partition keys are ISO days: newest first
        ds = dataset(lake, CURATED_CLEANED_EVENTS, key)
        if ds is None:
            continue
        n = ds.count_rows(filter=_is_click())
        if n == 0:
            continue
        if remaining == 0:
            hit = True
            break
        read += 1
        chunks[key] = _take(ds, None if n <= remaining else remaining)
        hit = n > remaining
        remaining -= min(n, remaining)
    sessions_col: list[str] = []
    products: list[str] = []
    times: list[float] = []
    oldest = None
    for key in days:
        for batch in chunks.pop(key, ()):
            seconds = pc.divide(batch.column("event_time").cast(pa.int64()).cast(pa.float64()), 1_000_000.0)
            sessions_col.extend(batch.column("session_id").to_pylist())
            products.extend(batch.column("product_id").to_pylist())
            times.extend(seconds.to_pylist())
            low = pc.min(seconds).as_py()
            oldest = low if oldest is None or low < oldest else oldest
    sessions = sessions_from_clicks(zip(sessions_col, products, times, strict=True))
    return WindowClicks(sessions, len(times), max_clicks, hit, read, oldest)


def newest_clicks(clicks: Sequence[tuple[str, str, float]], max_clicks: int) -> list[tuple[str, str, float]]:
    """(session, product, time) clicks bounded as `read_window_clicks` bounds them, for clicks in memory:
    the newest `max_clicks` (at the cut time, the first in input order), in input order."""
    clicks = list(clicks)
    if len(clicks) <= max_clicks:
        return clicks
    if max_clicks < 1:
        raise ValueError(f"max_clicks {max_clicks} is below 1")
    times = np.array([c[2] for c in clicks], np.float64)
    t = np.partition(times, len(times) - max_clicks)[len(times) - max_clicks]
    keep = times > t
    keep[np.nonzero(times == t)[0][:max_clicks - int(keep.sum())]] = True
    return [c for c, k in zip(clicks, keep.tolist(), strict=True) if k]
