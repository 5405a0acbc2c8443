"""Counting landed records without Spark, for the exact reconciliation check."""

from __future__ import annotations

import zlib

import pyarrow.fs as pafs

_CHUNK = 8 << 20


def count_records(fs: pafs.FileSystem, path: str) -> tuple[int, str | None]:
    """Lines in a landed file (gzip by its .gz name), counted the way Spark's text reader
    splits, and why the file cannot be read to its end (None when it can).

    A final line without a newline is a record; an empty line between newlines is a record
    (cleaning quarantines it), so nothing that landed is left uncounted. A damaged gzip is
    counted as far as it can be read.
    """
    count, last, damage = 0, b"\n", None
    with fs.open_input_stream(path, compression=None) as raw:
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if path.endswith(".gz") else None
        read_any = False
        while True:
            chunk = raw.read(_CHUNK)
            if not chunk:
                break
            read_any = True
            if inflate is not None:
                try:
                    chunk = inflate.decompress(chunk)
                    # Concatenated gzip members (allowed by the format) follow each other.
                    while inflate.eof and inflate.unused_data:
                        rest = inflate.unused_data
                        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
                        chunk += inflate.decompress(rest)
                except zlib.error as exc:
                    damage, chunk = f"corrupt gzip: {exc}", b""
            if chunk:
                count += chunk.count(b"\n")
                last = chunk[-1:]
            if damage:
                break
        if inflate is not None and read_any and not damage and not inflate.eof:
            damage = "truncated gzip: the file ends inside its compressed stream"
    return count + (0 if last == b"\n" else 1), damage
