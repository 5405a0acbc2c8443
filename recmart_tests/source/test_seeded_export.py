"""A seeded sample store exported day by day, on SQLite and PostgreSQL: totals agree exactly."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from recmart.sample.seed import seed_sample
from recmart.source.export import (
    export_products,
    export_transactions,
    export_users,
    purchase_totals,
)

START = dt.date(2024, 6, 1)


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'source.db'}"


@pytest.fixture
def postgres_schema_url(postgres_url):
    """The test database's URL with the search_path set to a fresh schema, dropped afterwards."""
    schema = f"recmart_seed_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def source_url(request):
    return request.getfixturevalue({"sqlite": "sqlite_url", "postgres": "postgres_schema_url"}[request.param])


def test_seeded_store_exports_and_reconciles(source_url, tmp_path):
    summary = seed_sample(str(tmp_path / "lake"), source_url, START, 2, 4_000, 150, 5, None,
                          products=200, progress=False)
    engine = sa.create_engine(source_url)
    try:
        for day in (START, START + dt.timedelta(days=1)):
            batches = list(export_transactions(engine, day, batch_rows=50))
            assert max(b.num_rows for b in batches) <= 50
            rows = [r for b in batches for r in b.to_pylist()]
            assert len({r["order_id"] for r in rows}) == summary.days[day.isoformat()].orders
            assert all(r["created_at"].date() == day for r in rows)
            keys = [(r["order_id"], r["line_no"] or 0) for r in rows]
            assert keys == sorted(keys)
            kept = [r for r in rows
                    if r["status"] != "cancelled" and r["user_id"] is not None and r["product_id"] is not None]
            assert purchase_totals(engine, day) == {
                "orders": len({r["order_id"] for r in kept}),
                "order_products": len({(r["order_id"], r["product_id"]) for r in kept}),
                "units": sum(r["quantity"] for r in kept),
                "revenue": sum((r["quantity"] * r["unit_price"] for r in kept), Decimal("0.00")),
            }
            assert purchase_totals(engine, day)["order_products"] > 0
        assert sum(b.num_rows for b in export_products(engine, batch_rows=64)) == summary.products
        assert sum(b.num_rows for b in export_users(engine, "salt", batch_rows=64)) == summary.users
    finally:
        engine.dispose()
