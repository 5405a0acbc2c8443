"""Landing files as Kinesis Firehose writes them, on a local folder or S3.

`landing/clickstream/YYYY/MM/DD/HH/recmart-clicks-1-YYYY-MM-DD-HH-MM-SS-<uuid>.gz`: gzip
NDJSON, one file per 5-minute buffer window that received anything, the path's time being
the arrival of the file's first record (UTC). File names are deterministic (the uuid comes
from a seeded generator), a landed file is never rewritten, and a local file appears whole
or not at all (written under a hidden name, then renamed; an S3 upload is atomic anyway).
Compression (ISA-L gzip) and writing run on one background thread, overlapping the generation.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
from isal import isal_zlib

from recmart.landing.layout import lake_filesystem, new_landing_key
from recmart.sample.sessions import WINDOW_MS

# Firehose's largest buffer; a busier window is split into several files.
MAX_FILE_BYTES = 128 << 20
_MAX_QUEUED_FILES = 8


class FirehoseWriter:
    """Writes arrival-sorted lines into Firehose files; use as a context manager."""

    def __init__(self, lake_root: str, seed: int, compress: bool = True, compress_level: int = 1):
        self.fs, self.root = lake_filesystem(lake_root)
        self.local = isinstance(self.fs, pafs.LocalFileSystem)
        self.compress, self.compress_level = compress, compress_level
        self._names = np.random.default_rng([seed, 0xF11E])
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="firehose")
        self._queued: deque[Future] = deque()
        self.files_written = 0
        self.files_kept = 0  # already landed by an earlier run: left as they are
        self.keys: list[str] = []

    def __enter__(self) -> FirehoseWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def write(self, table: pa.Table | None) -> None:
        """Land rows sorted by `arrival_ms` (int64 epoch ms) with their NDJSON `line` (newline included).

        The caller never passes a window it passed before, so each window's file is complete.
        """
        if table is None or table.num_rows == 0:
            return
        arrival = table["arrival_ms"].to_numpy()
        lines = table["line"].combine_chunks()
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset : lines.offset + len(lines) + 1]
        data = lines.buffers()[2]
        window = arrival // WINDOW_MS
        cuts = [0, *(np.flatnonzero(np.diff(window)) + 1).tolist(), len(arrival)]
        for first, stop in zip(cuts[:-1], cuts[1:], strict=True):
            while first < stop:
                # As many lines as fit in one Firehose buffer (at least one).
                limit = offsets[first] + MAX_FILE_BYTES
                end = max(first + 1, min(stop, int(np.searchsorted(offsets, limit, side="right")) - 1))
                self._land(int(arrival[first]), data.slice(int(offsets[first]), int(offsets[end] - offsets[first])))
                first = end

    def _land(self, arrival_ms: int, payload: pa.Buffer) -> None:
        arrival = dt.datetime.fromtimestamp(arrival_ms // 1000, tz=dt.timezone.utc)
        key = new_landing_key(arrival, uuid.UUID(bytes=self._names.bytes(16), version=4), self.compress)
        self.keys.append(key)
        while len(self._queued) >= _MAX_QUEUED_FILES:
            self._count(self._queued.popleft().result())
        self._queued.append(self._pool.submit(self._put, key, payload))

    def _count(self, written: bool) -> None:
        if written:
            self.files_written += 1
        else:
            self.files_kept += 1

    def _put(self, key: str, payload: pa.Buffer) -> bool:
        path = f"{self.root}/{key}"
        if self.fs.get_file_info(path).type != pafs.FileType.NotFound:
            return False  # never rewrite a landed file
        if self.compress:
            gzip = isal_zlib.compressobj(self.compress_level, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS)
            payload = gzip.compress(payload) + gzip.flush()
        if not self.local:
            with self.fs.open_output_stream(path, compression=None) as out:
                out.write(payload)
            return True
        folder, name = path.rsplit("/", 1)
        self.fs.create_dir(folder, recursive=True)
        hidden = f"{folder}/.{name}.tmp"  # readers of the landing prefix skip dot files
        with self.fs.open_output_stream(hidden, compression=None) as out:
            out.write(payload)
        self.fs.move(hidden, path)
        return True

    def close(self) -> None:
        """Wait for every queued file; the first write error, if any, is raised here."""
        try:
            while self._queued:
                self._count(self._queued.popleft().result())
        finally:
            self._pool.shutdown(wait=True)
