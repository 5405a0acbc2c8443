"""Opening the source database and failing with a message that names the problem."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


class SourceError(RuntimeError):
    """The source database cannot be used: bad URL, unreachable, or tables/columns missing."""


def safe_url(engine_or_url: sa.Engine | str | sa.URL) -> str:
    """The URL with its password hidden, for messages."""
    url = engine_or_url.url if isinstance(engine_or_url, sa.Engine) else engine_or_url
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:  # a URL too broken to parse is shown as given
        return str(url)


def open_engine(url: str, **kwargs) -> sa.Engine:
    """An engine for `url`, or a SourceError saying why the URL is unusable."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise SourceError(f"source database URL {url!r} is not a SQLAlchemy URL: {exc}") from None
    try:
        return sa.create_engine(parsed, **kwargs)
    except (sa.exc.NoSuchModuleError, ImportError) as exc:
        raise SourceError(
            f"source database URL {safe_url(parsed)!r}: no driver for {parsed.drivername!r} ({exc})"
        ) from None


@contextmanager
def connect(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection, or a SourceError naming the database that could not be reached."""
    try:
        conn = engine.connect()
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise SourceError(f"cannot connect to the source database {safe_url(engine)!r}: {reason}") from None
    with conn:
        yield conn


def require_columns(conn: sa.Connection, *tables: sa.Table) -> None:
    """Fail with a SourceError listing every missing table or column the query needs."""
    inspector = sa.inspect(conn)
    missing_tables, missing_columns = [], []
    for table in tables:
        if not inspector.has_table(table.name, schema=table.schema):
            missing_tables.append(table.name)
            continue
        present = {c["name"].lower() for c in inspector.get_columns(table.name, schema=table.schema)}
        missing_columns += [f"{table.name}.{c.name}" for c in table.columns if c.name.lower() not in present]
    problems = []
    if missing_tables:
        problems.append(f"missing tables: {', '.join(missing_tables)}")
    if missing_columns:
        problems.append(f"missing columns: {', '.join(missing_columns)}")
    if problems:
        raise SourceError(
            f"source database {safe_url(conn.engine)!r} does not have the store's schema ({'; '.join(problems)}). "
            "Point RECMART_SOURCE_DB at the store's database, or create a sample store with `recmart seed`."
        )
