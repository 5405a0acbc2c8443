"""The landing sensor over several ticks: every new or changed file in any landing day folder
of the late-arrival window is landed exactly once, not only in the newest folders."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

import recmart.automation.sensors as sensors
from recmart.automation.landing_cursor import LandingCursor, recent_days
from recmart.resources.lake import LocalLake
from recmart.steps.cleaned_events import MAX_LATE_DAYS
from recmart_tests.store_builder import write_landing


@pytest.fixture
def ticks(tmp_path, monkeypatch):
    """tick() runs the sensor once as Dagster would, carrying its cursor; it returns the days requested."""
    monkeypatch.setattr(sensors, "DAILY", dg.DailyPartitionsDefinition("2026-11-01", end_date="2026-12-01"))
    lake = LocalLake(root=str(tmp_path))
    state = {"cursor": None, "run_keys": []}

    def tick() -> list[str]:
        ctx = dg.build_sensor_context(cursor=state["cursor"], resources={"lake": lake})
        result = sensors.landing_files_sensor(ctx)
        state["cursor"] = result.cursor
        state["run_keys"] += [r.run_key for r in result.run_requests]
        return sorted(r.partition_key for r in result.run_requests)

    return tick, state


def test_a_file_added_to_an_older_day_folder_is_landed_once(tmp_path, ticks):
    tick, state = ticks
    for day in range(14, 21):  # seven landing days, 11-14 .. 11-20
        write_landing(tmp_path, f"2026-11-{day}T10:00:00", "first.gz", ["{}"])
    assert tick() == []  # the baseline
    assert tick() == [] and tick() == []
    write_landing(tmp_path, "2026-11-18T23:50:00", "late-copy.gz", ["{}"])  # the third-newest folder
    assert tick() == ["2026-11-18"]
    assert tick() == []

    # A file rewritten in place (another size) in the oldest folder of the window.
    write_landing(tmp_path, "2026-11-14T10:00:00", "first.gz", ["{}", "{}"])
    assert tick() == ["2026-11-14"]
    assert tick() == []
    assert len(state["run_keys"]) == len(set(state["run_keys"])) == 2


def test_the_window_follows_the_newest_landed_day(tmp_path, ticks):
    tick, state = ticks
    newest = dt.date(2026, 11, 21)
    edge = (newest - dt.timedelta(days=MAX_LATE_DAYS)).isoformat()  # the window's first day
    older = (newest - dt.timedelta(days=MAX_LATE_DAYS + 4)).isoformat()
    for day in (older, edge, "2026-11-20"):
        write_landing(tmp_path, f"{day}T10:00:00", "a.gz", ["{}"])
    assert tick() == []
    write_landing(tmp_path, f"{newest}T00:05:00", "a.gz", ["{}"])
    assert tick() == [newest.isoformat()]
    write_landing(tmp_path, f"{edge}T11:00:00", "b.gz", ["{}"])
    assert tick() == [edge]
    # Older than the window: its folder was seen whole once and is not listed again.
    write_landing(tmp_path, f"{older}T11:00:00", "b.gz", ["{}"])
    assert tick() == []
    cursor = LandingCursor.parse(state["cursor"])
    assert sorted(cursor.files) == [edge, "2026-11-20", newest.isoformat()]
    assert cursor.settled_days == [older]


def test_recent_days_are_calendar_days_back_from_the_newest():
    days = ["2026-10-01", "2026-11-13", "2026-11-14", "2026-11-21"]
    assert recent_days(days, late_days=7) == ["2026-11-14", "2026-11-21"]
    assert recent_days(days, late_days=0) == ["2026-11-21"]
    assert recent_days([]) == []
