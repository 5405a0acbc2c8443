"""ISO-8601 times as the click contract spells them, and one canonical UTC spelling.

The canonical spelling has a fixed width (`YYYY-MM-DDTHH:MM:SS.ffffffZ`), so that times
compare correctly as strings: DynamoDB condition expressions compare `updated_at` that way.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from time import gmtime, strftime

# Date, 'T' or space, time with optional seconds and fraction, and a zone that is required.
# The batch path's Spark validates event times with this same pattern (Java reads it alike).
ISO_WITH_ZONE = (
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$"
)
_ISO = re.compile(ISO_WITH_ZONE)


def parse_iso_with_zone(text: str) -> datetime:
    """Parse an ISO-8601 time that carries a zone; return it in UTC.

    Raises ValueError for anything else, a time without a zone included: the contract
    refuses to guess the zone of a click.
    """
    local, offset_minutes = _parse(text)
    try:
        return (local - timedelta(minutes=offset_minutes)).replace(tzinfo=timezone.utc)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00: a valid local time, but no UTC one
        raise ValueError(f"{text!r} is outside the calendar once in UTC") from None


def _parse(text: str) -> tuple[datetime, int]:
    """(the local time, its zone's offset from UTC in minutes), or ValueError."""
    m = _ISO.match(text.strip()) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"not an ISO-8601 time with a zone: {text!r}")
    year, month, day, hour, minute, second, fraction, z, sign, oh, om = m.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    if z:
        offset = 0
    else:
        hours, minutes = int(oh), int(om or 0)
        # ±18:00 at most, as java.time (and so the batch path's Spark) allows; real zones
        # stay within ±14:00.
        if minutes > 59 or hours * 60 + minutes > 18 * 60:
            raise ValueError(f"bad zone offset in {text!r}")
        offset = (hours * 60 + minutes) * (-1 if sign == "-" else 1)
    return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro), offset


def format_utc(moment: datetime) -> str:
    """The canonical, fixed-width UTC spelling."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(text: str) -> str:
    """Any accepted spelling of a time, as the canonical one."""
    return format_utc(parse_iso_with_zone(text))


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_ORDINAL = _EPOCH.toordinal()


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch: exact, and cheap to compare and store."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


_MIN_MICROS = to_micros(datetime.min.replace(tzinfo=timezone.utc))
_MAX_MICROS = to_micros(datetime.max.replace(tzinfo=timezone.utc))


def iso_to_micros(text: str) -> int:
    """`to_micros(parse_iso_with_zone(text))`, without the datetime arithmetic in between.

    Every click's time goes through this: the same parse (and errors), then the
    microseconds from the date's ordinal and integer arithmetic, about half the CPU.
    """
    local, offset_minutes = _parse(text)
    micros = (((local.toordinal() - _EPOCH_ORDINAL) * 86_400 + local.hour * 3_600 + local.minute * 60 + local.second)
              * 1_000_000 + local.microsecond - offset_minutes * 60_000_000)
    if not _MIN_MICROS <= micros <= _MAX_MICROS:  # outside datetime's range: fail as parse_iso_with_zone does
        return to_micros(parse_iso_with_zone(text))  # (a ValueError, whatever the calendar edge)
    return micros


def micros_to_iso(micros: int) -> str:
    """The canonical spelling of an epoch-microseconds time.

    Written for every user of every batch: for int times from 1970 on, `time.gmtime` and
    one strftime (no datetime or timedelta objects) give the same text in half the time.
    """
    if type(micros) is int and 0 <= micros <= _MAX_MICROS:
        seconds, micro = divmod(micros, 1_000_000)
        return f"{strftime('%Y-%m-%dT%H:%M:%S', gmtime(seconds))}.{micro:06d}Z"
    t = from_micros(micros)
    return (f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
            f".{t.microsecond:06d}Z")


# Producer clocks may run ahead of the stream's: an event time later than its record's
# arrival plus this is in the future, and refused. The batch path (recmart.transforms.events)
# uses the same tolerance against Firehose's arrival time.
FUTURE_SKEW_MINUTES = 60
