"""A local stand-in for Kinesis Firehose: buffer click lines, land gzip NDJSON files in the lake.

Like Firehose, a buffer is delivered when it is `buffer_seconds` old or `buffer_bytes`
big, whichever comes first, under

    <lake>/landing/clickstream/YYYY/MM/DD/HH/recmart-clicks-1-YYYY-MM-DD-HH-MM-SS-<uuid>.gz

where the time is the (simulated) arrival time of the buffer's first record, in UTC. A
file appears whole or not at all: locally it is written under a dot-name and renamed
(readers skip dot-files); on S3 a PUT is atomic by itself.
"""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Callable
from datetime import datetime

import pyarrow.fs as pafs

from recmart.landing.layout import lake_filesystem, new_landing_key

DEFAULT_BUFFER_SECONDS = 300
DEFAULT_BUFFER_BYTES = 5 * 1024 * 1024


class FirehoseWriter:
    def __init__(self, lake_root: str, buffer_seconds: float = DEFAULT_BUFFER_SECONDS,
                 buffer_bytes: int = DEFAULT_BUFFER_BYTES, new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        if buffer_seconds <= 0 or buffer_bytes <= 0:
            raise ValueError("the Firehose buffer needs a positive interval and size")
        self.fs, self.root = lake_filesystem(lake_root)
        self.buffer_seconds = buffer_seconds
        self.buffer_bytes = buffer_bytes
        self._new_id = new_id
        self._lines: list[bytes] = []
        self._size = 0
        self._opened: datetime | None = None
        self.files: list[str] = []  # keys written, relative to the lake root
        self.records = 0

    def add(self, record: dict | str | bytes, arrival: datetime) -> None:
        """Buffer one record that arrived at `arrival` (an aware datetime)."""
        line = record if isinstance(record, bytes) else (
            record if isinstance(record, str) else json.dumps(record, separators=(",", ":"))).encode("utf-8")
        line = line.rstrip(b"\n") + b"\n"
        self.tick(arrival)
        if self._lines and self._size + len(line) > self.buffer_bytes:
            self.flush()
        if not self._lines:
            self._opened = arrival
        self._lines.append(line)
        self._size += len(line)

    @property
    def _opened_at(self) -> datetime:
        """When the buffered records began: set with the first of them."""
        if self._opened is None:
            raise RuntimeError("FirehoseWriter: records are buffered but their open time is not set")
        return self._opened

    def tick(self, now: datetime) -> None:
        """Deliver the buffer if its interval has passed by `now`, records or not."""
        if self._lines and (now - self._opened_at).total_seconds() >= self.buffer_seconds:
            self.flush()

    def flush(self) -> str | None:
        """Deliver what is buffered now; the key written, or None when the buffer is empty."""
        if not self._lines:
            return None
        key = new_landing_key(self._opened_at, self._new_id())
        data = gzip.compress(b"".join(self._lines), mtime=0)
        path = f"{self.root}/{key}"
        folder, name = path.rsplit("/", 1)
        self.fs.create_dir(folder, recursive=True)
        if isinstance(self.fs, pafs.LocalFileSystem):
            temp = f"{folder}/.{name}.tmp"
            with self.fs.open_output_stream(temp) as out:
                out.write(data)
            self.fs.move(temp, path)  # a rename: atomic
        else:
            with self.fs.open_output_stream(path) as out:
                out.write(data)
        self.files.append(key)
        self.records += len(self._lines)
        self._lines, self._size, self._opened = [], 0, None
        return key
