"""Spark steps outside the Dagster process, through Dagster Pipes.

Each runner launches the one Spark entry point (`recmart/steps/spark_job.py`, shipped as the
driver script beside the package zip built by `recmart.aws.packaging`), passes the spec,
which names the step, as the Pipes extra `spec`, and returns the metrics the job reports as
a custom message:

* `SparkSubmitRunner`: `spark-submit` of the PySpark installation, against `local[*]` or a
  standalone master (`spark://host:7077`), through `PipesSubprocessClient`.
* `GlueSparkRunner`: one Glue job per step (`recmart-<step>`), through `PipesGlueClient`.
* `EmrServerlessSparkRunner`: job runs on an EMR Serverless application, through
  `PipesEMRServerlessClient`. EMR Serverless rather than EMR on EC2 (`PipesEMRClient`): the
  steps are short daily batches, so a cluster would idle most of the day or pay a cold start
  per run; an application auto-starts, auto-stops, bills per job run, and needs no cluster
  lifecycle in the pipeline (deploy/terraform/emr_serverless.tf).

On Glue and EMR the Pipes context and messages go through S3 (`<pipes_uri>/context/...`,
`<pipes_uri>/messages/...`, under the bucket's expiring tmp/ prefix).

Success is never taken from Pipes alone (dagster issue 17868: a client can return normally
although the remote driver died). After the client returns, every runner checks the run's
own terminal state (exit code 0; Glue JobRunState SUCCEEDED; EMR Serverless state SUCCESS),
that the closing Pipes message arrived, and that the metrics message arrived; anything else
raises a `dagster.Failure` naming the run and its state.
"""

from __future__ import annotations

import random
import string
import sys
import uuid
from abc import abstractmethod
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_aws.pipes import (
    PipesEMRServerlessClient,
    PipesGlueClient,
    PipesS3ContextInjector,
    PipesS3MessageReader,
)
from dagster_pipes import PipesBlobStoreMessageWriter
from pydantic import Field

from recmart.aws import packaging
from recmart.aws.lake import split_s3_uri
from recmart.resources.spark import SparkStepRunner, local_spark_config

# Runtime SQL settings every remote session gets (sent as the Pipes extra `spark_conf` and
# applied by recmart.pipes_entry): partitions are UTC days, and Parquet must stay readable
# by pyarrow, DuckDB and Athena. Shuffle sizes are left to the cluster and to AQE.
REMOTE_SQL_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.compression.codec": "snappy",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
}


class _RecordsHandler:
    """Mixin for message readers: keeps the session's message handler, so the runner can ask
    whether the closing message arrived."""

    handler = None

    @contextmanager
    def read_messages(self, handler):
        self.handler = handler
        with super().read_messages(handler) as params:  # type: ignore[misc]
            yield params


class _FileMessageReader(_RecordsHandler, dg.PipesTempFileMessageReader):
    pass


class S3PrefixMessageReader(_RecordsHandler, PipesS3MessageReader):
    """PipesS3MessageReader writing under a key prefix (dagster-aws's writes at the bucket
    root, where the Spark role may not write), telling the writer its upload interval."""

    def __init__(self, *, bucket: str, key_prefix: str, client, interval: float = 10):
        super().__init__(bucket=bucket, client=client, interval=interval)
        self.key_prefix = key_prefix.strip("/")

    @contextmanager
    def get_params(self):
        name = "".join(random.choices(string.ascii_letters, k=30))
        yield {
            "bucket": self.bucket,
            "key_prefix": f"{self.key_prefix}/{name}",
            "interval": self.interval,
            PipesBlobStoreMessageWriter.INCLUDE_STDIO_IN_MESSAGES_KEY: self.include_stdio_in_messages,
        }


class _RecordingClient:
    """Delegates to a boto3 client and remembers the run started by `start_job_run`, so a
    failure can name the run even when the Pipes client raises."""

    def __init__(self, client):
        self._client = client
        self.started: dict | None = None

    def start_job_run(self, **kwargs):
        self.started = self._client.start_job_run(**kwargs)
        return self.started

    def get_dashboard_for_job_run(self, **kwargs):
        # EMR Serverless only, for a link in the logs: never worth failing a step over
        # (a role without emr-serverless:GetDashboardForJobRun, an endpoint without it).
        try:
            return self._client.get_dashboard_for_job_run(**kwargs)
        except Exception as exc:  # noqa: BLE001
            return {"url": f"(no dashboard: {exc.__class__.__name__})"}

    def __getattr__(self, name):
        return getattr(self._client, name)


def _outcome(context: dg.AssetExecutionContext, reader: _RecordsHandler, invocation, run: str, state: str) -> dict:
    """The metrics of a run whose own state is a success, or a Failure naming the run."""
    handler = reader.handler
    if handler is None or not handler.received_closed_message:
        raise dg.Failure(
            description=f"{run} ended in state {state}, but its Pipes session never closed: "
            "the Spark driver died or could not write its messages, so its output is not trusted",
            metadata={"run": run, "state": state},
        )
    reports = [m["metrics"] for m in invocation.get_custom_messages() if isinstance(m, dict) and "metrics" in m]
    if not reports:
        raise dg.Failure(
            description=f"{run} ended in state {state} without reporting its metrics (the job raised?)",
            metadata={"run": run, "state": state},
        )
    context.log.info(f"{run} succeeded ({state})")
    return reports[-1]


def _pipes_extras(step: str, spec: dict, spark_conf: dict[str, str]) -> dict[str, Any]:
    return {"spec": {**spec, "step": step}, "spark_conf": spark_conf}


# ---- (b) spark-submit ----------------------------------------------------------------------
def pyspark_home() -> str:
    import pyspark

    return str(Path(pyspark.__file__).parent)


class SparkSubmitRunner(SparkStepRunner):
    """Runs each step as its own `spark-submit` application (one driver JVM per step)."""

    master: str = Field(default="local[*]", description="Spark master: local[*], or spark://host:port of a standalone cluster.")
    spark_home: str | None = Field(default=None, description="SPARK_HOME (default: the installed pyspark package).")
    python: str | None = Field(default=None, description="Python of the driver and executors (default: this one).")
    driver_memory: str = "1g"
    executor_memory: str = "1g"
    executor_cores: int | None = None
    total_executor_cores: int | None = Field(default=None, description="Cores of the cluster the application may take.")
    shuffle_partitions: int | None = Field(
        default=8, description="spark.sql.shuffle.partitions (None: the cluster's default, AQE coalescing)."
    )
    spark_conf: dict[str, str] = Field(default_factory=dict, description="Extra --conf settings.")
    jars: list[str] = Field(default_factory=list, description="Local jars to add (e.g. hadoop-aws for s3a lakes).")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment of spark-submit.")

    def _conf(self, python: str) -> dict[str, str]:
        conf = {
            k: v
            for k, v in local_spark_config(shuffle_partitions=self.shuffle_partitions or 8).items()
            if k not in ("spark.master", "spark.app.name", "spark.driver.memory")
        }
        if self.shuffle_partitions is None:
            del conf["spark.sql.shuffle.partitions"]
        conf.update({
            "spark.pyspark.python": python,
            "spark.pyspark.driver.python": python,
            "spark.log.level": "WARN",
        })
        conf.update(self.spark_conf)
        return conf

    def command(self, step: str, script: Path, package_zip: Path) -> list[str]:
        python = self.python or sys.executable
        cmd = [
            str(Path(self.spark_home or pyspark_home()) / "bin" / "spark-submit"),
            "--master", self.master,
            "--deploy-mode", "client",
            "--name", f"recmart-{step}",
            "--driver-memory", self.driver_memory,
            "--executor-memory", self.executor_memory,
        ]
        if self.executor_cores:
            cmd += ["--executor-cores", str(self.executor_cores)]
        if self.total_executor_cores:
            cmd += ["--total-executor-cores", str(self.total_executor_cores)]
        if self.jars:
            cmd += ["--jars", ",".join(self.jars)]
        for key, value in self._conf(python).items():
            cmd += ["--conf", f"{key}={value}"]
        cmd += ["--py-files", str(package_zip), str(script)]
        return cmd

    def run_step(self, context: dg.AssetExecutionContext, step: str, spec: dict) -> dict:
        artifacts = packaging.current_artifacts()
        cmd = self.command(step, artifacts.script, artifacts.package_zip)
        env = {"SPARK_HOME": self.spark_home or pyspark_home(), **self.env}
        env.setdefault("PYSPARK_PYTHON", self.python or sys.executable)
        reader = _FileMessageReader()
        client = dg.PipesSubprocessClient(env=env, cwd=str(artifacts.root), message_reader=reader)
        run = f"spark-submit of step {step} on {self.master}"
        context.log.info(f"running Spark step {step}: {' '.join(cmd)}")
        try:
            invocation = client.run(context=context, command=cmd, extras=_pipes_extras(step, spec, REMOTE_SQL_CONF))
        except dg.DagsterExecutionInterruptedError:
            raise
        except Exception as exc:  # a non-zero exit code, or spark-submit that could not start
            raise dg.Failure(description=f"{run} failed: {exc}", metadata={"run": run, "state": "FAILED"}) from exc
        return _outcome(context, reader, invocation, run, "exit code 0")


# ---- (c) Glue and EMR Serverless -------------------------------------------------------------
class _AwsPipesRunner(SparkStepRunner):
    artifacts_uri: str = Field(
        description="s3://bucket/prefix of the deploy artefacts: recmart.zip and jobs/spark_job.py."
    )
    pipes_uri: str = Field(description="s3://bucket/prefix for Pipes context and messages (an expiring prefix).")
    region: str | None = None
    endpoint_url: str | None = Field(default=None, description="AWS endpoint override (tests).")
    upload_artifacts: bool = Field(
        default=False,
        description="Upload this code's zip and driver script before each step (development stacks). "
        "Otherwise the runner only checks that the uploaded ones are this code version.",
    )
    poll_interval_seconds: float = Field(default=10.0, description="How often the run state and Pipes messages are polled (and messages written).")

    def _client(self, service: str):
        import boto3

        return boto3.session.Session().client(service, region_name=self.region, endpoint_url=self.endpoint_url)

    def _pipes_io(self, s3) -> tuple[PipesS3ContextInjector, S3PrefixMessageReader]:
        bucket, prefix = split_s3_uri(self.pipes_uri)
        prefix = prefix.strip("/")
        injector = PipesS3ContextInjector(bucket=bucket, client=s3, key_prefix=f"{prefix}/context/")
        reader = S3PrefixMessageReader(
            bucket=bucket, key_prefix=f"{prefix}/messages", client=s3, interval=self.poll_interval_seconds
        )
        return injector, reader

    def _sync(self, s3, context, targets: dict[str, tuple[Path, str]]) -> None:
        """Make sure each uri holds (path, sha256): upload when allowed, else only check."""
        for uri, (path, digest) in targets.items():
            try:
                if packaging.sync_artifact(s3, path, uri, digest, upload=self.upload_artifacts):
                    context.log.info(f"uploaded {uri} (sha256 {digest})")
            except packaging.ArtifactMismatch as exc:
                raise dg.Failure(description=str(exc)) from None

    @abstractmethod
    def run_step(self, context: dg.AssetExecutionContext, step: str, spec: dict) -> dict: ...

    @staticmethod
    def _script(artifacts: packaging.Artifacts) -> tuple[Path, str]:
        return artifacts.script, artifacts.digests[artifacts.relative(artifacts.script)]


class GlueSparkRunner(_AwsPipesRunner):
    """Runs each step as a run of its Glue job `<job_name_prefix><step>`."""

    job_name_prefix: str = Field(default="recmart-", description="Glue job of a step: <prefix><step>.")
    arguments: dict[str, str] = Field(default_factory=dict, description="Extra job-run arguments.")

    def run_step(self, context: dg.AssetExecutionContext, step: str, spec: dict) -> dict:
        job_name = f"{self.job_name_prefix}{step}"
        glue, s3 = self._client("glue"), self._client("s3")
        artifacts = packaging.current_artifacts()
        zip_uri = packaging.artifact_uri(self.artifacts_uri, packaging.PACKAGE_ZIP)
        # The job's own ScriptLocation (deploy/terraform/glue.tf) is where its script must be.
        script_uri = glue.get_job(JobName=job_name)["Job"]["Command"]["ScriptLocation"]
        self._sync(s3, context, {
            script_uri: self._script(artifacts),
            zip_uri: (artifacts.package_zip, artifacts.digests[packaging.PACKAGE_ZIP]),
        })

        injector, reader = self._pipes_io(s3)
        recorder = _RecordingClient(glue)
        client = PipesGlueClient(context_injector=injector, message_reader=reader, client=recorder)
        params = {"JobName": job_name, "Arguments": {"--extra-py-files": zip_uri, **self.arguments}}
        try:
            invocation = client.run(
                context=context, start_job_run_params=params, extras=_pipes_extras(step, spec, REMOTE_SQL_CONF)
            )
        except dg.DagsterExecutionInterruptedError:
            raise
        except Exception as exc:
            if recorder.started is None:
                raise dg.Failure(description=f"Glue job {job_name} could not be started: {exc}") from exc
            run_id = recorder.started["JobRunId"]
            state, message = self._state(glue, job_name, run_id)
            raise dg.Failure(
                description=f"Glue job {job_name} run {run_id} ended in state {state}: {message or exc}",
                metadata={"run": f"Glue job {job_name} run {run_id}", "state": state},
            ) from exc
        if recorder.started is None:  # the Pipes client returned without starting the job
            raise dg.Failure(description=f"Glue job {job_name}: the Pipes client returned without starting a run")
        run_id = recorder.started["JobRunId"]
        run = f"Glue job {job_name} run {run_id}"
        state, message = self._state(glue, job_name, run_id)
        if state != "SUCCEEDED":
            raise dg.Failure(description=f"{run} ended in state {state}: {message}", metadata={"run": run, "state": state})
        return _outcome(context, reader, invocation, run, state)

    @staticmethod
    def _state(glue, job_name: str, run_id: str) -> tuple[str, str]:
        job_run = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
        return job_run["JobRunState"], job_run.get("ErrorMessage", "")


class _EmrServerlessClient(PipesEMRServerlessClient):
    def _read_messages(self, context, session, response):
        # Messages come through the S3 reader; the CloudWatch wiring of the base class does not apply.
        if not isinstance(self.message_reader, S3PrefixMessageReader):
            super()._read_messages(context, session, response)


class EmrServerlessSparkRunner(_AwsPipesRunner):
    """Runs each step as a job run on an EMR Serverless Spark application."""

    application_id: str = Field(description="EMR Serverless application (RECMART_EMR_APPLICATION_ID).")
    execution_role_arn: str = Field(description="Role the job runs as (RECMART_EMR_JOB_ROLE_ARN).")
    spark_conf: dict[str, str] = Field(default_factory=dict, description="Extra --conf settings.")
    log_uri: str | None = Field(default=None, description="s3:// prefix for driver and executor logs.")
    execution_timeout_minutes: int = 180

    def start_params(self, context: dg.AssetExecutionContext, step: str, script_uri: str, zip_uri: str) -> dict:
        conf = {"spark.submit.pyFiles": zip_uri, **self.spark_conf}
        params: dict[str, Any] = {
            "applicationId": self.application_id,
            "executionRoleArn": self.execution_role_arn,
            "name": f"recmart-{step}-{context.run_id[:8]}",
            "clientToken": uuid.uuid4().hex,
            "executionTimeoutMinutes": self.execution_timeout_minutes,
            "jobDriver": {
                "sparkSubmit": {
                    "entryPoint": script_uri,
                    "sparkSubmitParameters": " ".join(f"--conf {k}={v}" for k, v in conf.items()),
                }
            },
        }
        if self.log_uri:
            params["configurationOverrides"] = {
                "monitoringConfiguration": {"s3MonitoringConfiguration": {"logUri": self.log_uri}}
            }
        return params

    def run_step(self, context: dg.AssetExecutionContext, step: str, spec: dict) -> dict:
        emr, s3 = self._client("emr-serverless"), self._client("s3")
        artifacts = packaging.current_artifacts()
        zip_uri = packaging.artifact_uri(self.artifacts_uri, packaging.PACKAGE_ZIP)
        script = self._script(artifacts)
        script_uri = packaging.artifact_uri(self.artifacts_uri, artifacts.relative(artifacts.script))
        self._sync(s3, context, {
            script_uri: script, zip_uri: (artifacts.package_zip, artifacts.digests[packaging.PACKAGE_ZIP]),
        })

        injector, reader = self._pipes_io(s3)
        recorder = _RecordingClient(emr)
        client = _EmrServerlessClient(
            client=recorder,
            context_injector=injector,
            message_reader=reader,
            poll_interval=self.poll_interval_seconds,
        )
        try:
            invocation = client.run(
                context=context,
                start_job_run_params=self.start_params(context, step, script_uri, zip_uri),
                extras=_pipes_extras(step, spec, REMOTE_SQL_CONF),
            )
        except dg.DagsterExecutionInterruptedError:
            raise
        except Exception as exc:
            if recorder.started is None:
                raise dg.Failure(description=f"EMR Serverless job of step {step} could not be started: {exc}") from exc
            run = f"EMR Serverless job run {recorder.started['jobRunId']} of step {step}"
            state, details = self._state(emr, recorder.started["jobRunId"])
            raise dg.Failure(
                description=f"{run} ended in state {state}: {details or exc}", metadata={"run": run, "state": state}
            ) from exc
        if recorder.started is None:  # the Pipes client returned without starting the job
            raise dg.Failure(description=f"EMR Serverless job of step {step}: the Pipes client returned without starting a run")
        run_id = recorder.started["jobRunId"]
        run = f"EMR Serverless job run {run_id} of step {step}"
        state, details = self._state(emr, run_id)
        if state != "SUCCESS":
            raise dg.Failure(description=f"{run} ended in state {state}: {details}", metadata={"run": run, "state": state})
        return _outcome(context, reader, invocation, run, state)

    def _state(self, emr, run_id: str) -> tuple[str, str]:
        job_run = emr.get_job_run(applicationId=self.application_id, jobRunId=run_id)["jobRun"]
        return job_run["state"], job_run.get("stateDetails", "")
