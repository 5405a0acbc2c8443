"""ISO-8601 times as the click contract spells them, and one canonical UTC spelling.

The canonical spelling has a fixed width (`YYYY-MM-DDTHH:MM:SS.ffffffZ`), so that times
compare correctly as strings: DynamoDB condition expressions compare `updated_at` that way.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

# Date, 'T' or space, time with optional seconds and fraction, and a zone that is required.
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$"
)


def parse_iso_with_zone(text: str) -> datetime:
    """Parse an ISO-8601 time that carries a zone; return it in UTC.

    Raises ValueError for anything else, a time without a zone included: the contract
    refuses to guess the zone of a click.
    """
    m = _ISO.match(text.strip()) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"not an ISO-8601 time with a zone: {text!r}")
    year, month, day, hour, minute, second, fraction, z, sign, oh, om = m.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if z:
        offset = timedelta(0)
    else:
        hours, minutes = int(oh), int(om or 0)
        if hours > 23 or minutes > 59:
            raise ValueError(f"bad zone offset in {text!r}")
        offset = timedelta(hours=hours, minutes=minutes) * (-1 if sign == "-" else 1)
    local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro)
    return (local - offset).replace(tzinfo=timezone.utc)


def format_utc(moment: datetime) -> str:
    """The canonical, fixed-width UTC spelling."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(text: str) -> str:
    """Any accepted spelling of a time, as the canonical one."""
    return format_utc(parse_iso_with_zone(text))


def epoch_seconds(canonical_time: str) -> float:
    return parse_iso_with_zone(canonical_time).timestamp()


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch: exact, and cheap to compare and store."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def micros_to_iso(micros: int) -> str:
    """The canonical spelling of an epoch-microseconds time (f-string: faster than strftime)."""
    t = from_micros(micros)
    return (f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
            f".{t.microsecond:06d}Z")
