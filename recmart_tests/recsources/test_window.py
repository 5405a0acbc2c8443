"""The session sources and the quality report read from the lake bounded: only the columns they
need, as Arrow; at most `SourceSettings.max_clicks` clicks, the newest; of the events, only
the sampled users'. Below the bound the results equal those of reading every event of the
window as dicts (the path before the bound), and the assets say how many clicks were used
and whether the bound was hit."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recmart.assets.curated.marts.recommendation_quality import curated_recommendation_quality
from recmart.assets.serving.recommendation_snapshot import recommendation_snapshot
from recmart.recsources.snapshot import SourceSettings
from recmart.recsources.window import newest_clicks, read_window_clicks
from recmart.resources.lake import LocalLake
from recmart.resources.recommendation_store import RecommendationStoreResource
from recmart.steps.recommendation_quality import (
    EVENT_COLUMNS,
    QualitySettings,
    judge_day,
    judge_lake_day,
    report_rows,
    snapshot_sources,
    source_clicks,
    window_blends,
    window_sources,
)
from recmart.tables import (
    CURATED_CLEANED_EVENTS,
    CURATED_ITEM_NEIGHBOURS,
    CURATED_TRENDING_PRODUCTS,
)

DAY = dt.date(2026, 11, 20)
WINDOW = [(DAY - dt.timedelta(days=k)).isoformat() for k in range(4, 0, -1)]  # D-4 .. D-1, oldest first


def publish(lake: LocalLake, table, day: str, rows: list[dict], files: int = 1) -> None:
    staging = Path(lake.new_staging(table, day, uuid.uuid4().hex))
    staging.mkdir(parents=True, exist_ok=True)
    size = -(-len(rows) // files) if rows else 1
    for k in range(files):
        part = rows[k * size:(k + 1) * size]
        columns = {c: [r.get(c) for r in part] for c in table.column_names}
        pq.write_table(pa.Table.from_pydict(columns, schema=table.arrow_schema()), staging / f"part-{k}.parquet")
    lake.publish(table, day, str(staging))


def make_events(day: dt.date, seed: int, sessions: int = 60) -> list[dict]:
    """A day of events: users (some anonymous), views, adds and removals, clicks at equal times
    within a session now and then, times with microseconds."""
    rng = random.Random(seed)
    products = [f"P{k}" for k in range(30)]
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    rows = []
    for s in range(sessions):
        user = None if rng.random() < 0.3 else f"u{rng.randrange(25)}"
        t = start + dt.timedelta(seconds=rng.randrange(80_000), microseconds=rng.randrange(1_000_000))
        p = rng.choice(products)
        for _ in range(rng.randint(1, 7)):
            kind = rng.choices(["view", "add_to_cart", "remove_from_cart"], [0.85, 0.1, 0.05])[0]
            rows.append({"event_id": f"{day}-e{len(rows)}", "event_type": kind, "event_time": t,
                         "session_id": f"{day}-s{s}", "user_id": user, "product_id": p, "source_file": "f",
                         "arrival_time": t, "copies": 1})
            if rng.random() < 0.8:  # else the next click is at the same microsecond
                t += dt.timedelta(seconds=rng.randrange(1, 120), microseconds=rng.randrange(1000))
            p = rng.choice(products[:6]) if rng.random() < 0.5 else products[(products.index(p) + 1) % 30]
    rng.shuffle(rows)  # stored order is not time order
    return rows


@pytest.fixture
def lake(tmp_path) -> LocalLake:
    lake = LocalLake(root=str(tmp_path / "lake"))
    for k, key in enumerate(WINDOW + [DAY.isoformat()]):
        publish(lake, CURATED_CLEANED_EVENTS, key, make_events(dt.date.fromisoformat(key), k), files=3)
    # D-6 left empty, D-5 missing: both skipped
    publish(lake, CURATED_CLEANED_EVENTS, (DAY - dt.timedelta(days=6)).isoformat(), [])
    return lake


def as_dicts(lake: LocalLake, days: list[str]) -> list[dict]:
    """The path before the bound: every event of the days, all columns the step read, as dicts."""
    rows = []
    for key in days:
        part = lake.read_partition(CURATED_CLEANED_EVENTS, key, EVENT_COLUMNS)
        if part is not None:
            rows.extend(part.to_pylist())
    return rows


def test_below_the_bound_the_sources_are_those_of_every_click_as_dicts(lake):
    days = [(DAY - dt.timedelta(days=k)).isoformat() for k in range(7)]  # newest first, as the snapshot feeds them
    tables, popular, clicks = window_sources(lake, days)
    assert (tables, popular) == snapshot_sources(as_dicts(lake, days))
    assert clicks.clicks == len(source_clicks(as_dicts(lake, days))) and not clicks.bound_hit
    assert clicks.days_read == 5  # D-4 .. D: the empty D-6 and missing D-5 are no reads


def test_below_the_bound_the_report_equals_the_report_on_every_event_as_dicts(lake):
    settings = QualitySettings(max_users=9)  # fewer than the day's users: the sample taken in DuckDB
    report, clicks = judge_lake_day(lake, DAY.isoformat(), WINDOW, settings=settings)
    before = judge_day(as_dicts(lake, [DAY.isoformat()]), as_dicts(lake, WINDOW), settings=settings)
    assert report.users_active > 9 and report.users_judged > 3
    assert (report.users_active, report.users_judged) == (before.users_active, before.users_judged)
    assert report_rows(report) == report_rows(before)  # the same sums in the same order: equal to the bit
    assert not clicks.bound_hit and clicks.days_read == 4


def test_a_positions_budget_stops_the_sample_the_same_way_on_the_lake_and_in_memory(lake):
    unbounded = judge_day(as_dicts(lake, [DAY.isoformat()]), as_dicts(lake, WINDOW))
    served = next(r for r in unbounded.results if r.recommender == "served_blend" and r.scope == "all")
    budget = served.positions // 3
    settings = QualitySettings(max_positions=budget)
    report, _ = judge_lake_day(lake, DAY.isoformat(), WINDOW, settings=settings)
    before = judge_day(as_dicts(lake, [DAY.isoformat()]), as_dicts(lake, WINDOW), settings=settings)
    assert report_rows(report) == report_rows(before)
    judged = next(r for r in report.results if r.recommender == "served_blend" and r.scope == "all")
    # Users are taken until the budget is reached: at least the budget, fewer than all users.
    assert budget <= judged.positions < served.positions
    assert report.users_judged < unbounded.users_judged


def test_a_bound_keeps_only_the_newest_clicks_and_skips_older_days(lake):
    every = source_clicks(as_dicts(lake, WINDOW))
    newest_day = [c for c in source_clicks(as_dicts(lake, WINDOW[-1:]))]
    bound = len(newest_day) + 7  # the whole of D-1 and the 7 newest clicks of D-2
    clicks = read_window_clicks(lake, WINDOW, bound)
    assert (clicks.clicks, clicks.bound, clicks.bound_hit, clicks.days_read) == (bound, bound, True, 2)
    used = sorted(t for rows in clicks.sessions.values() for _, t in rows)
    assert used == sorted(t for _, _, t in every)[-bound:]
    assert clicks.oldest_used == used[0]
    # the same clicks, grouped the same way, as the in-memory bound gives
    assert clicks.sessions == snapshot_sessions(newest_clicks(every, bound))
    # exactly one day's clicks: the bound is hit (older days hold clicks), D-2 is not read
    exact = read_window_clicks(lake, WINDOW, len(newest_day))
    assert (exact.bound_hit, exact.days_read, exact.clicks) == (True, 1, len(newest_day))
    assert not read_window_clicks(lake, WINDOW, len(every)).bound_hit


def test_the_bound_cuts_ties_the_same_way_on_the_lake_and_in_memory(tmp_path):
    lake = LocalLake(root=str(tmp_path / "lake"))
    t = dt.datetime(2026, 11, 19, 12, tzinfo=dt.timezone.utc)
    rows = [{"event_id": f"e{k}", "event_type": "view", "event_time": t + dt.timedelta(seconds=k // 3),
             "session_id": f"s{k % 2}", "user_id": None, "product_id": f"P{k}", "source_file": "f",
             "arrival_time": t, "copies": 1} for k in range(9)]  # three clicks at each of 3 seconds
    publish(lake, CURATED_CLEANED_EVENTS, "2026-11-19", rows, files=2)
    every = source_clicks(as_dicts(lake, ["2026-11-19"]))
    for bound in range(1, 10):
        got = read_window_clicks(lake, ["2026-11-19"], bound)
        assert got.sessions == snapshot_sessions(newest_clicks(every, bound)), bound
        assert got.clicks == bound and got.bound_hit == (bound < 9)
    # the newest second's three clicks, then the first two (in stored order) of the second before
    kept = read_window_clicks(lake, ["2026-11-19"], 5).sessions
    assert sorted(p for rows in kept.values() for p, _ in rows) == ["P3", "P4", "P6", "P7", "P8"]


def snapshot_sessions(clicks):
    from recmart.recsources.tables import sessions_from_clicks
    return sessions_from_clicks(clicks)


def test_the_assets_say_how_many_clicks_were_used_and_whether_the_bound_was_hit(lake, tmp_path):
    key = DAY.isoformat()
    day_before = WINDOW[-1]
    publish(lake, CURATED_ITEM_NEIGHBOURS, day_before, [{"product_id": "P0", "neighbour_id": "P1", "rank": 1, "score": 1.0,
                                                 "co_users": 1}])
    publish(lake, CURATED_TRENDING_PRODUCTS, day_before, [{"scope": "all", "product_id": "P0", "rank": 1, "trend_score": 1.0,
                                                   "weighted_interactions": 1.0, "baseline": 1.0}])
    window_clicks = len(source_clicks(as_dicts(lake, WINDOW)))

    def quality(**config) -> dict:
        result = dg.materialize([curated_recommendation_quality], partition_key=key, resources={"lake": lake},
                                run_config={"ops": {"curated_recommendation_quality": {"config": config}}})
        assert result.success
        return {k: v.value for k, v in result.asset_materializations_for_node("curated_recommendation_quality")[0]
                .metadata.items()}

    full, bounded = quality(), quality(max_source_clicks=10)
    assert (full["source_clicks"], full["source_bound_hit"]) == (window_clicks, False)
    assert full["source_clicks_bound"] == SourceSettings().max_clicks == 2_000_000
    assert (bounded["source_clicks"], bounded["source_clicks_bound"], bounded["source_bound_hit"],
            bounded["source_days_read"]) == (10, 10, True, 1)
    assert bounded["users_judged"] == full["users_judged"]  # the users judged do not depend on the bound

    def snapshot(**config) -> dict:
        result = dg.materialize([recommendation_snapshot], partition_key=day_before, resources={
            "lake": lake, "recommendation_store": RecommendationStoreResource(url=f"sqlite:///{tmp_path / 'r.db'}")},
            run_config={"ops": {"recommendation_snapshot": {"config": config}}})
        assert result.success
        return {k: v.value for k, v in result.asset_materializations_for_node("recommendation_snapshot")[0]
                .metadata.items()}

    served = snapshot()
    assert (served["source_clicks"], served["source_bound_hit"], served["source_days_read"]) == (window_clicks, False, 4)
    small = snapshot(max_source_clicks=25)
    assert (small["source_clicks"], small["source_bound_hit"], small["source_days_read"]) == (25, True, 1)
    assert small["source_rows"] < served["source_rows"]


def test_the_last_build_is_taken_again_only_while_its_partitions_are_the_same_files(lake, monkeypatch):
    import recmart.steps.recommendation_quality as quality

    builds = []
    real = quality.build_sources
    monkeypatch.setattr(quality, "build_sources", lambda *a, **k: builds.append(1) or real(*a, **k))
    days = [(DAY - dt.timedelta(days=k)).isoformat() for k in range(1, 5)]
    first = window_sources(lake, days)
    assert window_sources(lake, days) is first and len(builds) == 1  # the report of D+1 after the snapshot of D
    assert window_sources(lake, days[:-1]) is not first and len(builds) == 2  # another window: built
    # A late event republishes a day of the window: the sources are built again, with it.
    late = make_events(DAY - dt.timedelta(days=2), 99, sessions=5)
    publish(lake, CURATED_CLEANED_EVENTS, days[1], make_events(DAY - dt.timedelta(days=2), 2) + late, files=3)
    again = window_sources(lake, days)
    assert len(builds) == 3 and again[2].clicks > first[2].clicks
    assert (again[0], again[1]) == snapshot_sources(as_dicts(lake, days))


def test_the_report_of_a_day_judges_the_very_build_the_snapshot_of_the_day_before_loaded(lake, monkeypatch):
    import recmart.steps.recommendation_quality as quality

    builds = []
    real = quality.build_sources
    monkeypatch.setattr(quality, "build_sources", lambda *a, **k: builds.append(1) or real(*a, **k))
    before = DAY - dt.timedelta(days=1)
    # recommendation_snapshot[D-1] feeds its window newest first; the report of D gets it oldest first.
    snapshot_days = [(before - dt.timedelta(days=k)).isoformat() for k in range(len(WINDOW))]
    loaded = window_sources(lake, snapshot_days)
    _, clicks = judge_lake_day(lake, DAY.isoformat(), sorted(snapshot_days))
    assert len(builds) == 1 and clicks is loaded[2]


def test_the_blend_is_made_once_per_build_and_never_taken_for_another(lake, monkeypatch):
    import recmart.steps.recommendation_quality as quality
    from recmart.realtime.loader import blend_sources

    blends = []
    monkeypatch.setattr(quality, "blend_sources", lambda t: blends.append(1) or blend_sources(t))
    days = [(DAY - dt.timedelta(days=k)).isoformat() for k in range(1, 5)]
    tables = window_sources(lake, days)[0]
    made = window_blends(tables)
    assert window_blends(tables) is made and len(blends) == 1  # the snapshot's, then the next report's
    assert made == blend_sources(tables)
    other = window_sources(lake, days[:-1])[0]  # another build replaces it
    assert window_blends(other) == blend_sources(other) != made and len(blends) == 2
    copied = {source: dict(table) for source, table in other.items()}  # not the build itself: made anew
    assert window_blends(copied) is not window_blends(other) and len(blends) == 3
