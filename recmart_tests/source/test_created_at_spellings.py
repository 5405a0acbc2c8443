"""The export of a day takes the orders created in [D, D+1) UTC whatever the text form of their
times, in a store written by another program: tables made and filled with raw SQL, never the
project's own table definitions. Orders whose time cannot be read are refused by name."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recmart.source.database import SourceError
from recmart.source.export import export_transactions, purchase_totals

DAY = dt.date(2026, 11, 11)
UTC = dt.timezone.utc


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# (order_id, created_at as written, its UTC time, spelled with a zone, kept exactly by a timestamp column)
SPELLINGS = [
    ("a-before", "2026-11-10 23:59:59", utc(2026, 11, 10, 23, 59, 59), False, True),
    ("b-midnight", "2026-11-11 00:00:00", utc(2026, 11, 11), False, True),
    ("c-t-fraction", "2026-11-11T12:30:00.123456", utc(2026, 11, 11, 12, 30, 0, 123456), False, True),
    # Seven digits: cut to the microsecond, never rounded into the next day (PostgreSQL's own
    # timestamp input rounds it, so only text columns hold it).
    ("d-last", "2026-11-11 23:59:59.9999999", utc(2026, 11, 11, 23, 59, 59, 999999), False, False),
    ("e-next-midnight", "2026-11-12 00:00:00", utc(2026, 11, 12), False, True),
    ("f-next-midnight-t", "2026-11-12T00:00:00", utc(2026, 11, 12), False, True),
    ("g-zulu", "2026-11-11T23:00:00Z", utc(2026, 11, 11, 23), True, True),
    ("h-ahead-into-day", "2026-11-12T01:00:00+02:00", utc(2026, 11, 11, 23), True, True),
    ("i-ahead-out-of-day", "2026-11-11T01:00:00+02:00", utc(2026, 11, 10, 23), True, True),
    ("j-behind-out-of-day", "2026-11-11T20:00:00-05:00", utc(2026, 11, 12, 1), True, True),
    ("k-behind-into-day", "2026-11-10 22:00:00.5-03:00", utc(2026, 11, 11, 1, 0, 0, 500000), True, True),
    ("l-no-seconds", "2026-11-11 08:15", utc(2026, 11, 11, 8, 15), False, True),
    ("m-compact-zone", "2026-11-11T10:00:00+0530", utc(2026, 11, 11, 4, 30), True, True),
]


def make_store(engine: sa.Engine, created_at_type: str, rows: list[tuple[str, str | None]]) -> None:
    """orders and order_items as another program would create them; two items per order."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            f"CREATE TABLE orders (order_id TEXT PRIMARY KEY, user_id TEXT, created_at {created_at_type}, "
            "status TEXT NOT NULL)"
        ))
        conn.execute(sa.text(
            "CREATE TABLE order_items (order_id TEXT, line_no INTEGER, product_id TEXT NOT NULL, "
            "quantity INTEGER NOT NULL, unit_price NUMERIC(10,2) NOT NULL, PRIMARY KEY (order_id, line_no))"
        ))
        for order_id, created_at in rows:
            conn.execute(sa.text("INSERT INTO orders VALUES (:o, 'u1', :c, 'paid')"), {"o": order_id, "c": created_at})
            conn.execute(sa.text("INSERT INTO order_items VALUES (:o, 1, 'p1', 1, 1.50), (:o, 2, 'p2', 1, 1.50)"),
                         {"o": order_id})


def exported(engine: sa.Engine, day: dt.date = DAY) -> dict[str, dt.datetime]:
    return {r["order_id"]: r["created_at"] for b in export_transactions(engine, day, batch_rows=4)
            for r in b.to_pylist()}


def expected(spellings) -> dict[str, dt.datetime]:
    return {order_id: when for order_id, _, when, _, _ in spellings if when.date() == DAY}


@pytest.fixture
def postgres_source(postgres_url):
    """(writer, reader) on a fresh schema. The store writes in a UTC session, so its zone-less
    times are UTC; the export reads in a session zone far from UTC, which must not matter."""
    schema = f"recmart_spell_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engines = [sa.create_engine(postgres_url, connect_args={"options": f"-csearch_path={schema} -ctimezone={zone}"})
               for zone in ("UTC", "Asia/Kolkata")]
    try:
        yield engines
    finally:
        for engine in engines:
            engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.parametrize("created_at_type", ["TEXT", "DATETIME"])
def test_sqlite_text_times_in_every_spelling_fall_on_their_utc_day(sqlite_engine, created_at_type):
    make_store(sqlite_engine, created_at_type, [(o, text) for o, text, *_ in SPELLINGS])
    got = exported(sqlite_engine)
    assert got == expected(SPELLINGS)
    assert "b-midnight" in got and "e-next-midnight" not in got
    # The next day starts exactly at midnight, in each spelling.
    assert {"e-next-midnight", "f-next-midnight-t", "j-behind-out-of-day"} <= set(exported(sqlite_engine, DAY + dt.timedelta(days=1)))
    day_orders = len(expected(SPELLINGS))
    assert purchase_totals(sqlite_engine, DAY) == {
        "orders": day_orders, "order_products": 2 * day_orders, "units": 2 * day_orders,
        "revenue": Decimal("3.00") * day_orders,
    }


@pytest.mark.postgres
@pytest.mark.parametrize("created_at_type", ["timestamptz", "timestamp", "text"])
def test_postgres_times_fall_on_their_utc_day_whatever_the_column_and_session_zone(postgres_source, created_at_type):
    # A timestamp column without zone drops a written zone (PostgreSQL's rule), so it gets only
    # the zone-less spellings; a timestamp column rounds to the microsecond on input.
    spellings = [s for s in SPELLINGS if created_at_type == "text" or (s[4] and not (s[3] and created_at_type == "timestamp"))]
    writer, reader = postgres_source
    make_store(writer, created_at_type, [(o, text) for o, text, *_ in spellings])
    assert exported(reader) == expected(spellings)
    day_orders = len(expected(spellings))
    assert purchase_totals(reader, DAY)["orders"] == day_orders


@pytest.mark.parametrize("bad, why", [
    ("2026-11-11 25:00:00", "not a real time"),  # in the day's window, read and refused
    ("2026-11-11 10:00:00+19:00", "beyond ±18:00"),
    ("11/11/2026 10:00", "is not YYYY-MM-DD HH:MM"),  # no day's window would ever select it
    ("yesterday", "is not YYYY-MM-DD HH:MM"),
    (None, "NULL"),
])
def test_sqlite_orders_with_unreadable_times_are_refused_by_name(sqlite_engine, bad, why):
    make_store(sqlite_engine, "TEXT", [("fine", "2026-11-11 09:00:00"), ("o-unreadable", bad)])
    for attempt in (lambda: exported(sqlite_engine), lambda: purchase_totals(sqlite_engine, DAY)):
        with pytest.raises(SourceError, match=r"orders\.created_at cannot be read for 1 order") as err:
            attempt()
        assert "'o-unreadable'" in str(err.value) and why in str(err.value) and "'fine'" not in str(err.value)


def test_sqlite_times_stored_as_numbers_are_refused_by_name(sqlite_engine):
    make_store(sqlite_engine, "DATETIME", [("fine", "2026-11-11 09:00:00")])
    with sqlite_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO orders VALUES ('o-epoch', 'u1', 1762819200, 'paid')"))
    with pytest.raises(SourceError, match=r"order 'o-epoch': not a timestamp but int 1762819200"):
        exported(sqlite_engine, DAY - dt.timedelta(days=30))


def test_every_spelling_of_cancelled_is_one_status_in_the_export_and_its_totals(sqlite_engine):
    make_store(sqlite_engine, "TEXT", [(f"o{n}", "2026-11-11 10:00:00") for n in range(6)])
    statuses = {"o0": "paid", "o1": "cancelled", "o2": "canceled", "o3": " CANCELLED ", "o4": "Canceled", "o5": "Shipped"}
    with sqlite_engine.begin() as conn:
        for order_id, status in statuses.items():
            conn.execute(sa.text("UPDATE orders SET status = :s WHERE order_id = :o"), {"s": status, "o": order_id})
    got = {r["order_id"]: r["status"] for b in export_transactions(sqlite_engine, DAY) for r in b.to_pylist()}
    assert got == {"o0": "paid", "o1": "cancelled", "o2": "cancelled", "o3": "cancelled", "o4": "cancelled",
                   "o5": "shipped"}
    # What the matrix must add up to counts the same two orders as bought (two items each).
    assert purchase_totals(sqlite_engine, DAY) == {"orders": 2, "order_products": 4, "units": 4,
                                                   "revenue": Decimal("6.00")}
