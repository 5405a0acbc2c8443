"""Spark steps through Dagster Pipes: spark-submit for real (local mode), Glue and EMR
Serverless against moto, whose job runs are made to execute the uploaded job script with the
uploaded package zip in a subprocess, the way the service's driver would.

Whatever the launcher says, a run whose driver died, failed or was stopped must never be a
success: those cases are checked on every runner."""


import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import boto3
import dagster as dg
import pytest

from recmart.aws import packaging
from recmart.aws.spark_runners import EmrServerlessSparkRunner, GlueSparkRunner, SparkSubmitRunner
from recmart.resources.spark import SparkStepRunner
from recmart_tests.aws.conftest import REGION

# A job file like recmart's: `run(spark, spec)` and a `__main__` that serves it through Pipes.
# RECMART_TEST_NO_SPARK stands in for Spark where a test only exercises the protocol.
ECHO_JOB = textwrap.dedent('''
    import os

    def run(spark, spec):
        import dagster_pipes
        import recmart

        mode = spec["params"].get("mode")
        if mode == "raise":
            raise RuntimeError("executor lost")
        if mode == "die":
            os._exit(0)  # the driver vanishes without closing Pipes, exit code 0
        metrics = {"rows": spec["params"]["n"], "recmart_from": recmart.__file__,
                   "pipes_from": dagster_pipes.__file__, "partition": spec["partition"], "step": spec["step"]}
        if isinstance(spark, dict):
            metrics["spark_conf"] = spark
        else:
            metrics["counted"] = spark.range(spec["params"]["n"]).count()
            metrics["tz"] = spark.conf.get("spark.sql.session.timeZone")
            metrics["ts_type"] = spark.conf.get("spark.sql.parquet.outputTimestampType")
        return metrics

    if __name__ == "__main__":
        from recmart.pipes_entry import main

        fake = (lambda conf: dict(conf)) if os.environ.get("RECMART_TEST_NO_SPARK") else None
        main(run, session=fake)
''')


@pytest.fixture()
def echo_job(frozen_artifacts):
    """The name of a step whose driver is the echo job (see `frozen_artifacts`)."""
    return "echo"


def run_step(runner: SparkStepRunner, step: str, params: dict) -> tuple[dict | None, str]:
    """Materialise one asset whose body is the step; (metrics, error text)."""
    captured = {}

    @dg.asset(name="step")
    def step_asset(context: dg.AssetExecutionContext, spark: SparkStepRunner) -> dg.MaterializeResult:
        captured["metrics"] = spark.run_step(
            context, step, {"partition": "2026-11-20", "inputs": {}, "outputs": {}, "params": params}
        )
        # A step that opened a Pipes session must report its asset (as recmart's assets do).
        return dg.MaterializeResult()

    result = dg.materialize([step_asset], resources={"spark": runner}, raise_on_error=False)
    if result.success:
        return captured["metrics"], ""
    return None, result.failure_data_for_node("step").error.to_string()


@pytest.fixture()
def quick_pipes(monkeypatch):
    """Dagster waits 10 s for late Pipes messages after a run ends; 1 s is plenty here.

    A private module constant: Dagster has no public setting for it. Only the tests' speed
    depends on it (each run that never closes its session would wait 10 s), and setattr
    fails if Dagster renames it."""
    monkeypatch.setattr("dagster._core.pipes.utils.WAIT_FOR_LOGS_AFTER_EXECUTION_INTERVAL", 1)


# ---- packaging -------------------------------------------------------------------------
def test_the_package_zip_is_reproducible_and_self_contained(tmp_path):
    a = packaging.build_artifacts(tmp_path / "a")
    b = packaging.build_artifacts(tmp_path / "b")
    assert a.digests == b.digests
    names = zipfile.ZipFile(a.package_zip).namelist()
    assert "recmart/pipes_entry.py" in names and "dagster_pipes/__init__.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    # One driver script for every step: the Spark entry point, as it is in the package.
    assert a.script == a.root / "jobs" / "spark_job.py"
    assert a.script.read_bytes() == Path("recmart/steps/spark_job.py").read_bytes()
    assert a.relative(a.script) in a.digests
    # Outside the venv, the zip alone provides recmart's Pipes entry and dagster_pipes.
    probe = "import recmart.pipes_entry, dagster_pipes; print(recmart.pipes_entry.__file__)"
    out = subprocess.run([sys.executable, "-S", "-c", probe], env={"PYTHONPATH": str(a.package_zip)}, cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout
    assert out.strip().startswith(str(a.package_zip))


# ---- (b) spark-submit ------------------------------------------------------------------
def test_spark_submit_runs_the_job_file_and_returns_its_metrics(echo_job, frozen_artifacts):
    runner = SparkSubmitRunner(master="local[1]", driver_memory="512m")
    metrics, error = run_step(runner, echo_job, {"n": 5})
    assert not error
    zip_path = str(frozen_artifacts.package_zip)
    assert metrics["counted"] == 5 and metrics["partition"] == "2026-11-20" and metrics["step"] == "echo"
    assert metrics["tz"] == "UTC" and metrics["ts_type"] == "TIMESTAMP_MICROS"
    # The driver imported recmart and dagster_pipes from the shipped zip, not from the venv.
    assert metrics["recmart_from"].startswith(zip_path) and metrics["pipes_from"].startswith(zip_path)


def test_spark_submit_command(echo_job, tmp_path):
    runner = SparkSubmitRunner(master="spark://127.0.0.1:7077", executor_memory="512m", total_executor_cores=2,
                               spark_conf={"spark.x": "1"})
    cmd = runner.command("echo", tmp_path / "echo_job.py", tmp_path / "recmart.zip")
    assert cmd[0].endswith("pyspark/bin/spark-submit")
    assert cmd[cmd.index("--master") + 1] == "spark://127.0.0.1:7077"
    assert cmd[cmd.index("--total-executor-cores") + 1] == "2"
    assert cmd[-3:] == ["--py-files", str(tmp_path / "recmart.zip"), str(tmp_path / "echo_job.py")]
    confs = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--conf"]
    assert f"spark.pyspark.python={sys.executable}" in confs and "spark.x=1" in confs
    assert "spark.sql.session.timeZone=UTC" in confs


@pytest.mark.parametrize(
    "mode, expected",
    [("raise", "failed with code 1"), ("die", "Pipes session never closed")],
)
def test_a_spark_submit_driver_that_fails_or_dies_is_a_failure(echo_job, quick_pipes, mode, expected):
    metrics, error = run_step(SparkSubmitRunner(master="local[1]", driver_memory="512m"), echo_job,
                              {"n": 1, "mode": mode})
    assert metrics is None
    assert "spark-submit of step echo" in error and expected in error


# ---- (c) Glue and EMR Serverless on moto ---------------------------------------------------
BUCKET = "recmart-lake"
ARTIFACTS = f"s3://{BUCKET}/artifacts"
PIPES = f"s3://{BUCKET}/tmp/pipes"
SCRIPT = f"{ARTIFACTS}/jobs/echo_job.py"


def download(s3, uri: str, folder: Path) -> Path:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    target = folder / key.rsplit("/", 1)[-1]
    s3.download_file(bucket, key, str(target))
    return target


class Driver:
    """What the service does with a job run: fetch the script and the zip from S3 and run the
    script with the zip on the path; `state` overrides the state the service then reports."""

    def __init__(self, s3, workdir: Path):
        self.s3, self.workdir = s3, workdir
        self.runs: dict[str, subprocess.CompletedProcess] = {}
        self.state: str | None = None

    def run(self, run_id: str, script_uri: str, zip_uri: str, args: list[str], env: dict[str, str]):
        folder = self.workdir / run_id
        folder.mkdir(parents=True)
        script, package = download(self.s3, script_uri, folder), download(self.s3, zip_uri, folder)
        self.runs[run_id] = subprocess.run(
            [sys.executable, str(script), *args],
            env={**os.environ, **env, "PYTHONPATH": str(package), "RECMART_TEST_NO_SPARK": "1"},
            capture_output=True, text=True, timeout=120, cwd=folder,
        )

    def succeeded(self, run_id: str) -> bool:
        return self.runs[run_id].returncode == 0


class FakeGlue:
    """moto's Glue client; starting a run also runs its driver (moto only records it)."""

    def __init__(self, real, driver: Driver):
        self.real, self.driver, self.started = real, driver, []

    def start_job_run(self, **kwargs):
        self.started.append(kwargs)
        run_id = self.real.start_job_run(**kwargs)["JobRunId"]
        job = self.real.get_job(JobName=kwargs["JobName"])["Job"]
        arguments = {**job.get("DefaultArguments", {}), **kwargs["Arguments"]}
        argv = ["--JOB_NAME", kwargs["JobName"], "--JOB_RUN_ID", run_id]
        for key, value in arguments.items():
            argv += [key, value]
        self.driver.run(run_id, job["Command"]["ScriptLocation"], arguments["--extra-py-files"], argv, {})
        return {"JobRunId": run_id}

    def get_job_run(self, **kwargs):
        response = self.real.get_job_run(**kwargs)
        run_id = kwargs["RunId"]
        state = self.driver.state or ("SUCCEEDED" if self.driver.succeeded(run_id) else "FAILED")
        response["JobRun"]["JobRunState"] = state
        if state == "FAILED":
            response["JobRun"]["ErrorMessage"] = self.driver.runs[run_id].stderr[-400:]
        return response

    def __getattr__(self, name):
        return getattr(self.real, name)


class FakeEmrServerless:
    """moto's EMR Serverless client; starting a run also runs its driver."""

    def __init__(self, real, driver: Driver):
        self.real, self.driver, self.started = real, driver, []

    def start_job_run(self, **kwargs):
        self.started.append(kwargs)
        response = self.real.start_job_run(**kwargs)
        submit = kwargs["jobDriver"]["sparkSubmit"]
        words = submit["sparkSubmitParameters"].split()
        confs = dict(words[i + 1].split("=", 1) for i, w in enumerate(words) if w == "--conf")
        prefix = "spark.emr-serverless.driverEnv."
        env = {k.removeprefix(prefix): v for k, v in confs.items() if k.startswith(prefix)}
        self.driver.run(response["jobRunId"], submit["entryPoint"], confs["spark.submit.pyFiles"], [], env)
        return response

    def get_job_run(self, **kwargs):
        response = self.real.get_job_run(**kwargs)
        run_id = kwargs["jobRunId"]
        state = self.driver.state or ("SUCCESS" if self.driver.succeeded(run_id) else "FAILED")
        response["jobRun"]["state"] = state
        response["jobRun"]["stateDetails"] = "" if state == "SUCCESS" else self.driver.runs[run_id].stderr[-400:]
        return response

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture()
def frozen_artifacts(monkeypatch, tmp_path):
    """This test's code version, fixed (the tree may be edited while the tests run), with the
    echo job as the driver script in place of recmart's one Spark entry point."""
    path = tmp_path / "jobsrc" / "echo_job.py"
    path.parent.mkdir()
    path.write_text(ECHO_JOB)
    artifacts = packaging.build_artifacts(tmp_path / "artifacts", entry=path)
    monkeypatch.setattr(packaging, "current_artifacts", lambda: artifacts)
    return artifacts


@pytest.fixture()
def remote(aws, s3, tmp_path, monkeypatch, quick_pipes, frozen_artifacts):
    """The moto bucket, the Glue job, the EMR application, and the fake drivers behind them."""
    s3.create_bucket(Bucket=BUCKET)
    glue = boto3.client("glue", region_name=REGION, endpoint_url=aws)
    glue.create_job(
        Name="recmart-echo", Role="arn:aws:iam::123456789012:role/recmart-spark", GlueVersion="5.0",
        Command={"Name": "glueetl", "ScriptLocation": SCRIPT, "PythonVersion": "3"},
        DefaultArguments={"--job-language": "python", "--extra-py-files": f"{ARTIFACTS}/recmart.zip"},
    )
    emr = boto3.client("emr-serverless", region_name=REGION, endpoint_url=aws)
    app = emr.create_application(name="recmart-spark", releaseLabel="emr-7.8.0", type="SPARK")["applicationId"]
    driver = Driver(s3, tmp_path / "driver")
    fakes = {"glue": FakeGlue(glue, driver), "emr-serverless": FakeEmrServerless(emr, driver), "s3": s3}

    def client(self, service):
        return fakes[service]

    monkeypatch.setattr(GlueSparkRunner, "_client", client)
    monkeypatch.setattr(EmrServerlessSparkRunner, "_client", client)
    common = dict(artifacts_uri=ARTIFACTS, pipes_uri=PIPES, endpoint_url=aws, poll_interval_seconds=0.2)
    return {
        "common": common, "driver": driver, "glue": fakes["glue"], "emr": fakes["emr-serverless"], "s3": s3,
        "glue_runner": GlueSparkRunner(upload_artifacts=True, **common),
        "emr_runner": EmrServerlessSparkRunner(
            application_id=app, execution_role_arn="arn:aws:iam::123456789012:role/recmart-spark-emr",
            upload_artifacts=True, **common),
    }


def keys(s3, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for p in pages for o in p.get("Contents", [])]


def test_glue_runs_the_uploaded_job_with_the_uploaded_zip(remote, echo_job, frozen_artifacts):
    metrics, error = run_step(remote["glue_runner"], echo_job, {"n": 3})
    assert not error, error
    s3 = remote["s3"]
    # The artefacts: the job file at the Glue job's ScriptLocation, the zip beside it, both
    # stamped with their SHA-256.
    assert s3.get_object(Bucket=BUCKET, Key="artifacts/jobs/echo_job.py")["Body"].read().decode() == ECHO_JOB
    zip_head = s3.head_object(Bucket=BUCKET, Key="artifacts/recmart.zip")
    assert zip_head["Metadata"]["sha256"] == frozen_artifacts.digests["recmart.zip"]
    # The call: the step's job, the zip, and the Pipes parameters as job arguments.
    (call,) = remote["glue"].started
    assert call["JobName"] == "recmart-echo"
    assert call["Arguments"]["--extra-py-files"] == f"{ARTIFACTS}/recmart.zip"
    assert {"--dagster-pipes-context", "--dagster-pipes-messages"} <= set(call["Arguments"])
    # The driver ran with the zip's recmart and dagster_pipes, and got the SQL settings.
    assert metrics["rows"] == 3 and "recmart.zip" in metrics["recmart_from"] and "recmart.zip" in metrics["pipes_from"]
    assert metrics["step"] == "echo"  # the spec names the step the one driver script runs
    assert metrics["spark_conf"]["spark.sql.session.timeZone"] == "UTC"
    # Pipes I/O stayed under the tmp prefix: the context was removed, the messages remain to expire.
    assert not keys(s3, "tmp/pipes/context/")
    assert keys(s3, "tmp/pipes/messages/")
    assert set(keys(s3, "")) == {"artifacts/jobs/echo_job.py", "artifacts/recmart.zip", *keys(s3, "tmp/pipes/")}


@pytest.mark.parametrize(
    "mode, forced_state, expected",
    [
        ("raise", None, "ended in state FAILED"),  # the job raised: Glue says FAILED
        ("ok", "STOPPED", "ended in state STOPPED"),  # stopped (killed) by an operator
        ("ok", "TIMEOUT", "ended in state TIMEOUT"),
        ("die", None, "ended in state SUCCEEDED, but its Pipes session never closed"),  # dagster#17868
    ],
)
def test_a_glue_run_that_fails_is_stopped_or_dies_is_a_failure(remote, echo_job, mode, forced_state, expected):
    remote["driver"].state = forced_state
    metrics, error = run_step(remote["glue_runner"], echo_job, {"n": 1, "mode": mode})
    assert metrics is None
    run_id = next(iter(remote["driver"].runs))
    assert f"Glue job recmart-echo run {run_id} {expected}" in error


def test_emr_serverless_runs_the_uploaded_job_with_the_uploaded_zip(remote, echo_job):
    metrics, error = run_step(remote["emr_runner"], echo_job, {"n": 4})
    assert not error, error
    (call,) = remote["emr"].started
    runner = remote["emr_runner"]
    assert call["applicationId"] == runner.application_id
    assert call["executionRoleArn"] == runner.execution_role_arn
    assert call["jobDriver"]["sparkSubmit"]["entryPoint"] == SCRIPT
    params = call["jobDriver"]["sparkSubmit"]["sparkSubmitParameters"]
    assert f"--conf spark.submit.pyFiles={ARTIFACTS}/recmart.zip" in params
    assert "spark.emr-serverless.driverEnv.DAGSTER_PIPES_CONTEXT=" in params
    assert call["name"].startswith("recmart-echo-")
    assert metrics["rows"] == 4 and "recmart.zip" in metrics["recmart_from"]


@pytest.mark.parametrize(
    "mode, forced_state, expected",
    [
        ("raise", None, "ended in state FAILED"),
        ("ok", "CANCELLED", "ended in state CANCELLED"),
        ("die", None, "ended in state SUCCESS, but its Pipes session never closed"),  # dagster#17868
    ],
)
def test_an_emr_serverless_run_that_fails_is_cancelled_or_dies_is_a_failure(
    remote, echo_job, mode, forced_state, expected
):
    remote["driver"].state = forced_state
    metrics, error = run_step(remote["emr_runner"], echo_job, {"n": 1, "mode": mode})
    assert metrics is None
    run_id = next(iter(remote["driver"].runs))
    assert f"EMR Serverless job run {run_id} of step echo {expected}" in error


def test_without_upload_rights_the_artefacts_must_already_be_this_version(remote, echo_job, frozen_artifacts):
    runner = GlueSparkRunner(upload_artifacts=False, **remote["common"])
    metrics, error = run_step(runner, echo_job, {"n": 1})
    assert metrics is None and f"{SCRIPT} is missing" in error and "recmart.aws.packaging upload" in error
    assert not remote["glue"].started

    # The release uploads them (python -m recmart.aws.packaging upload ...): then it runs.
    packaging.upload_artifacts(frozen_artifacts, ARTIFACTS, remote["s3"])
    remote["s3"].put_object(Bucket=BUCKET, Key="artifacts/jobs/echo_job.py", Body=ECHO_JOB.encode(),
                            Metadata={"sha256": packaging.sha256_of(frozen_artifacts.script)})
    metrics, error = run_step(runner, echo_job, {"n": 2})
    assert not error and metrics["rows"] == 2

    # Another version uploaded over it: refused, naming both digests.
    remote["s3"].put_object(Bucket=BUCKET, Key="artifacts/recmart.zip", Body=b"old", Metadata={"sha256": "0" * 64})
    metrics, error = run_step(runner, echo_job, {"n": 1})
    assert metrics is None and f"{ARTIFACTS}/recmart.zip is another code version" in error
