"""The nightly export of the store's database to Arrow record batches.

Streaming and memory-bounded on SQLite and PostgreSQL alike: rows are read `batch_rows` at
a time through `stream_results`/`yield_per` (a server-side cursor on PostgreSQL), and each
slice becomes one record batch of the lake table's own Arrow schema. Money stays Decimal
from the database to decimal(18,2); timestamps without a zone are read as UTC.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from recmart.source.created_at import OrdersOfDay, utc_time
from recmart.source.database import SourceError, connect, require_columns
from recmart.source.schema import order_items, orders, products, users
from recmart.tables import RAW_PRODUCTS, RAW_TRANSACTIONS, RAW_USERS

DEFAULT_BATCH_ROWS = 50_000
CANCELLED = "cancelled"
# Stores spell a cancelled order's status in more than one way (`canceled` is the US spelling,
# `CANCELLED` an enum's): the export writes every status trimmed and lower-case, and each of
# these as `cancelled`, the one spelling every later step tests for.
CANCELLED_SPELLINGS = ("cancelled", "canceled")


def order_status(status: str | None) -> str | None:
    """The status as the raw layer keeps it: trimmed, lower-case, one spelling of cancelled."""
    if status is None:
        return None
    status = status.strip(" ").lower()  # spaces only: what SQL trim() removes in purchase_totals
    return CANCELLED if status in CANCELLED_SPELLINGS else status

__all__ = ["SourceError", "export_products", "export_transactions", "export_users", "purchase_totals"]


def _bytewise(column: sa.ColumnElement, dialect: str) -> sa.ColumnElement:
    """Order text by its bytes on every backend: PostgreSQL's default collation is the locale's."""
    return column.collate("C") if dialect == "postgresql" else column


def _stream(
    engine: sa.Engine,
    statement: Callable[[sa.Connection], sa.Select],
    needs: Sequence[sa.Table],
    schema: pa.Schema,
    batch_rows: int,
    convert: dict[str, Callable] | None = None,
    keep: Callable[[sa.Row], bool] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Run the statement built for the connection and yield batches of at most batch_rows rows
    (those `keep` keeps, when given)."""
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be at least 1, got {batch_rows}")
    convert = convert or {}
    with connect(engine) as conn:
        require_columns(conn, *needs)
        result = conn.execution_options(stream_results=True, yield_per=batch_rows).execute(statement(conn))
        for rows in result.partitions(batch_rows):
            if keep is not None:
                rows = [row for row in rows if keep(row)]
                if not rows:
                    continue
            columns = list(zip(*rows, strict=True))
            arrays = []
            values: Sequence[Any]  # a column of the rows, converted to a list when it is converted
            for field, values in zip(schema, columns, strict=True):
                if field.name in convert:
                    values = [convert[field.name](v) for v in values]
                arrays.append(pa.array(values, type=field.type))
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """A source timestamp as an aware UTC datetime (no zone = UTC, by the store's convention)."""
    return None if value is None else utc_time(value)


def export_transactions(
    engine: sa.Engine, day: dt.date, batch_rows: int = DEFAULT_BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """The orders created in [day, day+1) UTC with their items, one row per item.

    An order without items is one row with null item fields. Rows come ordered by
    (order_id, line_no), order ids compared byte by byte, so the export is deterministic.
    An order whose created_at cannot be read stops the export with a SourceError naming it.
    """
    of_day = OrdersOfDay(day)

    def statement(conn: sa.Connection) -> sa.Select:
        of_day.bind(conn)
        return (
            sa.select(
                orders.c.order_id, orders.c.user_id, of_day.created_at, orders.c.status,
                order_items.c.line_no, order_items.c.product_id, order_items.c.quantity,
                order_items.c.unit_price,
            )
            .select_from(orders.outerjoin(order_items, order_items.c.order_id == orders.c.order_id))
            .where(of_day.window())
            .order_by(_bytewise(orders.c.order_id, conn.dialect.name), order_items.c.line_no)
        )

    yield from _stream(
        engine, statement, (orders, order_items), RAW_TRANSACTIONS.arrow_schema(), batch_rows,
        convert={"created_at": utc_time, "status": order_status}, keep=lambda row: of_day.on_day(row.order_id, row.created_at),
    )
    of_day.refuse_noted()


def export_products(engine: sa.Engine, batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The whole catalogue, ordered by product_id."""
    columns = [products.c[name] for name in RAW_PRODUCTS.column_names]

    def statement(conn: sa.Connection) -> sa.Select:
        return sa.select(*columns).order_by(_bytewise(products.c.product_id, conn.dialect.name))

    yield from _stream(engine, statement, (products,), RAW_PRODUCTS.arrow_schema(), batch_rows)


def email_hash(email: str | None, salt: str) -> str | None:
    """sha-256 (hex) of salt + the lower-cased email: joinable across days, not reversible."""
    if email is None:
        return None
    return hashlib.sha256((salt + email.lower()).encode("utf-8")).hexdigest()


def export_users(engine: sa.Engine, salt: str, batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Every user, ordered by user_id; the email hashed with `salt`, the name left out."""
    if not salt:
        raise ValueError("export_users needs a non-empty salt: an unsalted email hash is reversible by lookup")

    def statement(conn: sa.Connection) -> sa.Select:
        return sa.select(
            users.c.user_id, users.c.email, users.c.gender, users.c.birth_year,
            users.c.city, users.c.country, users.c.signup_at,
        ).order_by(_bytewise(users.c.user_id, conn.dialect.name))

    yield from _stream(
        engine, statement, (users,), RAW_USERS.arrow_schema(), batch_rows,
        convert={"email_hash": lambda email: email_hash(email, salt), "signup_at": _as_utc},
    )


def purchase_totals(engine: sa.Engine, day: dt.date) -> dict:
    """What the interaction matrix of `day` must add up to, the sums computed by the database.

    Over the items of orders created on the day that are not cancelled and belong to a user:
    `order_products` distinct (order, product) pairs (= the sum of the matrix's purchases),
    `units` the quantities, `revenue` sum(quantity * unit_price) as an exact Decimal, and
    `orders` the distinct orders among them (an order without items leaves no trace in the
    matrix, so it is not counted). The database sums each pair; which day a pair's order
    belongs to is decided by the export's own rule (`OrdersOfDay`).
    """
    of_day = OrdersOfDay(day)
    # Whole cents as integers: SQLite keeps NUMERIC as binary floating point, so summing
    # prices there directly could drift; an integer sum is exact on every backend.
    line_cents = sa.cast(sa.func.round(order_items.c.quantity * order_items.c.unit_price * 100), sa.BigInteger)
    totals: dict[str, Any] = {"orders": set(), "order_products": 0, "units": 0, "cents": 0}
    with connect(engine) as conn:
        require_columns(conn, orders, order_items)
        of_day.bind(conn)
        pairs = conn.execute(
            sa.select(
                orders.c.order_id,
                of_day.created_at,
                sa.func.sum(order_items.c.quantity).label("units"),
                sa.func.sum(line_cents).label("cents"),
            )
            .select_from(orders.join(order_items, order_items.c.order_id == orders.c.order_id))
            .where(of_day.window(), sa.func.lower(sa.func.trim(orders.c.status)).not_in(CANCELLED_SPELLINGS),
                   orders.c.user_id.is_not(None))
            .group_by(orders.c.order_id, orders.c.created_at, order_items.c.product_id)
        )
        for order_id, created_at, units, cents in pairs:
            if of_day.on_day(order_id, created_at):
                totals["orders"].add(order_id)
                totals["order_products"] += 1
                totals["units"] += int(units)
                totals["cents"] += int(cents)
    of_day.refuse_noted()
    return {
        "orders": len(totals["orders"]),
        "order_products": totals["order_products"],
        "units": totals["units"],
        "revenue": (Decimal(totals["cents"]) / 100).quantize(Decimal("0.01")),
    }
