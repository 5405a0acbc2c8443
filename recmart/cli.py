"""The `recmart` command: sample data, running days, SQL over the lake, the demo, the stream."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import click

from recmart.config import LOCAL_STATE, SettingError, command_settings, get_settings


def _stream_command() -> click.Command:
    """`recmart stream`: the real-time path (recmart.realtime) fed the sample store's clicks
    (recmart.sample), composed here so that neither package imports the other."""
    from recmart.realtime.cli import stream_command
    from recmart.sample.cli import click_source

    return stream_command(click_source)


# Commands that live with their domain, loaded on first use so `recmart --help` stays fast:
# (module, attribute) of the command, or a function that makes it from more than one domain.
_DOMAIN_COMMANDS: dict[str, tuple[str, str] | Callable[[], click.Command]] = {
    "seed": ("recmart.sample.cli", "seed_command"),
    "stream": _stream_command,
    "recs": ("recmart.web.cli", "recs"),
    "serve": ("recmart.web.cli", "serve"),
    "feature-groups": ("recmart.feature_groups.cli", "feature_groups"),
    "evaluate": ("recmart.evaluation.cli", "evaluate_command"),
}


class _Commands(click.Group):
    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(_DOMAIN_COMMANDS))

    def get_command(self, ctx, name):
        if name in _DOMAIN_COMMANDS:
            target = _DOMAIN_COMMANDS[name]
            if callable(target):
                return target()
            module, attr = target
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


@click.group(cls=_Commands)
@click.pass_context
def main(ctx: click.Context) -> None:
    """recmart: a recommendation data mart for an online clothing store."""
    try:
        # The command's one read of the settings: the code location, when a command loads it
        # (`recmart materialize`, `recmart demo`), gets this same object from get_settings.
        ctx.obj = get_settings()
    except SettingError as exc:
        raise click.UsageError(str(exc)) from None


@main.command()
@click.argument("query")
@click.option("--max-rows", default=40, show_default=True)
def sql(query: str, max_rows: int) -> None:
    """Run SQL (DuckDB) over the lake; every table is a view named <layer>_<table>."""
    from recmart.engine.lake_views import duckdb_connection

    con = duckdb_connection(str(Path(command_settings().lake).absolute()))
    try:
        con.sql(query).show(max_rows=max_rows, max_width=200)
    except Exception as exc:  # duckdb's errors name the table or column that was wrong
        raise click.ClickException(str(exc)) from None


def _days(start: str, end: str) -> list[str]:
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    if last < first:
        raise click.BadParameter(f"--end {end} is before --start {start}")
    return [(first + dt.timedelta(days=k)).isoformat() for k in range((last - first).days + 1)]


def _instance():
    import dagster as dg

    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def materialize_days(days: list[str], two_phase: bool = True) -> bool:
    """Run the daily assets for each day in this process (on the Spark engine, one JVM for all).

    Raw layer first by default: every day's raw layer, and the landing of every other landed
    day that can hold their events (late arrivals after the range, early clocks before it),
    then each event day, so every event is in the raw layer when its own day is derived.
    Runs are recorded in the Dagster instance, so the UI shows them.
    """
    import dagster as dg
    from tqdm import tqdm

    from recmart.automation.backfill import backfill_phases
    from recmart.definitions import defs
    from recmart.partitions import DAILY

    instance = _instance()
    if two_phase:
        if defs.resources is None:  # recmart.definitions binds every resource
            raise RuntimeError("recmart.definitions.defs has no resources")
        with dg.build_resources({"lake": defs.resources["lake"]}) as resources:  # initialises the resource
            landed = resources.lake.landed_days()
        phases = backfill_phases(days, landed, DAILY.get_partition_keys())
    else:
        phases = [("daily_refresh", days)]
    ok = True
    for job_name, job_days in phases:
        job = defs.resolve_job_def(job_name)
        for day in tqdm(job_days, desc=job_name, unit="day"):
            result = job.execute_in_process(partition_key=day, instance=instance, raise_on_error=False)
            if not result.success:
                ok = False
                click.echo(f"{job_name} failed for {day}: see the run {result.run_id} in the UI", err=True)
    return ok


@main.command()
@click.option("--start", required=True, help="first day, YYYY-MM-DD (UTC)")
@click.option("--end", help="last day, YYYY-MM-DD (default: --start)")
@click.option("--single-pass", is_flag=True, help="daily_refresh per day instead of raw-first phases")
def materialize(start: str, end: str | None, single_pass: bool) -> None:
    """Materialise every daily asset for a range of days."""
    if not materialize_days(_days(start, end or start), two_phase=not single_pass):
        sys.exit(1)


@main.command()
@click.option("--days", default=7, show_default=True, help="days of sample data to make and materialise")
@click.option("--events-per-day", default=50_000, show_default=True)
@click.option("--users", default=2_000, show_default=True)
@click.option("--seed", "seed_value", default=7, show_default=True)
@click.option("--no-ui", is_flag=True, help="stop after materialising (do not start dagster dev)")
@click.option("--fresh", is_flag=True, help="delete the local state folder first")
def demo(days: int, events_per_day: int, users: int, seed_value: int, no_ui: bool, fresh: bool) -> None:
    """Seed a sample store, materialise its days, and start the Dagster UI on them."""
    from recmart.sample.cli import _default_catalogue
    from recmart.sample.seed import StoreNotEmpty, seed_sample

    settings = command_settings()
    if fresh and LOCAL_STATE.exists():
        shutil.rmtree(LOCAL_STATE)
    os.environ.setdefault("DAGSTER_HOME", str((LOCAL_STATE / "dagster_home").absolute()))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(Path(__file__).resolve().parent.parent / "dagster.yaml", home / "dagster.yaml")
    today = dt.datetime.now(dt.timezone.utc).date()
    start = today - dt.timedelta(days=days)
    try:
        summary = seed_sample(settings.lake, settings.source_db, start, days, events_per_day, users, seed_value,
                              _default_catalogue())
        click.echo(f"seeded {summary.products} products, {summary.users} users, {summary.events} clicks")
    except StoreNotEmpty:
        click.echo("the sample store exists already: materialising it again (--fresh starts over)")
    ok = materialize_days(_days(start.isoformat(), (today - dt.timedelta(days=1)).isoformat()))
    click.echo(f"materialised {days} days into {settings.lake}" + ("" if ok else " (some runs failed)"))
    if no_ui:
        sys.exit(0 if ok else 1)
    click.echo("starting the Dagster UI on http://127.0.0.1:3000 (Ctrl-C stops it)")
    os.execv(sys.executable, [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", "3000", "-w", "workspace.yaml"])


if __name__ == "__main__":
    main()
