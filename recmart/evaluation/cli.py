"""`recmart evaluate`: the next-interaction protocol on a session-rec TSV click log.

Train on one file and judge on another, or split one file by time (a session whose first
click is at or after `--split-time` is a test session). Prints the table and writes it as
CSV and JSON (`--out`, default `./.recmart/evaluation`, beside the other local state).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from pathlib import Path

import click

from recmart.evaluation.clicklog import ClickLogError, read_clicks, sessions_of, split_by_time
from recmart.evaluation.protocol import Result, evaluate
from recmart.evaluation.recommenders import as_events, build_sources, recommenders, snapshot_items
from recmart.recsources.tables import sessions_from_clicks

_COLUMNS = [("recommender", "recommender", "{}"), ("scope", "scope", "{}"), ("positions", "positions", "{}"),
            ("HR@10", "hr_at_10", "{:.4f}"), ("HR@20", "hr_at_20", "{:.4f}"), ("MRR@20", "mrr_at_20", "{:.4f}"),
            ("NDCG@20", "ndcg_at_20", "{:.4f}"), ("coverage", "coverage", "{:.4f}"),
            ("pop. bias", "popularity_bias", "{:.4f}")]


def format_table(results: list[Result]) -> str:
    rows = [[fmt.format(getattr(r, attr)) for _, attr, fmt in _COLUMNS] for r in results]
    heads = [h for h, _, _ in _COLUMNS]
    widths = [max(len(h), *(len(row[k]) for row in rows)) if rows else len(h) for k, h in enumerate(heads)]
    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if k < 2 else c.rjust(w) for k, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(heads), line(["-" * w for w in widths]), *map(line, rows)])


def _parse_split(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither epoch seconds nor an ISO-8601 time",
                                 param_hint="--split-time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.timestamp()


def _events(clicks) -> dict[str, list]:
    return {s: as_events(s, [c.item for c in cs], [c.time for c in cs]) for s, cs in sessions_of(clicks).items()}


def judge(train_clicks, test_clicks):
    """The table for these clicks: the snapshot built from training, every test click replayed
    through the real-time scorer; a test session with training clicks starts from them."""
    train, test = _events(train_clicks), _events(test_clicks)
    tables, popular = build_sources(sessions_from_clicks((c.session, c.item, c.time) for c in train_clicks))
    prior = {s: train[s] for s in test if s in train}
    return evaluate(train, test, recommenders(snapshot_items(tables), {}, popular), prior=prior)


@click.command("evaluate")
@click.option("--train", "train_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="training clicks (TSV: SessionId, ItemId, Time), or the whole log with --split-time")
@click.option("--test", "test_path", type=click.Path(exists=True, dir_okay=False), help="test clicks (same format)")
@click.option("--split-time", help="with --train alone: sessions starting at or after this time are the test"
                                   " (epoch seconds or ISO-8601, UTC when no zone)")
@click.option("--out", "out_dir", default=".recmart/evaluation", show_default=True, type=click.Path(file_okay=False),
              help="folder for results.csv and results.json")
def evaluate_command(train_path: str, test_path: str | None, split_time: str | None, out_dir: str) -> None:
    """Judge popularity, each candidate source and the served blend on the next click of every test session."""
    if (test_path is None) == (split_time is None):
        raise click.UsageError("give either --test or --split-time (not both)")
    try:
        if test_path is not None:
            train_clicks, test_clicks = read_clicks(train_path), read_clicks(test_path)
        elif split_time is not None:
            train_clicks, test_clicks = split_by_time(read_clicks(train_path), _parse_split(split_time))
        else:  # refused above: neither --test nor --split-time
            raise click.UsageError("give either --test or --split-time (not both)")
    except ClickLogError as exc:
        raise click.ClickException(str(exc)) from None
    if not train_clicks:
        raise click.ClickException("no training clicks: nothing to learn from (check --train / --split-time)")
    if not test_clicks:
        raise click.ClickException("no test clicks: nothing to judge (check --test / --split-time)")
    started = time.perf_counter()
    results = judge(train_clicks, test_clicks)
    seconds = time.perf_counter() - started

    click.echo(f"train: {len(train_clicks):,} clicks, {len({c.session for c in train_clicks}):,} sessions; "
               f"test: {len(test_clicks):,} clicks, {len({c.session for c in test_clicks}):,} sessions")
    click.echo(format_table(results))
    click.echo(f"batch tables and judging through the real-time scorer: {seconds:.2f} s")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fields = [attr for _, attr, _ in _COLUMNS]
    with (out / "results.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(r.as_dict() for r in results)
    (out / "results.json").write_text(json.dumps([r.as_dict() for r in results], indent=2) + "\n", encoding="utf-8")
    click.echo(f"wrote {out / 'results.csv'} and {out / 'results.json'}")
