"""What happens to clicks on their way to the lake: delays, retries and broken records.

Most clicks arrive within seconds. Some sessions are on a phone that was offline and send
their clicks minutes to hours later (crossing midnight now and then); a few clicks arrive
days late. Producer retries send an event twice (same event_id, same line), seconds later
in the same file or an hour later in another. A small share of lines is malformed, each of
the kinds that cleaning must quarantine, in turn.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from recmart.sample.render import MALFORMED_KINDS, malformed_lines
from recmart.sample.sessions import DAY_MS, ClickBlock

GOOD, DUPLICATE, MALFORMED = 0, 1, 2
OFFLINE_SESSION_SHARE = 0.02
VERY_LATE_SHARE = 0.0005
SAME_FILE_RETRY_SHARE = 0.7

# The columns of a delivered line, sorted by arrival before landing.
DELIVERY_SCHEMA = pa.schema([
    ("arrival_ms", pa.int64()),
    ("line", pa.large_string()),
    ("event_day", pa.int32()),  # days since the epoch of the event's UTC time
    ("kind", pa.int8()),  # GOOD, DUPLICATE or MALFORMED
    ("malformed_kind", pa.int8()),  # index into MALFORMED_KINDS, -1 for the others
])


def arrival_times(block: ClickBlock, rng: np.random.Generator, horizon_ms: int) -> np.ndarray:
    """Arrival time of each click: seconds after it, hours for offline sessions, days for a few.

    A delay that would land after `horizon_ms` (the end of the simulated range) falls back
    to the ordinary delay, so late data stays inside the simulated days.
    """
    n, s = len(block), len(block.session_user)
    ordinary = np.minimum(rng.lognormal(np.log(2_500), 0.9, n), 120_000).astype(np.int64) + 100
    offline = np.where(rng.random(s) < OFFLINE_SESSION_SHARE, rng.integers(300_000, 6 * 3_600_000, s), 0)
    days_late = np.where(rng.random(n) < VERY_LATE_SHARE, rng.integers(DAY_MS, 3 * DAY_MS, n), 0)
    arrival = block.event_ms + ordinary + offline[block.session] + days_late
    too_far = arrival >= horizon_ms
    arrival[too_far] = block.event_ms[too_far] + ordinary[too_far]
    return arrival


def deliver(
    block: ClickBlock,
    lines: pa.Array,
    horizon_ms: int,
    malformed_share: float,
    duplicate_share: float,
) -> pa.Table:
    """The block's lines as they land, sorted by arrival: malformed in place of some, plus retried copies."""
    rng = np.random.default_rng([*block.rng_key, 4])
    n = len(block)
    arrival = arrival_times(block, rng, horizon_ms)

    malformed = np.flatnonzero(rng.random(n) < malformed_share)
    # Kinds in turn from a random start, so even a handful of malformed lines has every kind.
    kinds = (int(rng.integers(len(MALFORMED_KINDS))) + np.arange(len(malformed))) % len(MALFORMED_KINDS)
    bad_lines = malformed_lines(lines, malformed, kinds, rng.integers(0, 1 << 20, len(malformed)))
    kind = np.full(n, GOOD, dtype=np.int8)
    kind[malformed] = MALFORMED
    copies = np.flatnonzero((rng.random(n) < duplicate_share) & (kind == GOOD))
    retry_ms = np.where(
        rng.random(len(copies)) < SAME_FILE_RETRY_SHARE,
        rng.integers(300, 20_000, len(copies)),
        rng.integers(300_000, 5_400_000, len(copies)),
    )

    # Rows: every good line, then the malformed ones, then the retried copies. The lines are
    # gathered once, already in arrival order, from the chunks they were made in.
    good = np.flatnonzero(kind == GOOD)
    event_day = (block.event_ms // DAY_MS).astype(np.int32)
    line_row = np.concatenate([good, n + np.arange(len(malformed)), copies])  # n.. = the malformed lines
    columns = {
        "arrival_ms": np.concatenate([arrival[good], arrival[malformed], arrival[copies] + retry_ms]),
        "event_day": np.concatenate([event_day[good], event_day[malformed], event_day[copies]]),
        "kind": np.repeat(np.array([GOOD, MALFORMED, DUPLICATE], np.int8), [len(good), len(malformed), len(copies)]),
        "malformed_kind": np.concatenate([np.full(len(good), -1), kinds, np.full(len(copies), -1)]).astype(np.int8),
    }
    order = np.argsort(columns["arrival_ms"], kind="stable")
    # One contiguous array first: Arrow's take from several chunks is several times slower.
    all_lines = pa.concat_arrays([lines, bad_lines])
    return pa.table(
        {
            "arrival_ms": pa.array(columns["arrival_ms"][order]),
            "line": all_lines.take(pa.array(line_row[order])),
            **{name: pa.array(columns[name][order]) for name in ("event_day", "kind", "malformed_kind")},
        },
        schema=DELIVERY_SCHEMA,
    )
