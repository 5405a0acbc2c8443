"""`recmart stream`: simulate the store's click stream locally, end to end.

The command streams the clicks of a source it is given (`stream_command(click_source)`): the
`recmart` group gives it the sample store's (`recmart.sample.cli.click_source`), so that the
real-time package imports nothing of the sample store. `recmart recs` and `recmart serve`,
which read the store as the website does, are `recmart.web.cli`'s.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone

import click

from recmart.realtime.store.factory import DEFAULT_STORE_URL, STORE_ENV

__all__ = ["ClickSource", "stream_command"]

DEFAULT_LAKE = "./.recmart/lake"
DEFAULT_SOURCE_DB = "sqlite:///./.recmart/source.db"

# click_source(source_db, start, end, events_per_day, seed, malformed_share, duplicate_share):
# the clicks (dicts, or raw bytes for a malformed one) in event-time order; a
# click.ClickException says why there are none.
ClickSource = Callable[[str, datetime, datetime, int, int, float, float], Iterable]


def _parse_start(value: str | None) -> datetime:
    if not value:
        return datetime.now(timezone.utc).replace(microsecond=0)
    from recmart.realtime.timeutil import parse_iso_with_zone

    try:
        return parse_iso_with_zone(value if "T" in value or " " in value else f"{value}T00:00:00Z")
    except ValueError:
        raise click.BadParameter(f"{value!r} is not YYYY-MM-DD or an ISO-8601 time with a zone",
                                 param_hint="--start") from None


def stream_command(click_source: ClickSource) -> click.Command:
    """The `recmart stream` command, streaming the clicks of `click_source`."""

    @click.command("stream")
    @click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=20.0, show_default=True,
                  help="clicks per wall-clock second")
    @click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="wall-clock seconds to stream")
    @click.option("--events", type=click.IntRange(min=1), help="stop after this many clicks")
    @click.option("--speedup", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
                  help="simulated seconds per wall-clock second")
    @click.option("--no-pace", is_flag=True, help="do not wait between clicks: as fast as the machine goes")
    @click.option("--start", "start_text", help="simulated start, YYYY-MM-DD or ISO time (default: now, UTC)")
    @click.option("--seed", "seed_value", default=42, show_default=True,
                  help="the seed the sample store was made with keeps each user's taste")
    @click.option("--malformed-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
                  help="share of malformed clicks (they go to the dead letters)")
    @click.option("--duplicate-share", type=click.FloatRange(0, 1), default=0.0, show_default=True,
                  help="share of clicks sent twice, as a producer retry would")
    @click.option("--lake", envvar="RECMART_LAKE", default=DEFAULT_LAKE, show_default=True,
                  help="lake root for the Firehose files [env RECMART_LAKE]")
    @click.option("--source-db", envvar="RECMART_SOURCE_DB", default=DEFAULT_SOURCE_DB, show_default=True,
                  help="SQLAlchemy URL of the sample store [env RECMART_SOURCE_DB]")
    @click.option("--store", "store_url", envvar=STORE_ENV, default=DEFAULT_STORE_URL, show_default=True,
                  help=f"recommendation store [env {STORE_ENV}]")
    @click.option("--batch-size", type=click.IntRange(1, 10_000), default=100, show_default=True)
    @click.option("--batch-window", type=click.FloatRange(min=0), default=1.0, show_default=True,
                  help="wall-clock seconds a partial batch waits")
    @click.option("--buffer-seconds", type=click.FloatRange(min=60, max=900), default=300, show_default=True,
                  help="Firehose buffer interval (simulated seconds)")
    @click.option("--buffer-mb", type=click.FloatRange(min=1, max=128), default=5, show_default=True,
                  help="Firehose buffer size")
    def stream(rate, duration, events, speedup, no_pace, start_text, seed_value, malformed_share, duplicate_share,
               lake, source_db, store_url, batch_size, batch_window, buffer_seconds, buffer_mb) -> None:
        """Stream sample clicks to the real-time handler and as Firehose files to the lake.

        Runs until --duration or --events, or Ctrl-C without either.
        """
        from tqdm import tqdm

        from recmart.realtime.config import ConfigError
        from recmart.realtime.firehose import FirehoseWriter
        from recmart.realtime.handler import Handler
        from recmart.realtime.stream import EventSourceMapping, StreamStats, run_stream

        start = _parse_start(start_text)
        # Simulated density that yields `rate` clicks per wall second at `speedup`.
        events_per_day = max(1, round(rate * 86_400 / speedup))
        if duration is not None:
            end = start + timedelta(seconds=duration * speedup)
        elif events is not None:
            end = start + timedelta(seconds=max(86_400.0, 3 * events / rate * speedup))
        else:
            end = start + timedelta(days=365)
        try:
            handler = Handler.from_env({**os.environ, STORE_ENV: store_url})
        except (ConfigError, ValueError) as exc:
            raise click.UsageError(str(exc)) from None
        clicks = click_source(source_db, start, end, events_per_day, seed_value, malformed_share, duplicate_share)

        stats = StreamStats()
        mapping = EventSourceMapping(handler, stats, batch_size, window_seconds=batch_window * speedup)
        firehose = FirehoseWriter(lake, buffer_seconds=buffer_seconds, buffer_bytes=int(buffer_mb * 1024 * 1024))
        total = events if events is not None else (round(duration * rate) if duration is not None else None)
        with tqdm(total=total, unit="click", desc="stream", file=sys.stderr) as bar:
            def progress(s: StreamStats) -> None:
                bar.update(1)
                if s.events % 100 == 0:
                    bar.set_postfix(batches=s.batches, users=s.users_refreshed, files=s.files, refresh=False)

            try:
                run_stream(clicks, mapping, firehose, start, speedup=speedup, pace=not no_pace, max_events=events,
                           until=end, on_event=progress)
            except KeyboardInterrupt:
                click.echo("stopped", err=True)
        click.echo(
            f"{stats.events} clicks: {stats.batches} handler batches ({stats.retried_batches} retried), "
            f"{stats.users_refreshed} user refreshes, {stats.anonymous} anonymous, {stats.malformed} dead-lettered, "
            f"{stats.dropped} given up; {stats.files} Firehose files under {lake}/landing/clickstream "
            f"(store: {handler.config.store_url})"
        )

    return stream
