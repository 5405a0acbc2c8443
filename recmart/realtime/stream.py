"""The local stream: clicks fan out as on AWS, to the real-time handler and to Firehose files.

Kinesis has two consumers here, as in the design: (a) a Lambda event-source mapping that
calls the handler with batches of up to 100 base64 records, retrying from the lowest
reported sequence number; (b) Firehose, which lands gzip NDJSON files in the lake every
few simulated minutes. Time is simulated: the clock follows the clicks' event times, and
with pacing on, `speedup` simulated seconds pass per wall second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from recmart.realtime import logs
from recmart.realtime.firehose import FirehoseWriter
from recmart.realtime.handler import Handler
from recmart.realtime.kinesis import MAX_BATCH, Shard, batch_event, records_from
from recmart.realtime.timeutil import parse_iso_with_zone


@dataclass
class StreamStats:
    events: int = 0
    batches: int = 0  # handler invocations, retries included
    retried_batches: int = 0
    users_refreshed: int = 0
    malformed: int = 0
    anonymous: int = 0
    dropped: int = 0  # records given up on after max_attempts (the mapping's on-failure destination)
    files: int = 0


class EventSourceMapping:
    """One shard read by a Lambda: batches of up to `batch_size`, retried from the lowest failure."""

    def __init__(self, handler: Handler, stats: StreamStats, batch_size: int = MAX_BATCH,
                 window_seconds: float = 1.0, max_attempts: int = 3) -> None:
        if not 1 <= batch_size <= 10_000:
            raise ValueError("batch size must be 1 to 10,000 (the mapping's limits)")
        self.handler = handler
        self.stats = stats
        self.batch_size = batch_size
        self.window = timedelta(seconds=window_seconds)
        self.max_attempts = max_attempts
        self.shard = Shard()
        self._pending: list[dict] = []
        self._opened: datetime | None = None

    def put(self, click: dict | str | bytes, arrival: datetime) -> None:
        self.tick(arrival)
        if not self._pending:
            self._opened = arrival
        self._pending.append(self.shard.record(click, arrival_seconds=arrival.timestamp()))
        if len(self._pending) >= self.batch_size:
            self.deliver()

    @property
    def _opened_at(self) -> datetime:
        """When the pending batch began: set with its first record."""
        if self._opened is None:
            raise RuntimeError("EventSourceMapping: records are pending but their batch's open time is not set")
        return self._opened

    def tick(self, now: datetime) -> None:
        """Deliver a partial batch whose batching window has passed."""
        if self._pending and now - self._opened_at >= self.window:
            self.deliver()

    def deliver(self) -> None:
        records, self._pending = self._pending, []
        for attempt in range(self.max_attempts):
            result = self.handler.process(batch_event(records))
            self.stats.batches += 1
            self.stats.retried_batches += attempt > 0
            self.stats.users_refreshed += result.users
            self.stats.malformed += result.malformed
            self.stats.anonymous += result.anonymous
            if not result.failures:
                return
            records = records_from(records, min(result.failures, key=int))
        self.stats.dropped += len(records)
        logs.error("records given up on after retries", records=len(records), attempts=self.max_attempts)


def simulated_clock(click: object, current: datetime) -> datetime:
    """The simulated now after `click`: its event time, never going back (late clicks exist)."""
    if isinstance(click, dict) and isinstance(click.get("event_time"), str):
        try:
            return max(current, parse_iso_with_zone(click["event_time"]))
        except ValueError:
            pass
    return current


def run_stream(
    clicks: Iterable[dict | str | bytes],
    mapping: EventSourceMapping,
    firehose: FirehoseWriter,
    start: datetime,
    speedup: float = 60.0,
    pace: bool = True,
    max_events: int | None = None,
    until: datetime | None = None,
    on_event: Callable[[StreamStats], None] = lambda stats: None,
    sleep: Callable[[float], None] = time.sleep,
    wall_clock: Callable[[], float] = time.monotonic,
) -> StreamStats:
    """Send clicks to both consumers until `max_events`, the simulated time `until`, or the end."""
    stats = mapping.stats
    clock = start
    wall_start = wall_clock()
    try:
        for click in clicks:
            if max_events is not None and stats.events >= max_events:
                break
            clock = simulated_clock(click, clock)
            if until is not None and clock >= until:
                break
            if pace:
                ahead = (clock - start).total_seconds() / speedup - (wall_clock() - wall_start)
                if ahead > 0:
                    sleep(ahead)
            mapping.put(click, clock)
            firehose.add(click, clock)
            stats.events += 1
            stats.files = len(firehose.files)
            on_event(stats)
    finally:  # Ctrl-C included: what was read is delivered, as the services would
        if mapping._pending:
            mapping.deliver()
        firehose.flush()
        stats.files = len(firehose.files)
    return stats
