"""Alerts and run metrics (local, SNS and CloudWatch under moto) and the monitoring sensors,
called the way Dagster calls them, on an ephemeral instance."""

from __future__ import annotations

import datetime as dt
import json
import logging

import boto3
import dagster as dg
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from recmart import names
from recmart.automation.monitoring import (
    MONITORING_SENSORS,
    failed_check_alerts,
    run_failure_alerts,
    run_metrics,
    run_success_metrics,
)
from recmart.aws.monitoring import CloudWatchRunMetrics, SnsAlerts, sns_subject
from recmart.resources.alerts import Alerts, LogAlerts
from recmart.resources.metrics import LocalRunMetrics, Metric

REGION = "us-east-1"
DAY = "2026-11-20"
SENT: list[dict] = []


class RecordingAlerts(Alerts):
    """Keeps what it is asked to send (in SENT, which survives Dagster copying resources)."""

    def send(self, subject, message, severity="error", details=None):
        SENT.append({"subject": subject, "message": message, "severity": severity, "details": dict(details or {})})


@pytest.fixture(autouse=True)
def _clear_sent():
    SENT.clear()
    yield
    SENT.clear()


@pytest.fixture
def aws(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


# ---- resources -------------------------------------------------------------------------------------
def test_local_alerts_are_log_records_at_their_severity(caplog):
    with caplog.at_level(logging.INFO):
        LogAlerts().send("run of daily_refresh failed", "boom", severity="warning", details={"run_id": "r1"})
    (record,) = [r for r in caplog.records if "ALERT" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert "run of daily_refresh failed" in record.getMessage() and "run_id: r1" in record.getMessage()
    with pytest.raises(ValueError, match="severity 'loud'"):
        LogAlerts().send("x", "y", severity="loud")


def test_sns_alerts_publish_to_the_alerts_topic_found_by_name(aws):
    sns = boto3.client("sns", region_name=REGION)
    arn = sns.create_topic(Name=names.ALERTS_TOPIC)["TopicArn"]
    alerts = SnsAlerts(region_name=REGION)
    assert alerts.resolved_topic_arn() == arn
    alerts.send("run of daily_refresh for 2026-11-20 failed", "step curated_cleaned_events: boom", details={"run_id": "r1"})
    alerts.send("é" * 150, "long subject", severity="warning")

    from moto.sns.models import sns_backends

    sent = sns_backends[DEFAULT_ACCOUNT_ID][REGION].topics[arn].sent_notifications
    (_, message, subject, attributes, _), (_, _, long_subject, _, _) = sent
    assert subject == "[recmart error] run of daily_refresh for 2026-11-20 failed"
    assert message == "step curated_cleaned_events: boom\n\nrun_id: r1"
    assert attributes["severity"]["Value"] == "error"
    assert len(long_subject) == 100 and long_subject.isascii()


def test_sns_subject_is_one_printable_ascii_line_of_at_most_100_characters():
    assert sns_subject("a\nb\tc") == "a b c"
    assert len(sns_subject("x" * 300)) == 100


def test_local_metrics_are_json_lines_and_refuse_what_cloudwatch_would(tmp_path):
    metrics = LocalRunMetrics(folder=str(tmp_path / "metrics"))
    metrics.put([Metric("RowsWritten", 4, "Count", {"job": "daily_refresh", "asset": "curated_cleaned_events"})], run_id="r1")
    metrics.put([Metric("RunDuration", 1.5, "Seconds", {"job": "daily_refresh"})])
    lines = (tmp_path / "metrics" / "metrics.jsonl").read_text().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["name"] == "RowsWritten" and first["value"] == 4 and first["run_id"] == "r1"
    assert first["dimensions"] == {"job": "daily_refresh", "asset": "curated_cleaned_events"}
    assert second["unit"] == "Seconds" and "run_id" not in second
    for bad in (float("nan"), float("inf"), True, "3"):
        with pytest.raises(ValueError):
            Metric("X", bad)
    with pytest.raises(ValueError, match="unit"):
        Metric("X", 1, "Rows")


def test_cloudwatch_metrics_go_to_the_recmart_namespace_with_job_and_asset_dimensions(aws):
    at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    many = [Metric("RowsWritten", i, "Count", {"job": "daily_refresh", "asset": f"a{i % 3}"}, at) for i in range(1001)]
    CloudWatchRunMetrics(region_name=REGION).put(many + [Metric("RunDuration", 12.5, "Seconds", {"job": "daily_refresh"}, at)])

    cw = boto3.client("cloudwatch", region_name=REGION)
    listed = [m for page in cw.get_paginator("list_metrics").paginate(Namespace=names.METRICS_NAMESPACE)
              for m in page["Metrics"]]
    dims = {(m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"]))) for m in listed}
    assert ("RunDuration", (("job", "daily_refresh"),)) in dims
    assert ("RowsWritten", (("asset", "a0"), ("job", "daily_refresh"))) in dims
    stats = cw.get_metric_statistics(
        Namespace=names.METRICS_NAMESPACE, MetricName="RowsWritten",
        Dimensions=[{"Name": "asset", "Value": "a1"}, {"Name": "job", "Value": "daily_refresh"}],
        StartTime=at - dt.timedelta(minutes=5), EndTime=at + dt.timedelta(minutes=5), Period=60,
        Statistics=["Sum", "SampleCount"],
    )["Datapoints"]
    assert sum(p["SampleCount"] for p in stats) == 334  # every one of the 1001, over two calls
    assert sum(p["Sum"] for p in stats) == sum(i for i in range(1001) if i % 3 == 1)


# ---- sensors ---------------------------------------------------------------------------------------
PARTS = dg.DailyPartitionsDefinition(start_date="2026-11-01", timezone="UTC")


@dg.asset(
    partitions_def=PARTS,
    check_specs=[
        dg.AssetCheckSpec("event_id_key_unique", asset="curated_cleaned_events"),
        dg.AssetCheckSpec("not_null", asset="curated_cleaned_events"),
    ],
)
def curated_cleaned_events():
    yield dg.MaterializeResult(metadata={"dagster/row_count": 4})
    yield dg.AssetCheckResult(check_name="event_id_key_unique", passed=True)
    yield dg.AssetCheckResult(check_name="not_null", passed=False,
                              description="curated_cleaned_events: nulls in columns declared not nullable: "
                              "event_type (2 rows)", metadata={"rows": 4, "nulls/event_type": 2})


@dg.asset(partitions_def=PARTS)
def quarantine_clickstream():
    return dg.MaterializeResult(metadata={"dagster/row_count": 1})


@dg.asset(partitions_def=PARTS)
def curated_interaction_matrix():
    raise ValueError("Spark step lost its executor")


def _run(instance, *assets, ok=True):
    result = dg.materialize(list(assets), instance=instance, partition_key=DAY, raise_on_error=False)
    assert result.success is ok
    return result


def test_a_successful_run_publishes_duration_rows_quarantined_and_checks_failed(tmp_path):
    with dg.instance_for_test() as instance:
        result = _run(instance, curated_cleaned_events, quarantine_clickstream)
        metrics = LocalRunMetrics(folder=str(tmp_path))
        context = dg.build_run_status_sensor_context(
            sensor_name="run_success_metrics", dagster_instance=instance, dagster_run=result.dagster_run,
            dagster_event=result.get_run_success_event(), resources={"metrics": metrics},
        )
        run_success_metrics(context)
    found = {(m["name"], m["dimensions"].get("asset")): m for m in metrics.read()}
    job = result.dagster_run.job_name
    assert found[("RowsWritten", "curated_cleaned_events")]["value"] == 4
    assert found[("RowsWritten", "quarantine_clickstream")]["value"] == 1
    assert found[("RecordsQuarantined", None)]["value"] == 1
    assert found[("ChecksFailed", None)]["value"] == 1
    assert 0 < found[("RunDuration", None)]["value"] < 120 and found[("RunDuration", None)]["unit"] == "Seconds"
    assert all(m["dimensions"]["job"] == job and m["run_id"] == result.run_id for m in found.values())


def test_run_metrics_of_a_run_without_quarantine_say_nothing_about_quarantine():
    with dg.instance_for_test() as instance:
        result = _run(instance, quarantine_clickstream)
        assert [m.name for m in run_metrics(instance, result.dagster_run)] == [
            "RunDuration", "RowsWritten", "RecordsQuarantined", "ChecksFailed",
        ]
        other = dg.materialize([dg.asset(name="plain")(lambda: None)], instance=instance)
        names_ = [m.name for m in run_metrics(instance, other.dagster_run)]
    assert names_ == ["RunDuration", "ChecksFailed"]


def test_a_failed_run_is_alerted_with_its_partition_and_failed_step(tmp_path):
    with dg.instance_for_test() as instance:
        result = _run(instance, quarantine_clickstream, curated_interaction_matrix, ok=False)
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_alerts", dagster_instance=instance, dagster_run=result.dagster_run,
            dagster_event=result.get_run_failure_event(),
            resources={"alerts": RecordingAlerts(), "metrics": LocalRunMetrics(folder=str(tmp_path))},
        ).for_run_failure()
        run_failure_alerts(context)
    (alert,) = SENT
    assert alert["severity"] == "error"
    assert alert["subject"] == f"run of {result.dagster_run.job_name} for {DAY} failed"
    assert "curated_interaction_matrix: ValueError: Spark step lost its executor" in alert["message"]
    assert alert["details"] == {"job": result.dagster_run.job_name, "run_id": result.run_id, "partition": DAY,
                                "failed_steps": 1}
    (metric,) = LocalRunMetrics(folder=str(tmp_path)).read()
    assert metric["name"] == "RunsFailed" and metric["value"] == 1


def _tick(instance, cursor):
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"alerts": RecordingAlerts()})
    answer = failed_check_alerts(context)
    return answer, context.cursor


def test_failed_checks_are_alerted_once_from_the_event_log_after_the_cursor():
    with dg.instance_for_test() as instance:
        _run(instance, curated_cleaned_events)  # before the sensor existed: not replayed
        answer, cursor = _tick(instance, None)
        assert isinstance(answer, dg.SkipReason) and int(cursor) > 0 and SENT == []

        result = _run(instance, curated_cleaned_events)
        answer, cursor2 = _tick(instance, cursor)
        assert answer is None and int(cursor2) > int(cursor)
        (alert,) = SENT
        assert alert["subject"] == "1 asset check failed" and alert["severity"] == "error"
        assert f"curated_cleaned_events[{DAY}] check not_null (error, run {result.run_id})" in alert["message"]
        assert "event_type (2 rows)" in alert["message"]
        assert "1 of 2 check evaluations failed" in alert["message"]
        assert alert["details"] == {"failed_checks": {"curated_cleaned_events:not_null": 1},
                                    "runs": [result.run_id]}

        answer, cursor3 = _tick(instance, cursor2)  # nothing new: no second alert
        assert isinstance(answer, dg.SkipReason) and cursor3 == cursor2 and len(SENT) == 1


def test_monitoring_sensors_load_with_the_local_resources():
    from recmart.config import load_settings
    from recmart.deployments import local_resources

    resources = local_resources(load_settings({}))
    assert isinstance(resources["alerts"], LogAlerts) and isinstance(resources["metrics"], LocalRunMetrics)
    dg.Definitions(sensors=MONITORING_SENSORS, resources=resources).get_repository_def().load_all_definitions()
