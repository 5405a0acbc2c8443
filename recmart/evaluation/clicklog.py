"""Click logs in session-rec's TSV format: `SessionId`, `ItemId`, `Time` (epoch seconds), a header.

A session is its items in time order (ties keep the file's order, as a stable sort by
session and time does in session-rec). Item ids stay text: a log's ids are whatever the
exporter wrote, and nothing here needs them to be numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REQUIRED_COLUMNS = ("SessionId", "ItemId", "Time")


class ClickLogError(ValueError):
    """A click log that cannot be read: the message names the file and the line."""


@dataclass(frozen=True)
class Click:
    session: str
    item: str
    time: float


def read_clicks(path: str | Path) -> list[Click]:
    """Every click of a TSV log, in file order; a bad line stops the read with its number."""
    path = Path(path)
    clicks: list[Click] = []
    with path.open(encoding="utf-8", newline="") as f:
        header = f.readline().rstrip("\r\n")
        if not header:
            raise ClickLogError(f"{path}: line 1: empty file, expected a header with {', '.join(REQUIRED_COLUMNS)}")
        names = header.split("\t")
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            raise ClickLogError(f"{path}: line 1: header {names} lacks column(s) {', '.join(missing)}"
                                " (tab-separated SessionId, ItemId, Time)")
        width = len(names)
        s_col, i_col, t_col = (names.index(c) for c in REQUIRED_COLUMNS)
        for number, line in enumerate(f, start=2):
            line = line.rstrip("\r\n")
            if not line:
                continue  # a trailing blank line is not a click
            fields = line.split("\t")
            if len(fields) != width:
                raise ClickLogError(f"{path}: line {number}: {len(fields)} tab-separated fields, the header has {width}:"
                                    f" {line[:80]!r}")
            session, item, time = fields[s_col], fields[i_col], fields[t_col]
            if not session or not item:
                raise ClickLogError(f"{path}: line {number}: empty SessionId or ItemId: {line[:80]!r}")
            try:
                seconds = float(time)
            except ValueError:
                raise ClickLogError(f"{path}: line {number}: Time {time!r} is not epoch seconds") from None
            if seconds != seconds or seconds in (float("inf"), float("-inf")):
                raise ClickLogError(f"{path}: line {number}: Time {time!r} is not a finite number")
            clicks.append(Click(session, item, seconds))
    return clicks


def sessions_of(clicks: list[Click]) -> dict[str, list[Click]]:
    """{session: its clicks in time order}, sessions in order of their first click."""
    by_session: dict[str, list[Click]] = {}
    for c in clicks:
        by_session.setdefault(c.session, []).append(c)
    for session_clicks in by_session.values():
        session_clicks.sort(key=lambda c: c.time)  # stable: equal times keep the file's order
    return dict(sorted(by_session.items(), key=lambda kv: kv[1][0].time))


def split_by_time(clicks: list[Click], split_time: float) -> tuple[list[Click], list[Click]]:
    """(train, test): a session belongs to test when its first click is at or after `split_time`.

    Whole sessions move, as in session-rec's time split, so no test session is partly
    known to the training side.
    """
    first: dict[str, float] = {}
    for c in clicks:
        if c.time < first.get(c.session, float("inf")):
            first[c.session] = c.time
    train = [c for c in clicks if first[c.session] < split_time]
    test = [c for c in clicks if first[c.session] >= split_time]
    return train, test
