"""`recmart seed`: create a sample store (source database and landed clickstream)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

# The public catalogue, when the shared data folder sits beside the repository.
SHARED_CATALOGUE = Path("../shared/data/fashion-catalogue")


def _default_start() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=7)


def _settings():
    """RECMART_LAKE and RECMART_SOURCE_DB, from the settings `recmart` read when it started."""
    from recmart.config import command_settings

    return command_settings()


def _default_catalogue() -> str | None:
    return str(SHARED_CATALOGUE) if SHARED_CATALOGUE.is_dir() else None


def click_source(source_db: str, start: dt.datetime, end: dt.datetime, events_per_day: int, seed: int,
                 malformed_share: float = 0.0, duplicate_share: float = 0.0):
    """Clicks of the sample store in the source database, in event-time order: what `recmart stream`
    sends (`recmart.realtime.cli.stream_command`); a click.ClickException when there is no store."""
    try:
        import sqlalchemy as sa

        from recmart.sample.clickstream import simulate_clicks
        from recmart.sample.store import SampleStore

        engine = sa.create_engine(source_db)
        try:
            store = SampleStore.from_engine(engine)
        finally:
            engine.dispose()
        return simulate_clicks(store, start, end, events_per_day, seed, malformed_share=malformed_share,
                               duplicate_share=duplicate_share)
    except ImportError as exc:
        raise click.ClickException(f"the sample store is not available: {exc}") from None
    except Exception as exc:  # a missing or empty source database: say which and how to make one
        raise click.ClickException(f"cannot read the sample store from {source_db}: {exc} "
                                   "(run `recmart seed` first)") from None


@click.command("seed")
@click.option("--lake", default=lambda: _settings().lake,
              show_default="RECMART_LAKE or ./.recmart/lake",
              help="Lake root: a folder or s3://bucket/prefix. Clicks land under landing/clickstream/.")
@click.option("--source-db", default=lambda: _settings().source_db,
              show_default="RECMART_SOURCE_DB or sqlite:///./.recmart/source.db",
              help="SQLAlchemy URL of the store's database to create and fill.")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="First simulated day (UTC).  [default: 7 days before today]")
@click.option("--days", type=click.IntRange(min=1), default=7, show_default=True,
              help="Number of days to simulate.")
@click.option("--events-per-day", type=click.IntRange(min=0), default=200_000, show_default=True,
              help="Clicks per simulated day (before retried copies).")
@click.option("--users", type=click.IntRange(min=0), default=10_000, show_default=True, help="Registered users.")
@click.option("--seed", type=int, default=42, show_default=True,
              help="Random seed: the same seed gives the same store.")
@click.option("--catalogue", type=click.Path(exists=True, file_okay=False), default=_default_catalogue,
              show_default="../shared/data/fashion-catalogue when present",
              help="Folder of the public fashion catalogue in its Kaggle layout.")
@click.option("--no-catalogue", is_flag=True, help="Generate a catalogue instead of importing one.")
@click.option("--products", type=click.IntRange(min=1), default=5_000, show_default=True,
              help="Size of a generated catalogue.")
@click.option("--uncompressed", is_flag=True, help="Land plain NDJSON instead of gzip.")
@click.option("--replace", is_flag=True, help="Drop and recreate the source tables if they hold a store already.")
def seed_command(lake, source_db, start, days, events_per_day, users, seed, catalogue, no_catalogue, products,
                 uncompressed, replace):
    """Create a sample store: source tables with catalogue, users and orders, and landed clicks."""
    from recmart.sample.seed import seed_sample
    from recmart.source.database import SourceError

    first_day = start.date() if start else _default_start()
    try:
        summary = seed_sample(
            lake, source_db, first_day, days, events_per_day, users, seed,
            None if no_catalogue else catalogue,
            products=products, compress=not uncompressed, replace=replace,
        )
    except (SourceError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{summary.products} products, {summary.users} users, {summary.events} clicks; "
               f"{summary.files_written} landing files written, {summary.files_kept} already there")
    for note in summary.catalogue_notes:
        click.echo(f"catalogue: {note}")
    click.echo(f"{'day (UTC)':<12}{'landed':>10}{'malformed':>11}{'duplicates':>12}{'late':>7}{'orders':>8}")
    for day, c in sorted(summary.days.items()):
        click.echo(f"{day:<12}{c.landed_lines:>10}{c.malformed:>11}{c.duplicates:>12}{c.late:>7}{c.orders:>8}")
