"""Which orders were created on a UTC day, whatever the text form of `orders.created_at`.

SQLite has no timestamp type: a store written by another program holds `created_at` as text
in its own ISO spelling (`2026-11-11 00:00:00`, `2026-11-11T00:00:00.123Z`, `...+02:00`), and
comparing that text with bounds of another spelling puts an order at midnight on the wrong
side of the day. So the database only narrows the orders to a window one day wider on each
side than [D, D+1) (a superset for every spelling whose zone is within ±18:00, compared as
text or as a timestamp alike), and one parser here decides each order's day. Orders whose
time cannot be read are refused with a `SourceError` that names them, never left out.
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from recmart.source.database import SourceError
from recmart.source.schema import orders

UTC = dt.timezone.utc
ACCEPTED = "YYYY-MM-DD HH:MM[:SS[.fraction]] ('T' or a space between), then optionally Z or ±HH[:MM]"
_ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?"
    r" ?(?:([Zz])|([+-])([0-9]{2})(?::?([0-9]{2}))?)?"
)
# The window's width rests on this bound (java.time's, and the click events' too).
MAX_OFFSET = dt.timedelta(hours=18)
_SHOWN = 10  # refused orders named in one message


def utc_time(value: object) -> dt.datetime:
    """A source timestamp (a datetime, or text in an ISO spelling) as an aware UTC datetime.

    No zone means UTC, by the store's convention. Fractions finer than a microsecond are cut,
    not rounded, so a time just before midnight stays on its day. ValueError says what is wrong.
    """
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp but {type(value).__name__} {value!r}")
    m = _ISO.fullmatch(value.strip())
    if m is None:
        raise ValueError(f"{value!r} is not {ACCEPTED}")
    y, mo, d, h, mi, s, frac, z, sign, oh, om = m.groups()
    offset = dt.timedelta(hours=int(oh or 0), minutes=int(om or 0)) * (-1 if sign == "-" else 1)
    if int(om or 0) > 59 or abs(offset) > MAX_OFFSET:
        raise ValueError(f"{value!r} has a zone offset beyond ±18:00")
    try:
        local = dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), int((frac or "0").ljust(6, "0")[:6]))
        return (local - offset).replace(tzinfo=UTC)
    except (ValueError, OverflowError) as exc:  # 30 February, 24:00, or beyond year 9999 in UTC
        raise ValueError(f"{value!r} is not a real time ({exc})") from None


class OrdersOfDay:
    """The orders created in [day, day+1) UTC on one connection: the window to select, the
    expression to read `created_at` by, and the decision per row."""

    def __init__(self, day: dt.date):
        if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
            raise TypeError(f"day must be a datetime.date, not {type(day).__name__}")
        self.day = day
        self.refused: dict[str, str] = {}  # order id -> why, once per order however many items

    def bind(self, conn: sa.Connection) -> OrdersOfDay:
        """Read created_at the way this database holds it; refuse orders no day would take."""
        self.dialect = conn.dialect.name
        self.as_text = self.dialect != "postgresql" or _is_text(conn)
        # Read as the driver gives it: SQLAlchemy's SQLite DateTime would parse text its own way.
        self.created_at = sa.type_coerce(orders.c.created_at, sa.Text) if self.as_text else orders.c.created_at
        self._refuse_unplaceable(conn)
        return self

    def window(self) -> sa.ColumnElement[bool]:
        """A superset of the day's orders, selectable through the index on created_at."""
        lo, hi = self.day - dt.timedelta(days=1), self.day + dt.timedelta(days=2)
        if not self.as_text:
            return sa.and_(self.created_at >= dt.datetime.combine(lo, dt.time()),
                           self.created_at < dt.datetime.combine(hi, dt.time()))
        column = self.created_at.collate("C") if self.dialect == "postgresql" else self.created_at
        return sa.and_(column >= lo.isoformat(), column < hi.isoformat())

    def on_day(self, order_id: str, value: object) -> bool:
        """Whether the order is of the day; an unreadable time is noted, for `refuse_noted`."""
        try:
            return utc_time(value).date() == self.day
        except ValueError as exc:
            self.refused.setdefault(order_id, str(exc))
            return False

    def _refuse_unplaceable(self, conn: sa.Connection) -> None:
        """Fail on orders that fall in no day's window: no time, or text not starting YYYY-MM-DD."""
        bad: sa.ColumnElement[bool] = orders.c.created_at.is_(None)
        if self.as_text:
            text = sa.cast(orders.c.created_at, sa.Text)
            starts_with_date = (
                text.op("GLOB")("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*") if self.dialect == "sqlite"
                else text.op("~")("^[0-9]{4}-[0-9]{2}-[0-9]{2}")
            )
            bad = sa.or_(bad, sa.not_(starts_with_date))
        rows = conn.execute(sa.select(orders.c.order_id, self.created_at).where(bad).limit(_SHOWN + 1)).all()
        self.refused.update((order_id, _reason(value)) for order_id, value in rows)
        self.refuse_noted()

    def refuse_noted(self) -> None:
        if not self.refused:
            return
        shown = "; ".join(f"order {oid!r}: {why}" for oid, why in list(self.refused.items())[:_SHOWN])
        count = f"more than {_SHOWN}" if len(self.refused) > _SHOWN else str(len(self.refused))
        raise SourceError(
            f"orders.created_at cannot be read for {count} order(s), so the day they belong "
            f"to is unknown and the export of {self.day} stops rather than leave them out: {shown}. "
            f"Expected {ACCEPTED}; correct these orders in the source database."
        )


def _reason(value: object) -> str:
    if value is None:
        return "created_at is NULL"
    try:
        utc_time(value)
    except ValueError as exc:
        return str(exc)
    return f"{value!r} does not start with its date"


def _is_text(conn: sa.Connection) -> bool:
    """Whether created_at is a text column (a store that writes its times as strings)."""
    columns = sa.inspect(conn).get_columns(orders.name, schema=orders.schema)
    kind = next(c["type"] for c in columns if c["name"].lower() == orders.c.created_at.name)
    return isinstance(kind, sa.String)
