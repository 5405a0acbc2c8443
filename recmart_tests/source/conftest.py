"""Source databases for the export tests: a SQLite file, and PostgreSQL in a schema of its own."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from recmart.source.schema import create_source_tables


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'source.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine(postgres_url):
    """An engine whose search_path is a fresh schema, dropped afterwards, so runs never collide."""
    schema = f"recmart_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = sa.create_engine(postgres_url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request):
    """Each export test runs on SQLite and on PostgreSQL, the tables created and empty."""
    engine = request.getfixturevalue(f"{request.param}_engine")
    create_source_tables(engine)
    return engine
