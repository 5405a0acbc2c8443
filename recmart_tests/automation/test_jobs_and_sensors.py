"""The schedule, the landing sensor and the late-events sensor, as Dagster would call them."""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg
import pytest

from recmart.automation.landing_cursor import LandingCursor, scan
from recmart.automation.schedules import daily_refresh_schedule
from recmart.automation.sensors import landing_files_sensor, late_events_sensor
from recmart.resources.lake import LocalLake
from recmart_tests.store_builder import write_landing


def test_schedule_runs_at_0001_utc_for_the_day_that_just_closed():
    assert daily_refresh_schedule.cron_schedule == "1 0 * * *"
    assert daily_refresh_schedule.execution_timezone == "UTC"
    ctx = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 11, 21, 0, 1, tzinfo=dt.timezone.utc))
    (request,) = daily_refresh_schedule.evaluate_tick(ctx).run_requests
    assert request.partition_key == "2026-11-20"
    assert daily_refresh_schedule.job_name == "daily_refresh"


def _tick(lake, cursor=None):
    ctx = dg.build_sensor_context(cursor=cursor, resources={"lake": lake})
    result = landing_files_sensor(ctx)
    return result.run_requests, result.cursor


def test_landing_sensor_first_tick_records_a_baseline_then_sees_every_new_file(tmp_path):
    lake = LocalLake(root=str(tmp_path))
    write_landing(tmp_path, "2026-11-20T10:00:00", "a.gz", ["{}"])
    requests, cursor = _tick(lake)
    assert requests == []
    # Two files landing in the same second, and one more: a strict "newer than" would miss some.
    write_landing(tmp_path, "2026-11-20T10:05:00", "b.gz", ["{}"])
    write_landing(tmp_path, "2026-11-20T10:05:00", "c.gz", ["{}"])
    same = tmp_path / "landing/clickstream/2026/11/20/10"
    mtime = os.stat(same / "recmart-clicks-1-2026-11-20-10-00-00-a.gz").st_mtime_ns
    for f in same.iterdir():
        os.utime(f, ns=(mtime, mtime))
    requests, cursor = _tick(lake, cursor)
    assert [r.partition_key for r in requests] == ["2026-11-20"]
    assert _tick(lake, cursor)[0] == []  # nothing new, nothing requested


def test_files_of_a_day_that_is_not_a_partition_yet_are_requested_once_it_is(tmp_path, monkeypatch):
    import recmart.automation.sensors as sensors

    lake = LocalLake(root=str(tmp_path))
    write_landing(tmp_path, "2026-11-20T10:00:00", "a.gz", ["{}"])
    _, cursor = _tick(lake)
    # Today (11-21) is still open: its files cannot start a run yet, and must not count as seen.
    monkeypatch.setattr(sensors, "DAILY", dg.DailyPartitionsDefinition("2026-11-01", end_date="2026-11-21"))
    write_landing(tmp_path, "2026-11-21T09:00:00", "b.gz", ["{}"])
    requests, cursor = _tick(lake, cursor)
    assert requests == [] and "2026-11-21" not in LandingCursor.parse(cursor).files
    assert _tick(lake, cursor)[0] == []
    # The day closes: the next tick requests it.
    monkeypatch.setattr(sensors, "DAILY", dg.DailyPartitionsDefinition("2026-11-01", end_date="2026-11-22"))
    requests, cursor = _tick(lake, cursor)
    assert [r.partition_key for r in requests] == ["2026-11-21"]
    assert _tick(lake, cursor)[0] == []


def test_landing_sensor_notices_a_new_day_an_old_unseen_day_and_a_removed_file(tmp_path):
    lake = LocalLake(root=str(tmp_path))
    write_landing(tmp_path, "2026-11-19T10:00:00", "a.gz", ["{}"])
    write_landing(tmp_path, "2026-11-20T10:00:00", "b.gz", ["{}"])
    _, cursor = _tick(lake)
    write_landing(tmp_path, "2026-11-21T00:01:00", "c.gz", ["{}"])
    write_landing(tmp_path, "2026-11-02T00:01:00", "restored.gz", ["{}"])  # a day never seen before
    requests, cursor = _tick(lake, cursor)
    assert sorted(r.partition_key for r in requests) == ["2026-11-02", "2026-11-21"]
    (tmp_path / "landing/clickstream/2026/11/21/00/recmart-clicks-1-2026-11-21-00-01-00-c.gz").unlink()
    requests, cursor = _tick(lake, cursor)
    assert [r.partition_key for r in requests] == ["2026-11-21"]
    assert len({r.run_key for r in requests}) == len(requests)


def test_landing_cursor_round_trips_and_forgets_settled_days(tmp_path):
    lake = LocalLake(root=str(tmp_path))
    # The window is the newest day and MAX_LATE_DAYS (7) days before it: 11-12 is settled.
    for day in ("2026-11-12", "2026-11-13", "2026-11-20"):
        write_landing(tmp_path, f"{day}T10:00:00", "x.gz", ["{}"])
    _, cursor = scan(lake, None)
    again = LandingCursor.parse(cursor.serialize())
    assert again == cursor
    assert sorted(cursor.files) == ["2026-11-13", "2026-11-20"] and cursor.settled_days == ["2026-11-12"]


def _materialize_raw(instance, day, event_dates, asset="raw_clickstream"):
    # A runless materialisation: the sensors read only the asset's records, not the run behind them.
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset, partition=day, metadata={"event_dates": event_dates})
    )


def test_late_events_sensor_requests_every_event_day_the_landed_records_touch():
    instance = dg.DagsterInstance.ephemeral()
    _materialize_raw(instance, "2026-11-21", ["2026-11-19", "2026-11-20", "2026-11-21"])
    ctx = dg.build_sensor_context(instance=instance)
    result = late_events_sensor(ctx)
    assert [r.partition_key for r in result.run_requests] == ["2026-11-19", "2026-11-20", "2026-11-21"]
    # The next tick starts after what it has seen: nothing again.
    assert late_events_sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor)).run_requests == []
    # daily_refresh derives its own day itself (cleaned_events[D] after raw[D]): only the late days.
    _materialize_raw(instance, "2026-11-22", ["2026-11-21", "2026-11-22"])
    _materialize_raw(instance, "2026-11-22", [], asset="curated_cleaned_events")
    later = late_events_sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor))
    assert [r.partition_key for r in later.run_requests] == ["2026-11-21"]
    # A day derived again after its landing (recmart materialize, a backfill) is not requested twice.
    _materialize_raw(instance, "2026-11-21", ["2026-11-21"], asset="curated_cleaned_events")
    assert late_events_sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor)).run_requests == []


@pytest.mark.parametrize("job", ["daily_refresh", "ingest_clickstream", "refresh_event_day", "land_raw"])
def test_jobs_cover_their_layers(job):
    from recmart.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_job_def(job).asset_layer.executable_asset_keys}
    assert ("raw_clickstream" in keys) == (job in ("daily_refresh", "ingest_clickstream", "land_raw"))
    assert ("curated_interaction_matrix" in keys) == (job in ("daily_refresh", "refresh_event_day"))
    assert ("raw_transactions" in keys) == (job in ("daily_refresh", "land_raw"))
