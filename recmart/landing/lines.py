"""Reading landed files as their lines, the way Spark's text reader splits them.

A line ends at `\\n`, `\\r` or `\\r\\n` (Hadoop's line reader); a final line without an end
is a line; an empty line between two ends is a line (cleaning quarantines it), so nothing
that landed is left uncounted; a byte order mark opening the file is dropped, as Hadoop does. A damaged gzip is read as far as it can be.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs

_CHUNK = 8 << 20
_BOM = b"\xef\xbb\xbf"


def _chunks(fs: pafs.FileSystem, path: str, damage: list[str]) -> Iterator[bytes]:
    """The file's bytes, inflated when its name ends .gz; why it stops early goes to `damage`."""
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
                    damage.append(f"corrupt gzip: {exc}")
                    return
            if chunk:
                yield chunk
        if inflate is not None and read_any and not inflate.eof:
            damage.append("truncated gzip: the file ends inside its compressed stream")


def line_array(fs: pafs.FileSystem, path: str) -> tuple[pa.LargeBinaryArray, str | None]:
    """The lines of a landed file and why it cannot be read to its end (None when it can), as
    one Arrow array over the file's inflated bytes, without a Python object per line: lines
    end exactly where `bytes.splitlines` (and Hadoop's reader) end them, and each value is a
    line *with* its end (`\\n`, `\\r` or `\\r\\n`; the last line may
    have none), so stripping trailing `\\r` and `\\n` gives the line, since a line holds neither."""
    damage: list[str] = []
    data = b"".join(_chunks(fs, path, damage))
    byte = np.frombuffer(data, np.uint8)
    lf, cr = byte == 10, byte == 13
    cr[:-1] &= ~lf[1:]  # the \r of a \r\n is not an end by itself
    ends = np.flatnonzero(lf | cr)
    # A UTF-8 byte order mark opening the file is not part of its first line: Hadoop's
    # reader drops it too (a Windows program's export starts with one).
    first = len(_BOM) if data.startswith(_BOM) else 0
    offsets = np.concatenate([[first], ends + 1]).astype(np.int64)
    if data and data[-1:] not in (b"\n", b"\r"):
        offsets = np.append(offsets, len(data))  # a final line without an end is a line
    lines = pa.Array.from_buffers(pa.large_binary(), len(offsets) - 1,
                                  [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    return lines, (damage[0] if damage else None)


def count_records(fs: pafs.FileSystem, path: str) -> tuple[int, str | None]:
    """How many lines `line_array` gives, counted in constant memory, and the damage."""
    damage: list[str] = []
    ends, crlf, last = 0, 0, b"\n"
    for chunk in _chunks(fs, path, damage):
        ends += chunk.count(b"\n") + chunk.count(b"\r")
        crlf += chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
        last = chunk[-1:]
    return ends - crlf + (0 if last in (b"\n", b"\r") else 1), (damage[0] if damage else None)
