"""Where Firehose files land and what they are called, shared by every writer and reader.

    landing/clickstream/YYYY/MM/DD/HH/<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<id>[.gz]

the time being the arrival of the file's first record, in UTC (DESIGN.md, landing layout).
"""

from __future__ import annotations

import datetime as dt
import os

import pyarrow as pa
import pyarrow.fs as pafs

from recmart.names import CLICK_STREAM

LANDING_CLICKSTREAM = "landing/clickstream"
STREAM_VERSION = 1


def lake_filesystem(lake_root: str) -> tuple[pafs.FileSystem, str]:
    """The file system and root path of a lake given as a folder or an s3://bucket/prefix URI."""
    uri = lake_root if "://" in lake_root else os.path.abspath(lake_root)
    try:
        fs, path = pafs.FileSystem.from_uri(uri)
    except (pa.ArrowInvalid, ValueError) as exc:
        raise ValueError(f"lake {lake_root!r} is neither a folder nor a file system URI such as s3://bucket/prefix: "
                         f"{exc}") from None
    return fs, path.rstrip("/")


def landing_key(arrival: dt.datetime, file_id: object, compress: bool = True) -> str:
    """Key of a landing file, relative to the lake root; `arrival` is converted to UTC."""
    t = arrival.astimezone(dt.timezone.utc) if arrival.tzinfo else arrival
    suffix = ".gz" if compress else ""
    return (f"{LANDING_CLICKSTREAM}/{t:%Y/%m/%d/%H}/"
            f"{CLICK_STREAM}-{STREAM_VERSION}-{t:%Y-%m-%d-%H-%M-%S}-{file_id}{suffix}")
