"""recommendation_quality[D]: what the real-time handler would have served on day D, judged on
the next interaction (the next-interaction protocol of session-based recommender research,
`recmart.evaluation.protocol`, the one `recmart evaluate` runs).

The snapshot of D-1 is rebuilt as `recommendation_snapshot[D-1]` loads it: the session
sources and their popularity fill from the clicks of the `window_days` days ending D-1
(`recmart.recsources.snapshot.build_sources`, the loader's own function), the item
neighbours and trending of D-1, the categories of the newest catalogue up to D-1. Then every
event of D of an identified user (a sample of `max_users` users, by a hash of the id, when
the day has more) is replayed through `recmart.realtime.scoring.recommend`, the handler's
function, with the history the handler would hold (the user's earlier events of the window
first, its limits applied), and the list served right after the event is judged against the
user's next event of D. Anonymous events train the sources but are not judged: the handler
keeps no history for them.

Bounded whatever the store's size (`judge_lake_day`): the sources learn from the window's
newest `SourceSettings.max_clicks` clicks, three columns read as Arrow
(`recmart.recsources.window`), as the snapshot does; the day's users are sampled in DuckDB
(the same hash as `_sample`); and only the sampled users' events are read, of D and of the
window (their histories), filtered in Arrow. Below the bound the report is the one of every
event of the window read as rows (`judge_day`, the in-memory form, gives it on rows).

A Python step, run where the asset runs whatever the engine: the protocol is the scorer's
own Python code over a sample of users, which SQL on either engine could only re-implement.

Reading the report (per recommender and scope, one row each):
- scope `all`: every position, the list as served (never the product just viewed, so a
  repeat of it is a miss); `next_is_other`: positions whose next event is another product,
  the current product removed from every list: the fair comparison, judge on it;
- hr_at_10 / hr_at_20: share of positions whose next product is in the top 10 / 20;
  mrr_at_20: mean 1 / rank (0 beyond 20); ndcg_at_20: mean 1 / log2(rank + 1);
- coverage: distinct products in any list / products clicked in the window; popularity_bias:
  per list, the mean of each product's clicks / the most clicked product's (near 1: only
  the popular is shown);
- recommenders: `served_blend` (as served), each session source alone, `item_neighbours`
  (the scorer on the item neighbours alone: what was served before the session sources),
  `popularity` (the window's most clicked, the same list for all).
The rates are null on a day without positions (the check reports that as a failure to judge).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs

from recmart.evaluation.protocol import SCOPES, Result, evaluate
from recmart.evaluation.recommenders import recommenders, snapshot_items
from recmart.realtime.history import HistoryEvent
from recmart.realtime.loader import blend_sources, group_neighbours, group_trending, product_infos
from recmart.recsources.snapshot import SourceSettings, build_sources
from recmart.recsources.tables import Sessions, sessions_from_clicks
from recmart.recsources.window import (
    CLICK_EVENTS,
    WindowClicks,
    dataset,
    newest_clicks,
    read_window_clicks,
)
from recmart.tables import CURATED_CLEANED_EVENTS

if TYPE_CHECKING:  # the resource module imports Dagster; steps do not (recmart.recsources.window does the same)
    from recmart.resources.lake import Lake

LIST_LENGTH = 20
# The report's figures a materialisation carries per recommender and scope (`<recommender>/<scope>/<figure>`).
METRIC_FIGURES = ("positions", "hr_at_10", "hr_at_20", "mrr_at_20", "ndcg_at_20", "coverage", "popularity_bias")
# CLICK_EVENTS (views and add-to-carts, what the sources learn from): `recmart.recsources.window`.
EVENT_COLUMNS = ["event_id", "event_type", "event_time", "session_id", "user_id", "product_id"]
# What a judged user's history needs of each event.
USER_COLUMNS = ["event_id", "event_type", "event_time", "user_id", "product_id"]


@dataclass(frozen=True)
class QualitySettings:
    # Days of clicks the session sources are built from (ending the day before the judged
    # day), the same window `recommendation_snapshot` loads them from.
    window_days: int = 14
    # The day's sample (users by a hash of their id, the same users on any engine): at most
    # `max_users` users, and no more users once `max_positions` positions are reached. Only
    # their events are read (of the day, and of the window for their histories). Each
    # position is replayed through the scorer once per recommender (about 2 ms for all five
    # here), so the budget bounds the report's time; 2,000 positions state an HR@20 near 0.5
    # to about ±0.011 (one standard error), enough to see the blend beat popularity.
    max_users: int = 5000
    max_positions: int = 2000


def _micros(t) -> int:
    if isinstance(t, dt.datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.timezone.utc)
        return int(t.timestamp() * 1_000_000) if t.microsecond == 0 else (
            int(t.replace(microsecond=0).timestamp()) * 1_000_000 + t.microsecond)
    return int(t)


def source_clicks(events: Iterable[Mapping]) -> list[tuple[str, str, float]]:
    """(session, product, epoch seconds) of the clicks the session sources learn from."""
    return [(str(e["session_id"]), str(e["product_id"]), _micros(e["event_time"]) / 1_000_000)
            for e in events if e["event_type"] in CLICK_EVENTS]


def snapshot_sources(events: Iterable[Mapping], settings: SourceSettings = SourceSettings()):
    """({source: table}, popular) from cleaned events in memory, bounded as the lake's are
    (`newest_clicks`): what a snapshot loads and the report rebuilds."""
    return build_sources(sessions_from_clicks(newest_clicks(source_clicks(events), settings.max_clicks)), settings)


def window_sources(lake: Lake, days: list[str], settings: SourceSettings = SourceSettings()):
    """({source: table}, popular, WindowClicks) from the cleaned events of `days` in the lake: the
    newest `settings.max_clicks` clicks, read as Arrow (`recmart.recsources.window`).

    The last build is kept in the process, keyed by the files of the partitions it read: in a
    run of several days in one process (`recmart materialize`, the demo), the report of D+1
    judges the snapshot `recommendation_snapshot[D]` has just built, from the same files, and
    takes it instead of building it again. A partition published since (a late event) changes
    the key. One build at most is held, dropped before another is made, so the peak memory
    is one build's. Callers must not change what it returns (none does).
    """
    key = (_files_of(lake, days), tuple(days), settings)
    if _LAST_BUILD and _LAST_BUILD[0] == key:
        return _LAST_BUILD[1]
    _LAST_BUILD.clear()
    clicks = read_window_clicks(lake, days, settings.max_clicks)
    tables, popular = build_sources(clicks.sessions, settings)
    built = (tables, popular, clicks)
    _LAST_BUILD[:] = [key, built]
    return built


_LAST_BUILD: list = []  # [key, (tables, popular, clicks)(, blends)] of the last `window_sources` build


def window_blends(tables) -> dict:
    """`blend_sources(tables)` (the rows the store holds), made once per `window_sources` build
    and kept with it: the snapshot loads them and the next day's report judges them."""
    if not (_LAST_BUILD and _LAST_BUILD[1][0] is tables):
        return blend_sources(tables)
    if len(_LAST_BUILD) == 2:
        _LAST_BUILD.append(blend_sources(tables))
    return _LAST_BUILD[2]


def _files_of(lake: Lake, days: Iterable[str]) -> tuple:
    """(day, location, ((file, size, mtime_ns), ...)) of each published partition of the cleaned events of `days`."""
    fs, _ = lake.filesystem()
    found = []
    for day in sorted(set(days)):
        location = lake.partition_location(CURATED_CLEANED_EVENTS, day)
        if location is None:
            continue
        infos = fs.get_file_info(pafs.FileSelector(lake.fs_path(location), recursive=True))
        found.append((day, location, tuple(sorted((i.path, i.size, i.mtime_ns) for i in infos))))
    return tuple(found)


def _user_events(events: Iterable[Mapping]) -> dict[str, list[HistoryEvent]]:
    by_user: dict[str, list[HistoryEvent]] = {}
    for e in events:
        if e.get("user_id") is None:
            continue
        by_user.setdefault(str(e["user_id"]), []).append(
            HistoryEvent(str(e["event_id"]), str(e["event_type"]), str(e["product_id"]), _micros(e["event_time"])))
    return _sorted(by_user)


def _sorted(by_user: dict[str, list[HistoryEvent]]) -> dict[str, list[HistoryEvent]]:
    for rows in by_user.values():
        rows.sort(key=lambda h: (h.event_micros, h.event_id))  # the handler's history order
    return by_user


def _sample(users: Mapping[str, list], n: int, max_positions: int | None = None) -> set[str]:
    """Users first by a hash of their id, at most `n`, stopping once their positions (events
    but the last) reach `max_positions`: the same users for the same day, any engine."""
    picked, positions = set(), 0
    for u in sorted(users, key=lambda u: (hashlib.sha1(u.encode()).hexdigest(), u))[:n]:
        if max_positions is not None and positions >= max_positions:
            break
        picked.add(u)
        positions += len(users[u]) - 1
    return picked


@dataclass(frozen=True)
class Report:
    results: list[Result]
    users_active: int  # identified users with an event on the day
    users_judged: int  # of them, sampled and with at least two events (one position)


def _judge(test: Mapping[str, list[HistoryEvent]], users_active: int, prior: Mapping[str, list[HistoryEvent]],
           train: Sessions, tables, popular, neighbours: Iterable[Mapping], trending: Iterable[Mapping],
           products: Iterable[Mapping]) -> Report:
    items = snapshot_items(tables, group_neighbours(neighbours), product_infos(products), window_blends(tables))
    results = evaluate({s: [i for i, _ in rows] for s, rows in train.items()}, test,
                       recommenders(items, group_trending(trending), popular), cutoff=LIST_LENGTH, prior=prior)
    return Report(results, users_active, sum(1 for rows in test.values() if len(rows) > 1))


def judge_day(day_events: Iterable[Mapping], window_events: Iterable[Mapping],
              neighbours: Iterable[Mapping] = (), trending: Iterable[Mapping] = (),
              products: Iterable[Mapping] = (), settings: QualitySettings = QualitySettings(),
              sources: SourceSettings = SourceSettings()) -> Report:
    """The report of a day from its events and the snapshot of the day before, rows shaped as the lake's,
    all in memory (`judge_lake_day` reads them from the lake, bounded).

    `window_events` are the cleaned events of the `window_days` days before the day.
    """
    window_events = list(window_events)
    train = sessions_from_clicks(newest_clicks(source_clicks(window_events), sources.max_clicks))
    tables, popular = build_sources(train, sources)
    today = _user_events(day_events)
    sampled = _sample(today, settings.max_users, settings.max_positions)
    test = {u: rows for u, rows in today.items() if u in sampled}
    earlier = _user_events(window_events)
    prior = {u: earlier[u] for u in test if u in earlier}
    return _judge(test, len(today), prior, train, tables, popular, neighbours, trending, products)


def sampled_users(day, n: int, max_positions: int | None = None) -> tuple[int, list[str]]:
    """(identified users with an event in `day`, those `_sample` picks), computed by DuckDB over
    an Arrow dataset of the day's cleaned events, never holding the day in Python."""
    from recmart.engine.duckdb import connect

    if day is None:
        return 0, []
    con = connect()
    try:
        con.register("day_events", day)
        con.execute("CREATE TEMP TABLE day_users AS SELECT user_id, count(*) - 1 AS positions FROM day_events "
                    "WHERE user_id IS NOT NULL GROUP BY user_id")
        [(active,)] = con.execute("SELECT count(*) FROM day_users").fetchall()
        # sha1 of the UTF-8 bytes, as lower-case hex: the order of `_sample`'s hexdigest; a user
        # is taken while the positions of the users before it are under the budget.
        budget = max_positions if max_positions is not None else 2**62
        picked = [u for (u,) in con.execute(
            "SELECT user_id FROM (SELECT user_id, coalesce(sum(positions) OVER (ORDER BY sha1(user_id), user_id "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before FROM day_users "
            "ORDER BY sha1(user_id), user_id LIMIT ?) WHERE before < ?", [n, budget]).fetchall()]
    finally:
        con.close()
    return int(active), picked


def users_events(datasets, users: list[str]) -> dict[str, list[HistoryEvent]]:
    """{user: events in the handler's history order} of `users` only, from Arrow datasets of cleaned
    events (None entries skipped), filtered in Arrow a record batch at a time."""
    by_user: dict[str, list[HistoryEvent]] = {}
    if not users:
        return by_user
    wanted = pc.field("user_id").isin(pa.array(users, pa.string()))
    for ds in datasets:
        if ds is None:
            continue
        for batch in ds.to_batches(columns=USER_COLUMNS, filter=wanted):
            micros = batch.column("event_time").cast(pa.int64()).to_pylist()
            for eid, kind, user, pid, t in zip(batch.column("event_id").to_pylist(),
                                               batch.column("event_type").to_pylist(),
                                               batch.column("user_id").to_pylist(),
                                               batch.column("product_id").to_pylist(), micros, strict=True):
                by_user.setdefault(user, []).append(HistoryEvent(eid, kind, pid, t))
    return _sorted(by_user)


def judge_lake_day(lake: Lake, day: str, window: list[str], neighbours: Iterable[Mapping] = (),
                   trending: Iterable[Mapping] = (), products: Iterable[Mapping] = (),
                   settings: QualitySettings = QualitySettings(),
                   sources: SourceSettings = SourceSettings()) -> tuple[Report, WindowClicks]:
    """`judge_day` on the lake's cleaned events of `day` and of the `window` days before it (oldest
    first), bounded whatever the store's size: the sources from the window's newest
    `sources.max_clicks` clicks; the day's users sampled in DuckDB; only the sampled users'
    events read, of the day and of the window (their histories). The same report as
    `judge_day` on the same events."""
    # The window's days fed newest first, as recommendation_snapshot feeds them: the order of
    # the sessions is the order sums are added in, so this is the build it loaded, to the bit
    # (and, in a multi-day run, that very build: `window_sources` keeps the last one).
    tables, popular, clicks = window_sources(lake, sorted(window, reverse=True), sources)
    day_ds = dataset(lake, CURATED_CLEANED_EVENTS, day)
    active, sampled = sampled_users(day_ds, settings.max_users, settings.max_positions)
    test = users_events([day_ds], sampled)
    earlier = users_events([dataset(lake, CURATED_CLEANED_EVENTS, k) for k in window], list(test))
    prior = {u: earlier[u] for u in test if u in earlier}
    report = _judge(test, active, prior, clicks.sessions, tables, popular, neighbours, trending, products)
    return report, clicks


def report_rows(report: Report) -> list[dict]:
    """The lake rows: one per recommender and scope; rates null without a position."""
    rows = []
    for r in report.results:
        judged = r.positions > 0
        rows.append({
            "recommender": r.recommender, "scope": r.scope, "positions": r.positions,
            "users_active": report.users_active, "users_judged": report.users_judged,
            **{k: getattr(r, k) if judged else None
               for k in ("hr_at_10", "hr_at_20", "mrr_at_20", "ndcg_at_20", "coverage", "popularity_bias")},
        })
    return rows


def figures(rows: list[dict]) -> dict[str, float]:
    """`<recommender>/<scope>/<figure>` as plain numbers (the UI plots them); a null rate is left out."""
    return {f"{r['recommender']}/{r['scope']}/{k}": r[k] for r in rows for k in METRIC_FIGURES if r[k] is not None}


assert SCOPES == ("all", "next_is_other")  # the table's scope values
