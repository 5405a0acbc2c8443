"""The Lambda entry point: `handle(event, context)` for Kinesis event-source-mapping batches.

For each batch:

1. every record is decoded and checked against the click contract (`clicks.py`: ids a
   store can key on, event times no later than the record's arrival in the stream plus
   FUTURE_SKEW_MINUTES); a malformed one is never retried (it would fail again): it is
   counted, logged and sent to the dead-letter destination. No record content makes
   `handle` raise: whatever cannot be read is a malformed record with a reason;
2. the valid clicks of identified users are grouped by user, in the order users first
   appear; anonymous clicks update nothing per user;
3. each user's history takes the new events (deduplicated by event id, so producer
   retries and replays change nothing) and their recommendations are recomputed and
   written (see `refresh.py`).

If the store fails for a user, that user and everything after them in the batch are
reported in `batchItemFailures`: Kinesis then retries from the lowest reported sequence
number, so we stop at the first failure instead of doing work that will be redone.
Records before it that are redelivered anyway are harmless, because every write is
idempotent.

Configuration comes from environment variables (`config.py`), checked at cold start.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from recmart.realtime import logs
from recmart.realtime.clicks import InvalidClick, decode_kinesis_data
from recmart.realtime.config import DEAD_LETTERS_ENV, HandlerConfig
from recmart.realtime.dead_letters import (
    MAX_DATA_CHARS,
    DeadLetter,
    DeadLetterSink,
    open_dead_letters,
)
from recmart.realtime.history import HistoryEvent
from recmart.realtime.refresh import Refreshed, Refresher, UserUpdate
from recmart.realtime.store.base import RecommendationStore
from recmart.realtime.store.factory import STORE_ENV, open_store


@dataclass
class BatchResult:
    failures: list[str] = field(default_factory=list)  # sequence numbers to retry, batch order
    records: int = 0
    malformed: int = 0
    anonymous: int = 0
    new_events: int = 0
    duplicates: int = 0
    users: int = 0
    failed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def response(self) -> dict:
        return {"batchItemFailures": [{"itemIdentifier": s} for s in self.failures]}


@dataclass
class _Record:
    index: int
    sequence_number: str | None
    raw: dict


class Handler:
    """A configured handler; `handle` uses one built from the environment."""

    def __init__(self, store: RecommendationStore, dead_letters: DeadLetterSink,
                 config: HandlerConfig = HandlerConfig(), wall_clock=time.time) -> None:
        self.store = store
        self.dead_letters = dead_letters
        self.config = config
        # The wall clock: for expiry times, and as the arrival of a record that has none.
        self._wall_clock = wall_clock
        self.refresher = Refresher(store, config, wall_clock=wall_clock)
        logs.configure(config.log_level)

    @classmethod
    def from_env(cls, environ=None) -> Handler:
        config = HandlerConfig.from_env(environ)
        store = open_store(config.store_url, setting=STORE_ENV)
        dead_letters = open_dead_letters(config.resolved_dead_letters_url, setting=DEAD_LETTERS_ENV)
        return cls(store, dead_letters, config)

    def __call__(self, event: dict, context: object = None) -> dict:
        return self.process(event).response()

    def process(self, event: dict) -> BatchResult:
        started = time.perf_counter()
        raw_records = event.get("Records") if isinstance(event, dict) else None
        if not isinstance(raw_records, list):
            logs.error("not a Kinesis batch: no Records list", event_type=type(event).__name__)
            return BatchResult()
        sequence_numbers = [_sequence_number(r) for r in raw_records]
        result = BatchResult(records=len(raw_records))

        # (A _Record only for the malformed: fewer objects per batch for the garbage collector.)
        malformed: list[tuple[_Record, InvalidClick]] = []
        updates: dict[str, UserUpdate] = {}
        first_index: dict[str, int] = {}
        now_micros = int(self._wall_clock() * 1_000_000)
        for index, (raw, sequence_number) in enumerate(zip(raw_records, sequence_numbers, strict=True)):
            try:
                if sequence_number is None:
                    raise InvalidClick("not_kinesis", "the record has no kinesis.sequenceNumber")
                kinesis = raw["kinesis"]
                click = decode_kinesis_data(kinesis.get("data"), _arrival_micros(kinesis, now_micros))
            except InvalidClick as exc:
                # A fresh copy, not the one raised: its traceback would hold this frame, whose
                # `malformed` holds it, a reference cycle only a full collection frees
                # (`tune_garbage_collector`).
                malformed.append((_Record(index, sequence_number, raw), InvalidClick(exc.reason, exc.detail)))
                continue
            except Exception as exc:  # noqa: BLE001 - content nobody foresaw must not fail the batch
                malformed.append((_Record(index, sequence_number, raw),
                                  InvalidClick("unreadable", f"{type(exc).__name__}: {exc}")))
                continue
            if click.user_id is None:
                result.anonymous += 1
                continue
            update = updates.get(click.user_id)
            if update is None:
                update = updates[click.user_id] = UserUpdate(click.user_id)
                first_index[click.user_id] = index
            update.events.append(HistoryEvent(click.event_id, click.event_type, click.product_id, click.event_micros))

        retry_from = self._refresh(list(updates.values()), first_index, result)
        retry_from = min(retry_from, self._dead_letter([(r, e) for r, e in malformed if r.index < retry_from], result))

        result.failures = [s for s in sequence_numbers[retry_from:] if s is not None]
        result.failed = len(result.failures)
        logs.info(
            "batch", records=result.records, users=result.users, new_events=result.new_events,
            duplicates=result.duplicates, anonymous=result.anonymous, malformed=result.malformed,
            malformed_reasons=result.reasons, failed=result.failed,
            ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return result

    def _refresh(self, updates: list[UserUpdate], first_index: dict[str, int], result: BatchResult) -> int:
        """Apply the updates in order; the batch index of the first failed record, or len(records)."""
        retry_from = result.records
        if not updates:
            return retry_from
        applied = BatchResult()
        try:
            with self.store.write_batch():  # committed on leaving, the failed user's writes excluded
                outcomes = self.refresher.refresh(updates)
                try:
                    for user_id, outcome in outcomes:
                        if not isinstance(outcome, Refreshed):
                            logs.error("store failure: the batch will be retried from this user's first record",
                                       user_id=user_id, error=f"{type(outcome).__name__}: {outcome}")
                            retry_from = first_index[user_id]
                            break
                        applied.users += 1
                        applied.new_events += outcome.new_events
                        applied.duplicates += outcome.duplicates
                finally:
                    outcomes.close()
        except Exception as exc:  # noqa: BLE001 - the batched reads or the commit failed: nothing was applied
            logs.error("store failure: the batch will be retried from its first user record",
                       error=f"{type(exc).__name__}: {exc}")
            return first_index[updates[0].user_id]
        result.users, result.new_events, result.duplicates = applied.users, applied.new_events, applied.duplicates
        return retry_from

    def _dead_letter(self, malformed: list[tuple[_Record, InvalidClick]], result: BatchResult) -> int:
        """Send malformed records to the dead-letter sink; the index to retry from if that fails."""
        no_failure = result.records
        if not malformed:
            return no_failure
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        letters = []
        for rec, exc in malformed:
            raw = rec.raw if isinstance(rec.raw, dict) else {}
            kinesis = value if isinstance(value := raw.get("kinesis"), dict) else {}
            data = kinesis.get("data") if isinstance(kinesis.get("data"), str) else None
            letters.append(DeadLetter(
                id=str(raw.get("eventID") or f"index:{rec.index}:{rec.sequence_number}"),
                reason=exc.reason, detail=exc.detail, sequence_number=rec.sequence_number,
                partition_key=kinesis.get("partitionKey"), event_source_arn=raw.get("eventSourceARN"),
                data=data[:MAX_DATA_CHARS] if data else None,
                data_truncated=bool(data and len(data) > MAX_DATA_CHARS), failed_at=now,
            ))
            result.reasons[exc.reason] = result.reasons.get(exc.reason, 0) + 1
            logs.warning("malformed record sent to the dead letters", reason=exc.reason, detail=exc.detail,
                         sequence_number=rec.sequence_number, event_id=letters[-1].id)
        try:
            self.dead_letters.send(letters)
        except Exception as exc:  # noqa: BLE001 - losing them is not an option: retry
            logs.error("dead-letter destination failed; the batch will be retried", error=str(exc))
            result.reasons.clear()
            return malformed[0][0].index
        result.malformed = len(malformed)
        return no_failure


# approximateArrivalTimestamp is epoch seconds (a float in the Lambda event); beyond year 9999
# or not a number at all, it is no arrival time.
_MAX_ARRIVAL_SECONDS = 253_402_300_799


def _arrival_micros(kinesis: dict, now_micros: int) -> int:
    """When the record reached the stream: its approximateArrivalTimestamp, or else now."""
    arrival = kinesis.get("approximateArrivalTimestamp")
    if ((type(arrival) is int or type(arrival) is float) and math.isfinite(arrival) and 0 < arrival <= _MAX_ARRIVAL_SECONDS):
        return int(arrival * 1_000_000)
    return now_micros


def _sequence_number(record: object) -> str | None:
    if isinstance(record, dict) and isinstance(record.get("kinesis"), dict):
        seq = record["kinesis"].get("sequenceNumber")
        return str(seq) if seq is not None else None
    return None


# Full collections at most every FULL_COLLECTION_EVERY collections of the middle generation
# (Python's default is 10). A batch decodes thousands of objects (histories, item rows) that
# live until its end; the default promotes them and then walks the whole heap, item cache
# included, every batch or two: about 15% of a warm handler's CPU time in bench/realtime
# (RESULTS.md, 2026-12-04), to free nothing, since the handler leaves no reference cycles
# (recmart_tests/realtime/test_handler.py). Young garbage is still collected as before.
FULL_COLLECTION_EVERY = 1000


def tune_garbage_collector() -> None:
    """Set where the process is the handler's own (the Lambda), never on import."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


_default: Handler | None = None


def handle(event: dict, context: object = None) -> dict:
    """The Lambda entry point (names.REALTIME_HANDLER)."""
    global _default
    if _default is None:
        tune_garbage_collector()
        _default = Handler.from_env()
    return _default(event, context)


# In Lambda, build the handler during the init phase: a bad setting fails the cold start,
# with the variable named, instead of every batch.
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and _default is None:
    tune_garbage_collector()
    _default = Handler.from_env()
    logs.log(logging.DEBUG, "handler ready", store=_default.config.store_url)
