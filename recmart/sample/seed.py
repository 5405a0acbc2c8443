"""`seed_sample`: a whole sample store, its source database and its landed clickstream."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import sqlalchemy as sa
from tqdm import tqdm

from recmart.landing.layout import lake_filesystem
from recmart.sample.behaviour import Behaviour
from recmart.sample.catalogue import generate_catalogue
from recmart.sample.clickstream import TimeOrder, click_blocks
from recmart.sample.delivery import DUPLICATE, GOOD, MALFORMED, deliver
from recmart.sample.kaggle import load_kaggle_catalogue
from recmart.sample.landing import FirehoseWriter
from recmart.sample.render import MALFORMED_KINDS, LineRenderer
from recmart.sample.sessions import DAY_MS, ORDER_STATUSES, ClickBlock, day_start_ms
from recmart.sample.store import SampleStore
from recmart.sample.users import generate_users
from recmart.source import schema as source
from recmart.source.database import SourceError, connect, open_engine, safe_url

MALFORMED_SHARE = 0.005
DUPLICATE_SHARE = 0.003
DEFAULT_PRODUCTS = 5_000
_INSERT_ROWS = 20_000
_EPOCH = dt.date(1970, 1, 1)


class StoreNotEmpty(SourceError):
    """The source database already holds a store; seeding would mix two."""


@dataclass
class DayCounts:
    landed_lines: int = 0  # lines in the files that landed on the day (by arrival)
    malformed: int = 0
    duplicates: int = 0  # retried copies of an event that landed already
    late: int = 0  # good lines whose event day is before the landing day
    orders: int = 0  # orders created on the day (UTC)


@dataclass
class SeedSummary:
    products: int
    users: int
    events: int = 0
    files_written: int = 0
    files_kept: int = 0  # files with the same name already landed, left untouched
    days: dict[str, DayCounts] = field(default_factory=dict)
    malformed_kinds: dict[str, int] = field(default_factory=dict)
    catalogue_notes: list[str] = field(default_factory=list)

    def day(self, day_number: int) -> DayCounts:
        key = (_EPOCH + dt.timedelta(days=int(day_number))).isoformat()
        return self.days.setdefault(key, DayCounts())

    def as_dict(self) -> dict:
        return asdict(self)


def seed_sample(
    lake_root: str,
    source_db_url: str,
    start: dt.date,
    days: int,
    events_per_day: int,
    users: int,
    seed: int,
    catalogue: str | None,
    *,
    products: int = DEFAULT_PRODUCTS,
    compress: bool = True,
    malformed_share: float = MALFORMED_SHARE,
    duplicate_share: float = DUPLICATE_SHARE,
    replace: bool = False,
    progress: bool = True,
) -> SeedSummary:
    """Create the source tables and fill them (catalogue, users, orders), then land the clicks.

    `catalogue` is a Kaggle-layout folder (see `recmart.sample.kaggle`) or None for a
    generated catalogue of `products` products. The same arguments give the same rows and
    the same landing files, byte for byte. A database that already holds a store is left
    alone unless `replace` (which drops and recreates the four source tables); landing files
    that already exist are never rewritten.
    """
    _check_arguments(start, days, events_per_day, users, malformed_share, duplicate_share)
    lake_filesystem(lake_root)  # a bad lake fails before the database is touched
    if catalogue is not None:
        imported = load_kaggle_catalogue(catalogue)
        skipped = [f"skipped {n} rows: {why}" for why, n in imported.skipped.items()]
        table, notes = imported.table, [*imported.notes, *skipped]
    else:
        table, notes = generate_catalogue(products, seed), []
    engine = open_engine(source_db_url)
    _make_sqlite_folder(engine)
    _prepare_tables(engine, replace)

    with engine.begin() as conn:
        for chunk in table.to_batches(_INSERT_ROWS):
            conn.execute(source.products.insert(), chunk.to_pylist())
    with engine.begin() as conn:
        for rows in tqdm(
            generate_users(users, seed, start, chunk=_INSERT_ROWS), desc="users", unit="chunk",
            total=-(-users // _INSERT_ROWS), disable=not progress,
        ):
            conn.execute(source.users.insert(), rows)

    store = SampleStore.from_engine(engine)
    summary = SeedSummary(products=store.n_products, users=store.n_users, catalogue_notes=notes)
    _land_clicks(engine, store, lake_root, start, days, events_per_day, seed, compress,
                 malformed_share, duplicate_share, summary, progress)
    engine.dispose()
    return summary


def _check_arguments(start, days, events_per_day, users, malformed_share, duplicate_share) -> None:
    if isinstance(start, dt.datetime) or not isinstance(start, dt.date):
        raise TypeError(f"start must be a datetime.date, not {type(start).__name__}")
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if events_per_day < 0 or users < 0:
        raise ValueError("events_per_day and users cannot be negative")
    for name, share in (("malformed_share", malformed_share), ("duplicate_share", duplicate_share)):
        if not 0.0 <= share < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {share}")


def _make_sqlite_folder(engine: sa.Engine) -> None:
    """SQLite creates the file but not its folder (the default is ./.recmart/source.db)."""
    database = engine.url.database
    if engine.url.get_backend_name() == "sqlite" and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _prepare_tables(engine: sa.Engine, replace: bool) -> None:
    with connect(engine) as conn, conn.begin():
        source.metadata.create_all(conn, checkfirst=True)
        filled = [
            t.name for t in source.SOURCE_TABLES
            if conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()
        ]
        if filled and not replace:
            raise StoreNotEmpty(
                f"source database {safe_url(engine)!r} already has rows in {', '.join(filled)}: "
                "seed a fresh database, or replace the store (--replace)"
            )
        if filled:
            source.metadata.drop_all(conn)
            source.metadata.create_all(conn)


def _land_clicks(
    engine, store, lake_root, start, days, events_per_day, seed, compress,
    malformed_share, duplicate_share, summary: SeedSummary, progress: bool,
) -> None:
    behaviour, renderer = Behaviour(store, seed), LineRenderer(store)
    start_ms = day_start_ms(start)
    end_ms = start_ms + days * DAY_MS
    arrival_order = TimeOrder("arrival_ms")
    order_numbers: Counter[int] = Counter()
    malformed_kinds: Counter[int] = Counter()
    with FirehoseWriter(lake_root, seed, compress=compress) as writer, tqdm(
        total=days * events_per_day, desc="clicks", unit="ev", unit_scale=True, disable=not progress
    ) as bar:
        for watermark, block in click_blocks(behaviour, start_ms, end_ms, events_per_day, seed):
            arrival_order.push(deliver(block, renderer.render(block), end_ms, malformed_share, duplicate_share))
            _land(writer, arrival_order.release(watermark), summary, malformed_kinds)
            _save_orders(engine, store, block, order_numbers, summary)
            summary.events += len(block)
            bar.update(len(block))
        _land(writer, arrival_order.release(), summary, malformed_kinds)
    summary.files_written, summary.files_kept = writer.files_written, writer.files_kept
    summary.malformed_kinds = {MALFORMED_KINDS[k]: n for k, n in sorted(malformed_kinds.items())}


def _land(writer: FirehoseWriter, table: pa.Table | None, summary: SeedSummary, malformed_kinds: Counter) -> None:
    if table is None:
        return
    writer.write(table)
    arrival_day = table["arrival_ms"].to_numpy() // DAY_MS
    kind = table["kind"].to_numpy()
    late = (kind == GOOD) & (table["event_day"].to_numpy() < arrival_day)
    for day in np.unique(arrival_day):
        on_day = arrival_day == day
        counts = summary.day(day)
        counts.landed_lines += int(on_day.sum())
        counts.malformed += int((on_day & (kind == MALFORMED)).sum())
        counts.duplicates += int((on_day & (kind == DUPLICATE)).sum())
        counts.late += int((on_day & late).sum())
    malformed_kinds.update(table["malformed_kind"].to_numpy()[kind == MALFORMED].tolist())


def _save_orders(engine: sa.Engine, store: SampleStore, block: ClickBlock, numbers: Counter, summary) -> None:
    """The block's orders and their items; ids O-YYYYMMDD-nnnnnnn count per day of creation."""
    if not len(block.order_session):
        return
    order_rows, order_ids = [], []
    for session, created_ms, status in zip(
        block.order_session.tolist(), block.order_created_ms.tolist(), block.order_status.tolist(), strict=True
    ):
        day = created_ms // DAY_MS
        numbers[day] += 1
        summary.day(day).orders += 1
        created = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=created_ms)
        order_id = f"O-{created:%Y%m%d}-{numbers[day]:07d}"
        user = int(block.session_user[session])
        order_ids.append(order_id)
        order_rows.append({
            "order_id": order_id,
            "user_id": store.user_ids[user] if user >= 0 else None,  # a guest checkout
            "created_at": created,  # naive UTC, the store's convention
            "status": ORDER_STATUSES[status],
        })
    item_rows: list[dict] = []
    line_no: Counter[int] = Counter()
    for order, product, quantity, cents in zip(
        block.item_order.tolist(), block.item_product.tolist(),
        block.item_quantity.tolist(), block.item_unit_cents.tolist(), strict=True,
    ):
        line_no[order] += 1
        item_rows.append({
            "order_id": order_ids[order], "line_no": line_no[order],
            "product_id": store.product_ids[product], "quantity": quantity,
            "unit_price": Decimal(cents).scaleb(-2),
        })
    with engine.begin() as conn:
        conn.execute(source.orders.insert(), order_rows)
        if item_rows:
            conn.execute(source.order_items.insert(), item_rows)
