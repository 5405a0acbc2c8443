"""The spine's Spark steps on a real Spark standalone cluster through spark-submit and Pipes.

A master and two one-core workers start on 127.0.0.1 from the PySpark installation; one
daily partition of the hand-made store (raw clickstream -> cleaned events -> interaction
matrix -> interaction scores) runs through `SparkSubmitRunner(master=spark://...)`, and every
table it wrote must equal, row for row, what the in-process `LocalSparkRunner` writes from the
same store. The cluster is always stopped, whatever happens."""

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest
from dagster_pyspark import LazyPySparkResource

from recmart.assets.curated.cleaned_events import cleaned_events
from recmart.assets.curated.interaction_matrix import curated_interaction_matrix
from recmart.assets.curated.interaction_scores import curated_interaction_scores
from recmart.assets.raw.clickstream import raw_clickstream
from recmart.assets.raw.transactions import raw_transactions
from recmart.aws.spark_runners import SparkSubmitRunner, pyspark_home
from recmart.engine.lake_views import duckdb_connection
from recmart.resources.engine import StepEngine
from recmart.resources.lake import LocalLake
from recmart.resources.privacy import PiiSalt
from recmart.resources.source_db import SourceDatabase
from recmart.resources.spark import LocalSparkRunner, local_spark_config
from recmart_tests.aws.conftest import free_port
from recmart_tests.store_builder import D, build_store

pytestmark = pytest.mark.spark_cluster

# Short-lived JVMs on a small machine: the C1 compiler alone starts faster and burns less CPU.
QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"

ASSETS = [raw_clickstream, raw_transactions, cleaned_events, curated_interaction_matrix, curated_interaction_scores]
TABLES = {
    "raw_clickstream": f"arrival_date = DATE '{D}'",
    "curated_cleaned_events": f"event_date = DATE '{D}'",
    "quarantine_clickstream": f"event_date = DATE '{D}'",
    "curated_interaction_matrix": f"event_date = DATE '{D}'",
    "curated_interaction_scores": f"event_date = DATE '{D}'",
}


def _json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


class Cluster:
    """A standalone master and workers, each its own process group, stopped by `stop`."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.procs: list[subprocess.Popen] = []
        self.port, self.ui = free_port(), free_port()
        self.env = {
            **os.environ,
            "SPARK_HOME": pyspark_home(),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_DAEMON_MEMORY": "256m",  # heap of the master and worker daemons themselves
            "SPARK_DAEMON_JAVA_OPTS": QUICK_JVM,
            "SPARK_LOG_DIR": str(workdir / "logs"),
        }

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.port}"

    def _start(self, name: str, *args: str) -> None:
        log = open(self.workdir / f"{name}.log", "wb")
        self.procs.append(subprocess.Popen(
            [str(Path(pyspark_home()) / "bin" / "spark-class"), *args],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ))

    def start(self, workers: int = 2, timeout: float = 120) -> None:
        began = time.monotonic()
        self._start("master", "org.apache.spark.deploy.master.Master",
                    "--host", "127.0.0.1", "--port", str(self.port), "--webui-port", str(self.ui))
        for i in range(workers):
            work = self.workdir / f"worker{i}"
            work.mkdir()
            self._start(f"worker{i}", "org.apache.spark.deploy.worker.Worker", self.master_url,
                        "--host", "127.0.0.1", "--cores", "1", "--memory", "1g",
                        "--webui-port", str(free_port()), "--work-dir", str(work))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"a Spark daemon exited with {proc.returncode}: {self.logs()}")
            try:
                if self.state().get("aliveworkers", 0) >= workers:
                    self.startup_seconds = time.monotonic() - began
                    return
            except OSError:
                pass
            time.sleep(1)
        raise TimeoutError(f"{workers} workers did not register with {self.master_url}: {self.logs()}")

    def state(self) -> dict:
        return _json(f"http://127.0.0.1:{self.ui}/json/")

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-1500:] for p in sorted(self.workdir.glob("*.log")))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)


@pytest.fixture(scope="module")
def spark_cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp("spark-cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def run_day(tmp_path: Path, name: str, spark_runner, engine: str = "spark") -> tuple[Path, dict]:
    """The store built afresh, day D's spine materialised with `spark_runner` and the steps'
    SQL on `engine`; (lake, row counts)."""
    lake_root = tmp_path / name / "lake"
    source = f"sqlite:///{tmp_path / name / 'source.db'}"
    lake_root.parent.mkdir(parents=True)
    build_store(lake_root, source)
    resources = {
        "lake": LocalLake(root=str(lake_root)),
        "spark": spark_runner,
        "engine": StepEngine(engine=engine),
        "source_db": SourceDatabase(url=source),
        "pii": PiiSalt(salt="test-salt-123"),
    }
    result = dg.materialize(ASSETS, resources=resources, partition_key=D, raise_on_error=False)
    assert result.success, [e.event_specific_data.error.to_string() for e in result.get_step_failure_events()]
    counts = {
        m.asset_key.to_user_string(): m.metadata["dagster/row_count"].value
        for m in result.asset_materializations_for_node("curated_interaction_matrix")
        + result.asset_materializations_for_node("curated_interaction_scores")
    }
    return lake_root, counts


def rows(lake_root: Path) -> dict[str, list[tuple]]:
    con = duckdb_connection(str(lake_root))
    try:
        # Scores are summed in another order by each engine: equal to 9 decimals.
        return {
            t: [tuple(round(v, 9) if isinstance(v, float) else v for v in r)
                for r in con.execute(f'SELECT * FROM "{t}" WHERE {where} ORDER BY ALL').fetchall()]
            for t, where in TABLES.items()
        }
    finally:
        con.close()


def test_the_spine_on_a_standalone_cluster_equals_the_in_process_run(spark_cluster, tmp_path, spark):
    print(f"cluster up in {spark_cluster.startup_seconds:.0f}s")
    started = time.monotonic()
    on_cluster = SparkSubmitRunner(
        master=spark_cluster.master_url, driver_memory="512m", executor_memory="512m",
        executor_cores=1, total_executor_cores=2, shuffle_partitions=2,
        env={"SPARK_LOCAL_IP": "127.0.0.1"},
        spark_conf={
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.driver.extraJavaOptions": f"{QUICK_JVM} -Dio.netty.tryReflectionSetAccessible=true",
            "spark.executor.extraJavaOptions": QUICK_JVM,
        },
    )
    cluster_lake, cluster_counts = run_day(tmp_path, "cluster", on_cluster)
    cluster_seconds = time.monotonic() - started

    in_process = LocalSparkRunner(pyspark=LazyPySparkResource(spark_config=local_spark_config(shuffle_partitions=2)))
    # In process, the SQL steps run on DuckDB: the cluster's Spark must give the same rows.
    local_lake, local_counts = run_day(tmp_path, "local", in_process, engine="duckdb")

    expected, got = rows(local_lake), rows(cluster_lake)
    for table in TABLES:
        assert got[table] == expected[table], table
    assert expected["curated_interaction_matrix"] and expected["curated_cleaned_events"]
    assert cluster_counts == local_counts  # the metrics came back through Pipes

    # The four Spark steps ran as applications of the cluster, on its executors.
    apps = {a["name"] for a in spark_cluster.state()["completedapps"]}
    assert {"recmart-raw_clickstream", "recmart-cleaned_events", "recmart-interaction_matrix",
            "recmart-interaction_scores"} <= apps
    print(f"spine day on the standalone cluster: {cluster_seconds:.0f}s")
