"""RECMART_DEPLOYMENT=aws: the definitions load with the required settings, every missing or
wrong setting fails the load naming it, and the source database URL can come from Secrets
Manager (moto)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import dagster as dg
import pytest

from recmart.aws import deployment
from recmart.aws.deployment import SecretsManagerSourceDatabase, aws_resources
from recmart.aws.lake import S3Lake
from recmart.aws.spark_runners import EmrServerlessSparkRunner, GlueSparkRunner, SparkSubmitRunner
from recmart.config import SettingError, load_settings
from recmart.deployments import resources_for

AWS_ENV = {
    "RECMART_DEPLOYMENT": "aws",
    "RECMART_LAKE": "s3://recmart-lake/lake",
    "RECMART_PII_SALT": "a-long-enough-salt",
    "RECMART_SOURCE_DB": "postgresql+psycopg2://recmart:pw@db.internal:5432/store",
    "RECMART_FEATURE_STORE_ROLE_ARN": "arn:aws:iam::123456789012:role/recmart-feature-store",
}
OPTIONAL = (
    "RECMART_SPARK_RUNNER", "RECMART_ARTIFACTS", "RECMART_PIPES_PREFIX", "RECMART_SPARK_UPLOAD_ARTIFACTS",
    "RECMART_GLUE_JOB_PREFIX", "RECMART_EMR_APPLICATION_ID", "RECMART_EMR_JOB_ROLE_ARN", "RECMART_EMR_LOG_URI",
    "RECMART_SPARK_MASTER", "RECMART_SPARK_JARS", "RECMART_EXECUTOR", "RECMART_FIRST_DAY",
)


@pytest.fixture()
def aws_env(aws, monkeypatch):
    for name in OPTIONAL:
        monkeypatch.delenv(name, raising=False)
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    deployment._SECRETS.clear()
    yield monkeypatch
    deployment._SECRETS.clear()


def load() -> dg.Definitions:
    from recmart.definitions import build_definitions

    defs = build_definitions(resources_for(load_settings()))
    dg.Definitions.validate_loadable(defs)
    return defs


def test_the_definitions_load_on_aws_with_the_required_settings(aws_env):
    resources = load().resources
    lake = resources["lake"]
    assert isinstance(lake, S3Lake) and lake.root == "s3://recmart-lake/lake" and lake.spark_scheme == "s3"
    assert type(lake.catalog).__name__ == "GlueCatalog"
    assert type(resources["lake_sql"]).__name__ == "AthenaLakeSql"
    spark = resources["spark"]
    assert isinstance(spark, GlueSparkRunner)
    assert spark.artifacts_uri == "s3://recmart-lake/artifacts" and spark.pipes_uri == "s3://recmart-lake/tmp/pipes"
    assert spark.job_name_prefix == "recmart-" and spark.upload_artifacts is False
    assert {"lake", "spark", "source_db", "lake_sql", "pii"} <= set(resources)


def test_the_code_location_loads_in_a_fresh_process(aws_env):
    probe = "import recmart.definitions as d; print(type(d.defs.resources['spark']).__name__)"
    out = subprocess.run([sys.executable, "-c", probe], env=dict(os.environ), capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("GlueSparkRunner")


def test_the_spark_runner_is_chosen_by_setting(aws_env):
    aws_env.setenv("RECMART_SPARK_RUNNER", "emr-serverless")
    aws_env.setenv("RECMART_EMR_APPLICATION_ID", "00fabc123")
    aws_env.setenv("RECMART_EMR_JOB_ROLE_ARN", "arn:aws:iam::123456789012:role/recmart-spark-emr-serverless")
    aws_env.setenv("RECMART_EMR_LOG_URI", "s3://recmart-lake/tmp/emr-logs/")
    spark = load().resources["spark"]
    assert isinstance(spark, EmrServerlessSparkRunner) and spark.application_id == "00fabc123"
    assert spark.log_uri == "s3://recmart-lake/tmp/emr-logs"

    aws_env.setenv("RECMART_SPARK_RUNNER", "spark-submit")
    aws_env.setenv("RECMART_SPARK_MASTER", "spark://10.0.0.5:7077")
    resources = load().resources
    assert isinstance(resources["spark"], SparkSubmitRunner) and resources["spark"].master == "spark://10.0.0.5:7077"
    assert resources["lake"].spark_scheme == "s3a"


@pytest.mark.parametrize(
    "changes, named",
    [
        ({"RECMART_PII_SALT": None}, "RECMART_PII_SALT is not set"),
        ({"RECMART_PII_SALT": "short"}, "RECMART_PII_SALT must be at least 8"),
        ({"RECMART_SOURCE_DB": None}, "RECMART_SOURCE_DB is not set"),
        ({"RECMART_SOURCE_DB": "mysql://x/y"}, "RECMART_SOURCE_DB="),
        ({"RECMART_LAKE": "/srv/lake"}, "RECMART_LAKE="),
        ({"RECMART_SPARK_RUNNER": "databricks"}, "RECMART_SPARK_RUNNER='databricks' is not one of"),
        ({"RECMART_SPARK_RUNNER": "emr-serverless"}, "RECMART_EMR_APPLICATION_ID is not set"),
        ({"RECMART_SPARK_RUNNER": "emr-serverless", "RECMART_EMR_APPLICATION_ID": "00f"},
         "RECMART_EMR_JOB_ROLE_ARN is not set"),
        ({"RECMART_SPARK_RUNNER": "spark-submit"}, "RECMART_SPARK_MASTER is not set"),
        ({"RECMART_SPARK_RUNNER": "spark-submit", "RECMART_SPARK_MASTER": "10.0.0.5"}, "RECMART_SPARK_MASTER="),
        ({"RECMART_ARTIFACTS": "artifacts/"}, "RECMART_ARTIFACTS="),
        ({"RECMART_SPARK_UPLOAD_ARTIFACTS": "maybe"}, "RECMART_SPARK_UPLOAD_ARTIFACTS="),
        ({"RECMART_FEATURE_STORE_ROLE_ARN": None}, "RECMART_FEATURE_STORE_ROLE_ARN is not set"),
    ],
)
def test_a_missing_or_wrong_setting_fails_the_load_naming_it(aws_env, changes, named):
    for name, value in changes.items():
        if value is None:
            aws_env.delenv(name)
        else:
            aws_env.setenv(name, value)
    with pytest.raises(SettingError) as failure:
        load()
    assert named in str(failure.value)


def test_the_source_database_url_can_come_from_secrets_manager(aws_env, tmp_path):
    import boto3

    sm = boto3.client("secretsmanager")
    sqlite_url = f"sqlite:///{tmp_path / 'store.db'}"
    sm.create_secret(Name="recmart/source-db-url", SecretString=sqlite_url)
    aws_env.setenv("RECMART_SOURCE_DB", "secretsmanager:recmart/source-db-url")

    db = load().resources["source_db"]
    assert isinstance(db, SecretsManagerSourceDatabase)
    assert db.url == "secretsmanager:recmart/source-db-url"  # the reference, never the secret
    with db.engine().connect() as con:
        assert con.exec_driver_sql("select 1").scalar() == 1

    # An RDS-style JSON secret (special characters in the password are escaped).
    arn = sm.create_secret(Name="rds!db-1", SecretString=json.dumps({
        "engine": "postgres", "host": "db.internal", "port": 5432, "username": "recmart",
        "password": "p@ss:w/rd", "dbname": "store"}))["ARN"]
    aws_env.setenv("RECMART_SOURCE_DB", f"secretsmanager:{arn}")
    db = load().resources["source_db"]
    assert db.engine().url.password == "p@ss:w/rd" and db.engine().url.host == "db.internal"
    assert db.engine().url.drivername == "postgresql+psycopg2"


def test_an_unusable_secret_fails_the_load_naming_the_setting_not_the_secret(aws_env):
    import boto3

    aws_env.setenv("RECMART_SOURCE_DB", "secretsmanager:recmart/missing")
    with pytest.raises(SettingError, match="RECMART_SOURCE_DB: cannot read secret recmart/missing"):
        load()

    boto3.client("secretsmanager").create_secret(Name="recmart/garbage", SecretString="hunter2-not-a-url")
    aws_env.setenv("RECMART_SOURCE_DB", "secretsmanager:recmart/garbage")
    with pytest.raises(SettingError, match="RECMART_SOURCE_DB: secret recmart/garbage holds neither") as failure:
        load()
    assert "hunter2" not in str(failure.value)

    aws_env.setenv("RECMART_SOURCE_DB", "secretsmanager:")
    with pytest.raises(SettingError, match="names no secret"):
        load()


def test_aws_resources_reads_a_given_environment():
    env = {**AWS_ENV, "RECMART_SPARK_RUNNER": "glue", "RECMART_ARTIFACTS": "s3://other/art/"}
    settings = load_settings(env)
    resources = aws_resources(settings)
    assert resources["spark"].artifacts_uri == "s3://other/art"
    assert resources["pii"].salt == "a-long-enough-salt"
