"""Monitoring sensors: alerts on failed runs and failed data checks, metrics for each run.

- `run_failure_alerts`: a run failed -> an alert naming the job, the partition and the
  failed steps with their errors (and a RunsFailed metric).
- `failed_check_alerts`: reads asset check evaluations from the instance's event log after
  its cursor (a storage id) and alerts once per tick on every failed check it finds; the
  first tick only records where the log is, so deploying it does not replay old failures.
- `run_success_metrics`: a run succeeded -> its duration, the rows each asset wrote
  (`dagster/row_count` of its materialisations), the records quarantined (the
  `quarantine_clickstream` materialisations) and the checks that failed, as run metrics.

Alerts and metrics go through the `alerts` and `metrics` resources, so the same sensors
log locally and publish to SNS / CloudWatch on AWS.
"""

from collections import Counter, defaultdict

import dagster as dg

from recmart.resources.alerts import Alerts
from recmart.resources.metrics import Metric, RunMetrics
from recmart.tables import QUARANTINE_CLICKSTREAM

PARTITION_TAG = "dagster/partition"
ROW_COUNT = "dagster/row_count"
QUARANTINE_ASSET = dg.AssetKey(QUARANTINE_CLICKSTREAM.asset_key)
MAX_CHECK_EVALUATIONS_PER_TICK = 500
MAX_LISTED = 20  # failures listed in one alert; the rest are counted


def _partition(run: dg.DagsterRun):
    return run.tags.get(PARTITION_TAG)


def _run_details(run: dg.DagsterRun) -> dict:
    details = {"job": run.job_name, "run_id": run.run_id}
    if _partition(run):
        details["partition"] = _partition(run)
    return details


def _root_error(step_failure: dg.DagsterEvent) -> str:
    """The first line of the error that caused a step failure (the user's, not Dagster's wrapper)."""
    error = getattr(step_failure.event_specific_data, "error", None)
    while error is not None and error.cause is not None:
        error = error.cause
    text = (error.message if error is not None else step_failure.message or "").strip()
    return text.splitlines()[0] if text else "no error message"


# ---- failed runs -----------------------------------------------------------------------------
@dg.run_failure_sensor(
    name="run_failure_alerts",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends an alert (and a RunsFailed metric) when a run fails.",
)
def run_failure_alerts(context: dg.RunFailureSensorContext, alerts: Alerts, metrics: RunMetrics):
    run = context.dagster_run
    steps = []
    for event in context.get_step_failure_events():
        steps.append(f"{event.step_key}: {_root_error(event)}")
    partition = f" for {_partition(run)}" if _partition(run) else ""
    message = f"Run {run.run_id} of job {run.job_name}{partition} failed: {context.failure_event.message}"
    if steps:
        message += "\n\nFailed steps:\n" + "\n".join(f"- {s}" for s in steps)
    alerts.send(
        subject=f"run of {run.job_name}{partition} failed",
        message=message,
        severity="error",
        details=_run_details(run) | {"failed_steps": len(steps)},
    )
    metrics.put([Metric("RunsFailed", 1, "Count", {"job": run.job_name})], run_id=run.run_id)


# ---- failed checks ---------------------------------------------------------------------------
def _check_evaluations_after(instance: dg.DagsterInstance, storage_id: int, limit: int):
    """{storage id: event log entry} of check evaluations after `storage_id`, oldest first.

    Evaluations are indexed across runs with global storage ids in every event log storage
    (PostgreSQL, and the index shard of the run-sharded SQLite storage used locally).
    """
    return instance.event_log_storage.get_logs_for_all_runs_by_log_id(
        after_cursor=storage_id, dagster_event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=limit
    )


def _describe_failure(evaluation, run_id: str, partition) -> str:
    where = f"[{partition}]" if partition else ""
    text = f"{evaluation.asset_key.to_user_string()}{where} check {evaluation.check_name}"
    text += f" ({evaluation.severity.value.lower()}, run {run_id})"
    if evaluation.description:
        text += f": {evaluation.description}"
    return text


@dg.sensor(
    name="failed_check_alerts",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts on every failed asset check, reading check evaluations from the event log.",
)
def failed_check_alerts(context: dg.SensorEvaluationContext, alerts: Alerts):
    if context.cursor is None:
        baseline = context.instance.event_log_storage.get_maximum_record_id() or 0
        context.update_cursor(str(baseline))
        return dg.SkipReason(f"first tick: watching check evaluations after storage id {baseline}")
    after = int(context.cursor)
    records = _check_evaluations_after(context.instance, after, MAX_CHECK_EVALUATIONS_PER_TICK)
    if not records:
        return dg.SkipReason(f"no check evaluations after storage id {after}")
    failed = []
    run_partitions: dict = {}
    for entry in records.values():
        evaluation = entry.dagster_event.event_specific_data if entry.dagster_event else None
        if evaluation is None or evaluation.passed:
            continue
        partition = evaluation.partition
        if partition is None:  # a check of a partitioned asset's run: the run's partition
            if entry.run_id not in run_partitions:
                run = context.instance.get_run_by_id(entry.run_id)
                run_partitions[entry.run_id] = _partition(run) if run else None
            partition = run_partitions[entry.run_id]
        failed.append((evaluation, entry.run_id, partition))
    context.update_cursor(str(max(records)))
    if not failed:
        return dg.SkipReason(f"{len(records)} check evaluations, none failed")
    errors = [f for f in failed if f[0].severity == dg.AssetCheckSeverity.ERROR]
    by_check = Counter(f"{e.asset_key.to_user_string()}:{e.check_name}" for e, _, _ in failed)
    lines = [f"- {_describe_failure(*f)}" for f in failed[:MAX_LISTED]]
    if len(failed) > MAX_LISTED:
        lines.append(f"- ... and {len(failed) - MAX_LISTED} more")
    alerts.send(
        subject=f"{len(failed)} asset check{'s' if len(failed) != 1 else ''} failed",
        message=f"{len(failed)} of {len(records)} check evaluations failed:\n" + "\n".join(lines),
        severity="error" if errors else "warning",
        details={"failed_checks": dict(by_check), "runs": sorted({run_id for _, run_id, _ in failed})},
    )
    context.log.info(f"alerted on {len(failed)} failed checks")
    return None


# ---- metrics of successful runs --------------------------------------------------------------
def run_metrics(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[Metric]:
    """Duration, rows written per asset, records quarantined and checks failed of one run."""
    job = {"job": run.job_name}
    metrics = []
    record = instance.get_run_record_by_id(run.run_id)
    if record is not None and record.start_time and record.end_time:
        metrics.append(Metric("RunDuration", round(record.end_time - record.start_time, 3), "Seconds", job))
    rows: dict[str, int] = defaultdict(int)
    quarantined = None
    checks_failed = 0
    entries = instance.all_logs(
        run.run_id,
        of_type={dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION},
    )
    for entry in entries:
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            checks_failed += 0 if event.asset_check_evaluation_data.passed else 1
            continue
        materialization = event.step_materialization_data.materialization
        count = materialization.metadata.get(ROW_COUNT)
        if count is None:
            continue
        if not isinstance(count.value, (int, float, str)):
            raise TypeError(f"{ROW_COUNT} of {materialization.asset_key.to_user_string()} is {count.value!r}, not a number")
        rows[materialization.asset_key.to_user_string()] += int(count.value)
        if materialization.asset_key == QUARANTINE_ASSET:
            quarantined = (quarantined or 0) + int(count.value)
    for asset, n in sorted(rows.items()):
        metrics.append(Metric("RowsWritten", n, "Count", job | {"asset": asset}))
    if quarantined is not None:
        metrics.append(Metric("RecordsQuarantined", quarantined, "Count", job))
    metrics.append(Metric("ChecksFailed", checks_failed, "Count", job))
    return metrics


@dg.run_status_sensor(
    name="run_success_metrics",
    run_status=dg.DagsterRunStatus.SUCCESS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Publishes each successful run's duration, rows written, records quarantined and checks failed.",
)
def run_success_metrics(context: dg.RunStatusSensorContext, metrics: RunMetrics):
    run = context.dagster_run
    found = run_metrics(context.instance, run)
    metrics.put(found, run_id=run.run_id)
    context.log.info(f"published {len(found)} metrics of run {run.run_id}")


MONITORING_SENSORS = [run_failure_alerts, failed_check_alerts, run_success_metrics]
