"""Where Firehose files land and what they are called, shared by every writer and reader.

    landing/clickstream/YYYY/MM/DD/HH/<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<id>[.gz]

the time being the arrival of the file's first record, in UTC (DESIGN.md, landing layout).
"""

from __future__ import annotations

import datetime as dt
import os
import re

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


def new_landing_key(arrival: dt.datetime, file_id: object, compress: bool = True) -> str:
    """The key a new landing file gets (as Firehose names it), relative to the lake root;
    `arrival` is converted to UTC. `recmart.transforms.ingest.landing_key_of` reads it back
    out of a file's URI."""
    t = arrival.astimezone(dt.timezone.utc) if arrival.tzinfo else arrival
    suffix = ".gz" if compress else ""
    return (f"{LANDING_CLICKSTREAM}/{t:%Y/%m/%d/%H}/"
            f"{CLICK_STREAM}-{STREAM_VERSION}-{t:%Y-%m-%d-%H-%M-%S}-{file_id}{suffix}")


# The arrival time Firehose writes into every file name: ...-YYYY-MM-DD-HH-MM-SS-<uuid>[.gz]
FIREHOSE_NAME_TIME = r"-(\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-[^/]*$"
# Firehose writes the hour folder from the same arrival time: a file named some other way
# (dropped into the prefix by hand, say) arrives at the last second of its hour folder, or
# of its day folder, rather than failing the day's run. The last second, not the first: the
# file arrived after its events, which must not look as if they were in the future.
HOUR_FOLDER = r"landing/clickstream/(\d{4}/\d{2}/\d{2}/\d{2})/"
DAY_FOLDER = r"landing/clickstream/(\d{4}/\d{2}/\d{2})/"
_ARRIVAL_RULES = ((FIREHOSE_NAME_TIME, "%Y-%m-%d-%H-%M-%S", 0), (HOUR_FOLDER, "%Y/%m/%d/%H", 3599),
                  (DAY_FOLDER, "%Y/%m/%d", 86399))


def arrival_time_of(key: str) -> dt.datetime:
    """When a landed file arrived (UTC), from its landing key: the time in Firehose's file
    name, else the last second of its hour folder, else of its day folder."""
    for pattern, fmt, plus_seconds in _ARRIVAL_RULES:
        found = re.search(pattern, key)
        if found:
            try:
                t = dt.datetime.strptime(found.group(1), fmt).replace(tzinfo=dt.timezone.utc)
            except ValueError:  # digits that are no time (month 13): the next rule
                continue
            return t + dt.timedelta(seconds=plus_seconds)
    raise ValueError(f"{key}: not under landing/clickstream/YYYY/MM/DD/: no arrival time")
