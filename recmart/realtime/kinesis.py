"""Kinesis-shaped batches, as the Lambda event-source mapping delivers them.

Used by the local stream, the tests and the benchmark to call the handler exactly as
AWS would: base64 `data`, increasing sequence numbers, one `eventID` per record.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass

from recmart import names

MAX_BATCH = 100  # the event-source mapping's default batch size
REGION = "eu-west-1"
SHARD = "shardId-000000000000"
STREAM_ARN = f"arn:aws:kinesis:{REGION}:000000000000:stream/{names.CLICK_STREAM}"


def encode(click: dict | bytes | str) -> str:
    """The base64 `data` of a record carrying `click` (bytes and str are sent as they are)."""
    if isinstance(click, dict):
        click = json.dumps(click, separators=(",", ":"))
    if isinstance(click, str):
        click = click.encode("utf-8")
    return base64.b64encode(click).decode("ascii")


@dataclass
class Shard:
    """Hands out increasing sequence numbers the way one Kinesis shard does."""

    shard_id: str = SHARD
    next_sequence: int = 49_590_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000
    arrival_seconds: float | None = None  # approximateArrivalTimestamp; None: the wall clock

    def record(self, click: dict | bytes | str, partition_key: str | None = None,
               arrival_seconds: float | None = None) -> dict:
        if arrival_seconds is None:
            arrival_seconds = self.arrival_seconds if self.arrival_seconds is not None else time.time()
        seq = str(self.next_sequence)
        self.next_sequence += 1
        if partition_key is None:
            partition_key = (click.get("user_id") or click.get("session_id") or "anonymous") if isinstance(click, dict) else "x"
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": str(partition_key),
                "sequenceNumber": seq,
                "data": encode(click),
                "approximateArrivalTimestamp": arrival_seconds,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{self.shard_id}:{seq}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": f"arn:aws:iam::000000000000:role/{names.REALTIME_LAMBDA}",
            "awsRegion": REGION,
            "eventSourceARN": STREAM_ARN,
        }


def batch_event(records: Iterable[dict]) -> dict:
    return {"Records": list(records)}


def records_from(records: list[dict], sequence_number: str) -> list[dict]:
    """The records a retry redelivers: from `sequence_number` on, as the mapping does."""
    start = int(sequence_number)
    return [r for r in records if int(r["kinesis"]["sequenceNumber"]) >= start]
