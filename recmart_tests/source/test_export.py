"""The nightly export on SQLite and PostgreSQL: day bounds, order, exact money, bounded batches."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pyarrow as pa
import pytest
import sqlalchemy as sa

from recmart.source.database import SourceError, open_engine
from recmart.source.export import (
    export_products,
    export_transactions,
    export_users,
    purchase_totals,
)
from recmart.source.schema import order_items, orders, products, users
from recmart.tables import RAW_PRODUCTS, RAW_TRANSACTIONS, RAW_USERS

DAY = dt.date(2024, 3, 10)
UTC = dt.timezone.utc


def at(day_offset: int, hh: int = 0, mm: int = 0, ss: int = 0, us: int = 0) -> dt.datetime:
    """A naive UTC timestamp, as the source stores them."""
    return dt.datetime.combine(DAY + dt.timedelta(days=day_offset), dt.time(hh, mm, ss, us))


# Order ids whose byte order differs from a locale's collation order.
ORDERS = [
    ("O-B", "U1", at(0), "paid", [("P1", 3, "19.99"), ("P2", 1, "0.10"), ("P1", 2, "19.99")]),
    ("O-b", "U2", at(0, 12, 30, 0, 123456), "shipped", [("P3", 7, "0.10"), ("P4", 1, "1234.56")]),
    ("O_a", "U1", at(0, 23, 59, 59, 999999), "cancelled", [("P1", 1, "19.99")]),
    ("o-a", None, at(0, 8), "paid", [("P2", 2, "5.05")]),  # a guest checkout
    ("O-empty", "U3", at(0, 9), "pending", []),  # abandoned at payment: no items
    ("O-prev", "U1", at(-1, 23, 59, 59, 999999), "paid", [("P1", 1, "19.99")]),
    ("O-next", "U1", at(1), "paid", [("P1", 1, "19.99")]),
]


def fill(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(products.insert(), [
            {"product_id": "P1", "name": "Blue Shirt", "gender": "Men", "master_category": "Apparel",
             "sub_category": "Topwear", "article_type": "Shirts", "base_colour": "Blue", "season": "Summer",
             "year": 2012, "usage": "Casual", "price": Decimal("19.99")},
            {"product_id": "P2", "name": None, "gender": None, "master_category": None, "sub_category": None,
             "article_type": None, "base_colour": None, "season": None, "year": None, "usage": None,
             "price": None},
        ])
        conn.execute(users.insert(), [
            {"user_id": "U1", "email": "Alice.Smith@Example.com", "name": "Alice Smith", "gender": "female",
             "birth_year": 1990, "city": "Leeds", "country": "United Kingdom", "signup_at": at(-400, 10)},
            {"user_id": "U2", "email": None, "name": "Bob", "gender": None, "birth_year": None, "city": None,
             "country": None, "signup_at": None},
        ])
        for order_id, user_id, created, status, items in ORDERS:
            conn.execute(orders.insert(), {"order_id": order_id, "user_id": user_id, "created_at": created,
                                           "status": status})
            for line_no, (product_id, quantity, price) in enumerate(items, start=1):
                conn.execute(order_items.insert(), {"order_id": order_id, "line_no": line_no,
                                                    "product_id": product_id, "quantity": quantity,
                                                    "unit_price": Decimal(price)})


def rows(batches) -> list[dict]:
    return [row for batch in batches for row in batch.to_pylist()]


def test_transactions_of_the_day_in_byte_order_with_exact_money(engine):
    fill(engine)
    batches = list(export_transactions(engine, DAY))
    assert all(b.schema == RAW_TRANSACTIONS.arrow_schema() for b in batches)
    got = rows(batches)

    assert [(r["order_id"], r["line_no"]) for r in got] == [
        ("O-B", 1), ("O-B", 2), ("O-B", 3), ("O-b", 1), ("O-b", 2), ("O-empty", None), ("O_a", 1), ("o-a", 1),
    ]
    first = got[0]
    assert first["created_at"] == dt.datetime(2024, 3, 10, tzinfo=UTC)
    assert first["unit_price"] == Decimal("19.99") and first["quantity"] == 3
    late = next(r for r in got if r["order_id"] == "O_a")
    assert late["created_at"] == dt.datetime(2024, 3, 10, 23, 59, 59, 999999, tzinfo=UTC)
    assert late["status"] == "cancelled"
    empty = next(r for r in got if r["order_id"] == "O-empty")
    assert empty["user_id"] == "U3" and empty["product_id"] is None and empty["quantity"] is None
    assert empty["unit_price"] is None
    assert next(r for r in got if r["order_id"] == "o-a")["user_id"] is None
    assert [r["unit_price"] for r in got if r["order_id"] == "O-b"] == [Decimal("0.10"), Decimal("1234.56")]


def test_purchase_totals_match_a_recomputation_from_the_export(engine):
    fill(engine)
    totals = purchase_totals(engine, DAY)

    kept = [r for r in rows(export_transactions(engine, DAY))
            if r["status"] != "cancelled" and r["user_id"] is not None and r["product_id"] is not None]
    assert totals == {
        "orders": len({r["order_id"] for r in kept}),
        "order_products": len({(r["order_id"], r["product_id"]) for r in kept}),
        "units": sum(r["quantity"] for r in kept),
        "revenue": sum((r["quantity"] * r["unit_price"] for r in kept), Decimal("0.00")),
    }
    assert totals == {"orders": 2, "order_products": 4, "units": 14, "revenue": Decimal("1335.31")}
    assert purchase_totals(engine, DAY + dt.timedelta(days=30)) == {
        "orders": 0, "order_products": 0, "units": 0, "revenue": Decimal("0.00"),
    }


def test_batches_never_exceed_batch_rows(engine):
    created = at(0, 6)
    with engine.begin() as conn:
        conn.execute(orders.insert(), [
            {"order_id": f"O{i:05d}", "user_id": f"U{i % 97}", "created_at": created, "status": "paid"}
            for i in range(1500)
        ])
        conn.execute(order_items.insert(), [
            {"order_id": f"O{i:05d}", "line_no": line, "product_id": f"P{i % 13}", "quantity": 1,
             "unit_price": Decimal("9.99")}
            for i in range(1500) for line in (1, 2)
        ])
    sizes, keys = [], []
    for batch in export_transactions(engine, DAY, batch_rows=777):
        sizes.append(batch.num_rows)
        keys += list(zip(batch["order_id"].to_pylist(), batch["line_no"].to_pylist(), strict=True))
    assert max(sizes) <= 777 and sum(sizes) == 3000 and len(sizes) == 4
    assert keys == sorted(keys)
    with pytest.raises(ValueError, match="batch_rows"):
        next(export_transactions(engine, DAY, batch_rows=0))


def test_products_and_users_snapshots(engine):
    fill(engine)
    got = rows(export_products(engine, batch_rows=1))
    assert [r["product_id"] for r in got] == ["P1", "P2"]
    assert got[0]["price"] == Decimal("19.99") and got[1]["price"] is None and got[0]["year"] == 2012

    batches = list(export_users(engine, salt="pepper"))
    assert batches[0].schema == RAW_USERS.arrow_schema()
    alice, bob = rows(batches)
    assert alice["email_hash"] == hashlib.sha256(b"pepperalice.smith@example.com").hexdigest()
    assert "name" not in alice and "email" not in alice
    assert alice["signup_at"] == dt.datetime(2023, 2, 4, 10, tzinfo=UTC)
    assert bob["email_hash"] is None and bob["signup_at"] is None
    assert RAW_PRODUCTS.arrow_schema() == pa.schema(export_products(engine).__next__().schema)
    with pytest.raises(ValueError, match="salt"):
        next(export_users(engine, salt=""))


def test_missing_tables_are_named(sqlite_engine):
    with pytest.raises(SourceError, match=r"missing tables: orders, order_items"):
        next(export_transactions(sqlite_engine, DAY))
    with sqlite_engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE products (product_id TEXT, name TEXT)"))
    with pytest.raises(SourceError, match=r"missing columns: products\.gender.*products\.price"):
        next(export_products(sqlite_engine))
    with pytest.raises(SourceError, match="missing tables: orders"):
        purchase_totals(sqlite_engine, DAY)


def test_bad_urls_and_unreachable_databases_are_named():
    with pytest.raises(SourceError, match="not a SQLAlchemy URL"):
        open_engine("source.db")
    with pytest.raises(SourceError, match="no driver"):
        open_engine("nosuchdb://host/db")
    engine = open_engine("postgresql+psycopg2://someone:secret@127.0.0.1:1/store")
    with pytest.raises(SourceError, match=r"cannot connect to the source database .*127\.0\.0\.1:1/store") as err:
        next(export_transactions(engine, DAY))
    assert "secret" not in str(err.value)


def test_a_day_must_be_a_date(sqlite_engine):
    with pytest.raises(TypeError, match="datetime.date"):
        next(export_transactions(sqlite_engine, dt.datetime(2024, 3, 10)))
