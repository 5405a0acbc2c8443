"""Where malformed click records go: they are never retried, but never silently dropped either.

One interface, `DeadLetterSink`, with an SQS queue (AWS: names.REALTIME_DLQ), a JSONL
file and a SQLite table (local). A dead letter's id is the Kinesis record's eventID
(shard and sequence number), so a consumer can tell a redelivered dead letter from a
new one; the SQLite sink keeps one row per id by itself.

    sqs://                          the queue named names.REALTIME_DLQ
    sqs://<queue name>              another queue, by name
    https://sqs.<region>.amazonaws.com/<account>/<name>   a queue URL
    jsonl:///<path> or <path>.jsonl a JSON-lines file
    sqlite:///<path>                table dead_letters in a SQLite file
    memory://                       kept in memory (tests)
"""

from __future__ import annotations

import json
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from recmart import names

# SQS takes messages up to 256 KiB; a Kinesis record can be 1 MiB. Keep the head of it.
MAX_DATA_CHARS = 200_000


class DeadLetterError(Exception):
    """The dead-letter destination failed: the records must be retried, not lost."""


@dataclass(frozen=True)
class DeadLetter:
    id: str  # the Kinesis eventID: "<shardId>:<sequenceNumber>"
    reason: str  # machine-readable: not_json, missing_field, bad_event_time, ...
    detail: str
    sequence_number: str | None
    partition_key: str | None
    event_source_arn: str | None
    data: str | None  # kinesis.data as received (base64), cut to MAX_DATA_CHARS
    data_truncated: bool
    failed_at: str  # when the handler rejected it (UTC, wall clock: informational only)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)


class DeadLetterSink(ABC):
    @abstractmethod
    def send(self, letters: Sequence[DeadLetter]) -> None:
        """Keep every letter; raise DeadLetterError if that cannot be done now."""

    def close(self) -> None:  # noqa: B027 - optional: most sinks hold nothing open
        pass


class MemoryDeadLetters(DeadLetterSink):
    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    def send(self, letters: Sequence[DeadLetter]) -> None:
        self.letters.extend(letters)


class JsonlDeadLetters(DeadLetterSink):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as f:
                f.write("".join(letter.to_json() + "\n" for letter in letters))
        except OSError as exc:
            raise DeadLetterError(f"cannot append to {self.path}: {exc}") from exc

    def read(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]


class SqliteDeadLetters(DeadLetterSink):
    """Table `dead_letters` (one row per id) in a SQLite file, the local store's by default."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS dead_letters (id TEXT PRIMARY KEY, reason TEXT NOT NULL, "
            "failed_at TEXT NOT NULL, letter TEXT NOT NULL)"
        )

    def send(self, letters: Sequence[DeadLetter]) -> None:
        rows = [(d.id, d.reason, d.failed_at, d.to_json()) for d in letters]
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("INSERT OR IGNORE INTO dead_letters VALUES (?, ?, ?, ?)", rows)
                self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise DeadLetterError(f"cannot write dead letters to {self.path}: {exc}") from exc

    def read(self) -> list[dict]:
        with self._lock:
            rows = self._db.execute("SELECT letter FROM dead_letters ORDER BY id").fetchall()
        return [json.loads(r[0]) for r in rows]

    def close(self) -> None:
        self._db.close()


class SqsDeadLetters(DeadLetterSink):
    def __init__(self, queue: str = names.REALTIME_DLQ, client=None) -> None:
        self.queue = queue
        self._client = client
        self._url = queue if queue.startswith("https://") else None

    def _sqs(self):
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs")
        return self._client

    def send(self, letters: Sequence[DeadLetter]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            if self._url is None:
                self._url = self._sqs().get_queue_url(QueueName=self.queue)["QueueUrl"]
            for i in range(0, len(letters), 10):  # SendMessageBatch's limit
                chunk = letters[i : i + 10]
                answer = self._sqs().send_message_batch(
                    QueueUrl=self._url,
                    Entries=[{"Id": str(n), "MessageBody": d.to_json(),
                              "MessageAttributes": {"reason": {"DataType": "String", "StringValue": d.reason}}}
                             for n, d in enumerate(chunk)],
                )
                if answer.get("Failed"):
                    raise DeadLetterError(f"SQS {self.queue} refused {len(answer['Failed'])} message(s): {answer['Failed'][:3]}")
        except (BotoCoreError, ClientError) as exc:
            raise DeadLetterError(f"SQS {self.queue}: {exc}") from exc


def open_dead_letters(url: str, setting: str) -> DeadLetterSink:
    """The sink `url` names (see the module doc); ValueError naming `setting` if it names none."""
    url = url.strip()
    if url == "memory://":
        return MemoryDeadLetters()
    if url.startswith("sqs://"):
        return SqsDeadLetters(url[len("sqs://"):].strip("/") or names.REALTIME_DLQ)
    if url.startswith("https://sqs.") or url.startswith("https://queue.amazonaws.com"):
        return SqsDeadLetters(url)
    if url.startswith("jsonl:///") and len(url) > len("jsonl:///"):
        return JsonlDeadLetters(url[len("jsonl:///"):])
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return SqliteDeadLetters(url[len("sqlite:///"):])
    if "://" not in url and url.endswith(".jsonl"):
        return JsonlDeadLetters(url)
    raise ValueError(
        f"{setting}={url!r}: expected sqs://[queue], an SQS queue URL, jsonl:///<path>, "
        "<path>.jsonl, sqlite:///<path> or memory://"
    )
