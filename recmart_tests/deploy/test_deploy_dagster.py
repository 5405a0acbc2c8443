"""deploy/dagster: the production instance and workspace.

Without PostgreSQL: the YAML keeps every credential in the environment and validates
against Dagster's instance schema. With PostgreSQL (`@pytest.mark.postgres`): an instance
made from the unchanged file runs a job against a throwaway database, with its compute
logs uploaded to S3 served by moto on 127.0.0.1.
"""

from __future__ import annotations

import re
import shutil
import uuid
from urllib.parse import urlsplit

import pytest
import yaml

from recmart_tests.deploy.tf import REPO

DAGSTER_DIR = REPO / "deploy" / "dagster"
INSTANCE_YAML = DAGSTER_DIR / "dagster.yaml"
WORKSPACE_YAML = DAGSTER_DIR / "workspace.yaml"
PG_ENV = ("DAGSTER_PG_HOST", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB")


@pytest.fixture
def instance_config() -> dict:
    return yaml.safe_load(INSTANCE_YAML.read_text(encoding="utf-8"))


def _env_settings(config: dict) -> dict[str, str]:
    """Every `env:` leaf of a config, by its path."""
    found = {}

    def walk(node, path):
        if isinstance(node, dict):
            if set(node) == {"env"}:
                found[path] = node["env"]
                return
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else key)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(config, "")
    return found


def test_postgres_credentials_come_from_the_environment(instance_config):
    db = instance_config["storage"]["postgres"]["postgres_db"]
    assert _env_settings(db) == {"hostname": "DAGSTER_PG_HOST", "username": "DAGSTER_PG_USER",
                                 "password": "DAGSTER_PG_PASSWORD", "db_name": "DAGSTER_PG_DB"}
    assert db["scheme"] == "postgresql+psycopg2", "the image ships psycopg2, not psycopg 3"


def test_no_literal_secret_anywhere(instance_config):
    assert "postgres_url" not in instance_config["storage"]["postgres"], "a URL would hold the password"

    def walk(node, path=""):
        if isinstance(node, dict):
            for key, value in node.items():
                if any(word in key.lower() for word in ("password", "secret", "token", "access_key")):
                    assert isinstance(value, dict) and set(value) == {"env"}, f"{path}.{key} is not from env"
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for value in node:
                walk(value, path)
        elif isinstance(node, str):
            assert "://" not in node and "@" not in node, f"{path}: {node!r} looks like a URL with credentials"

    walk(instance_config)


def test_compute_logs_go_to_s3_and_runs_are_queued(instance_config):
    logs = instance_config["compute_logs"]
    assert (logs["module"], logs["class"]) == ("dagster_aws.s3.compute_log_manager", "S3ComputeLogManager")
    assert _env_settings(logs["config"]) == {"bucket": "DAGSTER_COMPUTE_LOG_BUCKET",
                                             "prefix": "DAGSTER_COMPUTE_LOG_PREFIX"}
    coordinator = instance_config["run_coordinator"]
    assert coordinator["class"] == "QueuedRunCoordinator"
    assert 1 <= coordinator["config"]["max_concurrent_runs"] <= 50
    limits = {limit["key"]: limit for limit in coordinator["config"]["tag_concurrency_limits"]}
    assert limits["dagster/partition"]["limit"] == 1
    assert limits["dagster/partition"]["value"] == {"applyLimitPerUniqueValue": True}


def _set_instance_env(monkeypatch, **pg) -> None:
    values = {"DAGSTER_PG_HOST": "db.example.internal", "DAGSTER_PG_USER": "dagster",
              "DAGSTER_PG_PASSWORD": "not-a-real-password", "DAGSTER_PG_DB": "dagster",
              "DAGSTER_COMPUTE_LOG_BUCKET": "recmart-lake", "DAGSTER_COMPUTE_LOG_PREFIX": "dagster/compute-logs"}
    values.update(pg)
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def test_instance_yaml_validates_against_dagster_schema(monkeypatch, tmp_path):
    # No public API checks a dagster.yaml against the schema without opening its storage
    # (DagsterInstance.from_config would connect to PostgreSQL).
    from dagster._core.instance.config import dagster_instance_config

    _set_instance_env(monkeypatch)
    shutil.copy(INSTANCE_YAML, tmp_path / "dagster.yaml")
    config, custom_class = dagster_instance_config(str(tmp_path))
    assert custom_class is None
    assert config["storage"]["postgres"]["postgres_db"]["password"] == {"env": "DAGSTER_PG_PASSWORD"}


def test_missing_credentials_fail_at_start_naming_the_variable(monkeypatch, tmp_path):
    from dagster import DagsterInstance

    _set_instance_env(monkeypatch)
    monkeypatch.delenv("DAGSTER_PG_PASSWORD")
    shutil.copy(INSTANCE_YAML, tmp_path / "dagster.yaml")
    with pytest.raises(Exception, match="DAGSTER_PG_PASSWORD"):
        DagsterInstance.from_config(str(tmp_path))


def test_workspace_loads_the_code_server_over_grpc(monkeypatch):
    # No public API loads a workspace.yaml: this is what the webserver and daemon call.
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    monkeypatch.setenv("DAGSTER_CODE_SERVER_HOST", "recmart-code.internal")
    (origin,) = location_origins_from_yaml_paths([str(WORKSPACE_YAML)])
    assert origin.location_name == "recmart"
    assert (origin.host, origin.port) == ("recmart-code.internal", 4000)


# ---- against PostgreSQL and (moto) S3 -----------------------------------------------------------
@pytest.fixture
def s3_endpoint(monkeypatch):
    """moto's S3 on 127.0.0.1, reached through boto3's AWS_ENDPOINT_URL_S3 (fake credentials)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-1",
                           "AWS_ENDPOINT_URL_S3": f"http://{host}:{port}"}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _libpq(url: str) -> str:
    """The URL as libpq takes it (RECMART_TEST_POSTGRES_URL may name a SQLAlchemy driver)."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)


@pytest.fixture
def throwaway_database(postgres_url):
    """A new database `dagster_test_<random>` on the test server, dropped afterwards."""
    import psycopg2

    name = f"dagster_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(_libpq(postgres_url))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield name
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()


@pytest.mark.postgres
def test_production_instance_runs_a_job_on_postgres_with_s3_compute_logs(
    postgres_url, throwaway_database, s3_endpoint, monkeypatch, tmp_path
):
    import boto3
    import dagster as dg
    import psycopg2
    from dagster import DagsterInstance
    from dagster_aws.s3.compute_log_manager import S3ComputeLogManager
    from dagster_postgres import (
        PostgresEventLogStorage,
        PostgresRunStorage,
        PostgresScheduleStorage,
    )

    url = urlsplit(postgres_url)
    # moto's server shares its in-process state with other tests' mocks: a bucket of our own.
    bucket = f"recmart-lake-{uuid.uuid4().hex[:8]}"
    config_text = INSTANCE_YAML.read_text(encoding="utf-8")
    if (url.port or 5432) != 5432:
        # The production file uses RDS's port 5432; only the port is adapted to the test server.
        config_text = config_text.replace("port: 5432", f"port: {url.port}")
    (tmp_path / "dagster.yaml").write_text(config_text, encoding="utf-8")
    _set_instance_env(monkeypatch, DAGSTER_PG_HOST=url.hostname or "127.0.0.1",
                      DAGSTER_PG_USER=url.username or "postgres", DAGSTER_PG_PASSWORD=url.password or "",
                      DAGSTER_PG_DB=throwaway_database, DAGSTER_COMPUTE_LOG_BUCKET=bucket,
                      DAGSTER_COMPUTE_LOG_PREFIX="dagster/compute-logs")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

    instance = DagsterInstance.from_config(str(tmp_path))
    try:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert isinstance(instance.compute_log_manager, S3ComputeLogManager)
        assert instance.run_coordinator.get_run_queue_config().max_concurrent_runs == 8

        @dg.op
        def say_hello(context):
            print("hello from the production instance")
            context.log.info("logged to postgres")

        @dg.job
        def smoke():
            say_hello()

        result = smoke.execute_in_process(instance=instance)
        assert result.success
        (run,) = instance.get_runs()
        assert run.run_id == result.run_id
        events = instance.all_logs(result.run_id)
        assert any("logged to postgres" in (e.user_message or "") for e in events)
        assert instance.all_instigator_state() == []

        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        out = [k for k in keys if k.startswith(f"dagster/compute-logs/storage/{result.run_id}/") and k.endswith(".out")]
        assert out, keys
        body = s3.get_object(Bucket=bucket, Key=out[0])["Body"].read().decode()
        assert "hello from the production instance" in body
    finally:
        instance.dispose()

    # The run is in the throwaway PostgreSQL database itself.
    conn = psycopg2.connect(_libpq(postgres_url), dbname=throwaway_database)
    with conn:
        with conn.cursor() as cur:
            cur.execute("SELECT run_id FROM runs")
            assert [r[0] for r in cur.fetchall()] == [result.run_id]
    conn.close()
