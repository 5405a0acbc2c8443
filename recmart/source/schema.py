"""The source tables of the store's database (DESIGN.md, "Transactional source").

Ids are text. Timestamps carry no zone and are UTC by the store's convention; money is
NUMERIC(10,2) so that amounts stay exact decimals in PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

MONEY = sa.Numeric(10, 2, asdecimal=True)

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.Text, primary_key=True),
    sa.Column("email", sa.Text),
    sa.Column("name", sa.Text),
    sa.Column("gender", sa.Text),
    sa.Column("birth_year", sa.Integer),
    sa.Column("city", sa.Text),
    sa.Column("country", sa.Text),
    sa.Column("signup_at", sa.DateTime(timezone=False)),
)

products = sa.Table(
    "products",
    metadata,
    sa.Column("product_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("gender", sa.Text),
    sa.Column("master_category", sa.Text),
    sa.Column("sub_category", sa.Text),
    sa.Column("article_type", sa.Text),
    sa.Column("base_colour", sa.Text),
    sa.Column("season", sa.Text),
    sa.Column("year", sa.Integer),
    sa.Column("usage", sa.Text),
    sa.Column("price", MONEY),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("order_id", sa.Text, primary_key=True),
    # Null for guest checkouts.
    sa.Column("user_id", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    # The nightly export reads one day of orders by creation time.
    sa.Index("ix_orders_created_at", "created_at"),
)

order_items = sa.Table(
    "order_items",
    metadata,
    sa.Column("order_id", sa.Text, sa.ForeignKey("orders.order_id"), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("product_id", sa.Text, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price", MONEY, nullable=False),
)

SOURCE_TABLES = (users, products, orders, order_items)


def create_source_tables(engine: sa.Engine) -> None:
    """Create the tables that do not exist yet (never alters or drops one)."""
    metadata.create_all(engine, checkfirst=True)
