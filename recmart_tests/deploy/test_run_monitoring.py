"""Run monitoring in both Dagster instances: a run whose process was killed with `kill -9`
(nothing left to report its end) does not stay STARTED forever, it is marked failed.

The default run launcher (both instances use it) cannot check a run worker's health, so the
runtime bound is what ends such a run. The end-to-end test kills a real run and runs the
monitoring daemon's own iteration on an instance made from the unchanged dagster.yaml; the
one thing it does not wait for is the hour of the bound: Dagster's `freeze_time` moves the
daemon's clock past it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest
import yaml

from recmart_tests.deploy.tf import REPO

LOCAL_YAML = REPO / "dagster.yaml"
DEPLOY_YAML = REPO / "deploy" / "dagster" / "dagster.yaml"


@pytest.mark.parametrize("path, max_runtime, start_timeout", [(LOCAL_YAML, 3600, 180), (DEPLOY_YAML, 43200, 600)])
def test_run_monitoring_is_on_with_a_runtime_bound(path, max_runtime, start_timeout):
    monitoring = yaml.safe_load(path.read_text(encoding="utf-8"))["run_monitoring"]
    assert monitoring["enabled"] is True
    assert monitoring["max_runtime_seconds"] == max_runtime
    assert monitoring["start_timeout_seconds"] == start_timeout
    assert monitoring["max_resume_run_attempts"] == 0, "the default run launcher cannot resume a run"


def test_the_local_instance_runs_the_monitoring_daemon(tmp_path):
    import dagster as dg

    shutil.copy(LOCAL_YAML, tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_max_runtime_seconds == 3600
        assert instance.run_monitoring_poll_interval_seconds == 60
        assert "MONITORING" in instance.get_required_daemon_types()


_RUN = textwrap.dedent("""
    import time
    import dagster as dg

    @dg.op
    def wait(context):
        print(context.run_id, flush=True)
        time.sleep(120)

    @dg.job
    def waits():
        wait()

    waits.execute_in_process(instance=dg.DagsterInstance.get())
""")


def test_a_run_killed_with_sigkill_is_marked_failed(tmp_path):
    import dagster as dg

    # The daemon's iteration, the workspace it takes and freeze_time have no public API: this
    # is the one way to run the monitoring daemon itself an hour ahead, without waiting for it.
    from dagster._core.test_utils import freeze_time
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import EmptyWorkspaceTarget
    from dagster._daemon.monitoring.run_monitoring import execute_run_monitoring_iteration

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(LOCAL_YAML, home / "dagster.yaml")
    proc = subprocess.Popen([sys.executable, "-c", _RUN], env={**os.environ, "DAGSTER_HOME": str(home)},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        run_id = proc.stdout.readline().strip()
        assert run_id, "the run did not start"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    with dg.DagsterInstance.from_config(str(home)) as instance:
        started = instance.get_run_record_by_id(run_id)
        assert started.dagster_run.status == dg.DagsterRunStatus.STARTED  # nothing reported its end
        bound = instance.run_monitoring_max_runtime_seconds
        logger = logging.getLogger("run_monitoring_test")

        def monitor_at(timestamp: float) -> dg.DagsterRunStatus:
            with freeze_time(dt.datetime.fromtimestamp(timestamp, dt.timezone.utc)):
                with WorkspaceProcessContext(instance, EmptyWorkspaceTarget()) as context:
                    list(execute_run_monitoring_iteration(context, logger))
            return instance.get_run_by_id(run_id).status

        assert monitor_at(started.start_time + bound - 60) == dg.DagsterRunStatus.STARTED
        assert monitor_at(started.start_time + bound + 1) == dg.DagsterRunStatus.FAILURE
