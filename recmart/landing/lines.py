"""Reading landed files as their lines, the way Spark's text reader splits them.

A line ends at `\\n`, `\\r` or `\\r\\n` (Hadoop's line reader); a final line without an end
is a line; an empty line between two ends is a line (cleaning quarantines it), so nothing
that landed is left uncounted; a byte order mark opening the file is dropped, as Hadoop does. A damaged gzip is read as far as it can be.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

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


def read_lines(fs: pafs.FileSystem, path: str) -> tuple[list[bytes], str | None]:
    """The lines of a landed file (without their ends) and why it cannot be read to its end
    (None when it can). `bytes.splitlines` ends lines exactly where Hadoop's reader does."""
    damage: list[str] = []
    lines = b"".join(_chunks(fs, path, damage)).splitlines()
    # A UTF-8 byte order mark opening the file is not part of its first line: Hadoop's
    # reader drops it too (a Windows program's export starts with one).
    if lines and lines[0].startswith(_BOM):
        lines[0] = lines[0][len(_BOM):]
    return lines, (damage[0] if damage else None)


def count_records(fs: pafs.FileSystem, path: str) -> tuple[int, str | None]:
    """How many lines `read_lines` gives, counted in constant memory, and the damage."""
    damage: list[str] = []
    ends, crlf, last = 0, 0, b"\n"
    for chunk in _chunks(fs, path, damage):
        ends += chunk.count(b"\n") + chunk.count(b"\r")
        crlf += chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
        last = chunk[-1:]
    return ends - crlf + (0 if last in (b"\n", b"\r") else 1), (damage[0] if damage else None)
