"""The settings are read once, when the code location loads, and handed down: what builds the
partitions and the resources takes every value from the `Settings` it is given and never reads
the environment again; a bad value fails that one read, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg
import pytest

from recmart.aws.deployment import aws_resources
from recmart.aws.spark_runners import GlueSparkRunner, SparkSubmitRunner
from recmart.config import ENGINES, SettingError, Settings, env_name, load_settings
from recmart.deployments import local_resources, resources_for
from recmart.partitions import daily_partitions
from recmart.resources.privacy import PiiSalt

AWS = {
    "RECMART_DEPLOYMENT": "aws",
    "RECMART_LAKE": "s3://recmart-lake/lake",
    "RECMART_PII_SALT": "a-long-enough-salt",
    "RECMART_SOURCE_DB": "postgresql+psycopg2://recmart:pw@db.internal:5432/store",
    "RECMART_FEATURE_STORE_ROLE_ARN": "arn:aws:iam::123456789012:role/recmart-feature-store",
}


def _local(tmp_path, tag: str) -> dict[str, str]:
    """A full local environment whose every value differs with `tag`."""
    (tmp_path / tag).mkdir(exist_ok=True)
    return {
        "RECMART_LAKE": str(tmp_path / tag / "lake"),
        "RECMART_SOURCE_DB": f"sqlite:///{tmp_path / tag / 'source.db'}",
        "RECMART_PII_SALT": f"salt-of-{tag}-long",
        "RECMART_RECS_STORE": f"sqlite:///{tmp_path / tag / 'recs.sqlite'}",
        "RECMART_ENGINE": "spark" if tag == "a" else "duckdb",
        "RECMART_SPARK_DRIVER_MEMORY": "1g" if tag == "a" else "3g",
        "RECMART_FIRST_DAY": "2001-02-03" if tag == "a" else "2010-10-10",
    }


class _Spy(dict):
    """os.environ that records every variable looked up."""

    def __init__(self, values):
        super().__init__(values)
        self.read: list[str] = []

    def __getitem__(self, key):
        self.read.append(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.append(key)
        return super().get(key, default)

    def __contains__(self, key):
        self.read.append(key)
        return super().__contains__(key)

    def items(self):
        self.read.append("<all>")
        return super().items()


def _settings_reads(spy: _Spy) -> list[str]:
    names = {env_name(f) for f in Settings.model_fields}
    return [k for k in spy.read if k in names or k == "<all>"]


def test_the_settings_handed_in_win_over_the_environment(tmp_path, monkeypatch):
    given, elsewhere = _local(tmp_path, "a"), _local(tmp_path, "b")
    for name, value in elsewhere.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(given)

    resources = local_resources(settings)
    assert resources["lake"].root == given["RECMART_LAKE"]
    assert resources["source_db"].url == given["RECMART_SOURCE_DB"]
    assert resources["pii"].salt == given["RECMART_PII_SALT"]
    assert resources["recommendation_store"].url == given["RECMART_RECS_STORE"]
    assert resources["engine"].engine == "spark"
    assert resources["spark"].pyspark.spark_config["spark.driver.memory"] == "1g"
    assert resources["metrics"].folder.startswith(given["RECMART_LAKE"])
    assert daily_partitions(settings).start.date().isoformat() == "2001-02-03"


def test_a_later_change_of_the_environment_changes_nothing(tmp_path, monkeypatch):
    read, later = _local(tmp_path, "a"), _local(tmp_path, "b")
    for name, value in read.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()  # os.environ, as the code location reads it
    for name, value in later.items():
        monkeypatch.setenv(name, value)

    resources = resources_for(settings)
    assert resources["lake"].root == read["RECMART_LAKE"]
    assert resources["recommendation_store"].url == read["RECMART_RECS_STORE"]
    assert resources["engine"].engine == "spark"
    assert resources["spark"].pyspark.spark_config["spark.driver.memory"] == "1g"
    assert daily_partitions(settings).start.date().isoformat() == "2001-02-03"
    # The two secrets are named, not shown, in the Dagster UI: EnvVars of the variables read.
    assert resources["pii"].salt == dg.EnvVar("RECMART_PII_SALT")
    assert resources["source_db"].url == dg.EnvVar("RECMART_SOURCE_DB")


def test_building_the_resources_reads_no_setting_from_the_environment(tmp_path, monkeypatch):
    for name, value in _local(tmp_path, "a").items():
        monkeypatch.setenv(name, value)
    local = load_settings()
    aws = load_settings(AWS)
    spy = _Spy(os.environ)
    monkeypatch.setattr(os, "environ", spy)

    resources_for(local)
    aws_resources(aws)
    daily_partitions(local)
    assert _settings_reads(spy) == []


def test_aws_resources_take_the_settings_not_the_environment(monkeypatch):
    monkeypatch.setenv("RECMART_SPARK_RUNNER", "spark-submit")
    monkeypatch.setenv("RECMART_SPARK_MASTER", "not-a-master")
    monkeypatch.setenv("RECMART_PII_SALT", "short")
    monkeypatch.setenv("RECMART_SOURCE_DB", "mysql://nope/x")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://elsewhere:1")
    resources = aws_resources(load_settings({**AWS, "AWS_ENDPOINT_URL": "http://moto:5000"}))
    assert isinstance(resources["spark"], GlueSparkRunner)
    assert resources["pii"].salt == AWS["RECMART_PII_SALT"]
    assert resources["source_db"].url == AWS["RECMART_SOURCE_DB"]
    assert resources["lake"].endpoint_url == "http://moto:5000"

    # spark-submit keeps its own driver default (1g), not the local driver's (2g).
    submit = {**AWS, "RECMART_SPARK_RUNNER": "spark-submit", "RECMART_SPARK_MASTER": "spark://m:7077"}
    spark = aws_resources(load_settings(submit))["spark"]
    assert isinstance(spark, SparkSubmitRunner) and spark.driver_memory == "1g"
    spark = aws_resources(load_settings({**submit, "RECMART_SPARK_DRIVER_MEMORY": "4g"}))["spark"]
    assert spark.driver_memory == "4g"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"RECMART_ENGINE": "polars"}, "RECMART_ENGINE='polars': use one of duckdb, spark"),
        ({"RECMART_EXECUTOR": "threads"}, "RECMART_EXECUTOR='threads' is not one of"),
        ({"RECMART_RECS_STORE": "redis://x"}, "RECMART_RECS_STORE"),
        ({**AWS, "RECMART_PII_SALT": ""}, "RECMART_PII_SALT is not set"),
        ({**AWS, "RECMART_PII_SALT": "short"}, "RECMART_PII_SALT must be at least 8 characters (it has 5)"),
        ({"RECMART_PII_SALT": "short"}, "RECMART_PII_SALT must be at least 8 characters (it has 5)"),
        ({"RECMART_DEPLOYMENT": "cloud", "RECMART_FIRST_DAY": "soon"},
         "RECMART_DEPLOYMENT='cloud' is not one of local, aws; RECMART_FIRST_DAY='soon' is not a date"),
    ],
)
def test_a_bad_value_fails_the_read_naming_the_variable(env, message):
    with pytest.raises(SettingError) as failure:
        load_settings(env)
    assert message in str(failure.value)


def test_the_salt_has_one_rule():
    with pytest.raises(SettingError) as at_load:
        load_settings({"RECMART_PII_SALT": "short"})
    with pytest.raises(ValueError) as at_run:
        PiiSalt(salt="short")
    assert str(at_load.value) in str(at_run.value)


def test_the_settings_cannot_change_after_the_read_and_hide_the_secrets():
    settings = load_settings({"RECMART_PII_SALT": "a-secret-salt", "RECMART_SOURCE_DB": "sqlite:///pw-in-url.db"})
    with pytest.raises(ValueError):
        settings.lake = "/elsewhere"
    assert "a-secret-salt" not in repr(settings) and "pw-in-url" not in repr(settings)


def test_the_engines_are_the_resources():
    from recmart.resources.engine import ENGINES as RESOURCE_ENGINES

    assert ENGINES == RESOURCE_ENGINES


PROBE = """
import recmart.config as config
reads = []
read = config.load_settings
config.load_settings = lambda *a, **k: reads.append(a) or read(*a, **k)
import recmart.definitions as d
import recmart.partitions as p
assert len(reads) == 1, reads
assert d.SETTINGS is config.get_settings()
assert p.DAILY.start.date() == d.SETTINGS.first_day, (p.DAILY.start, d.SETTINGS.first_day)
assert d.defs.resources["lake"].root == d.SETTINGS.lake
print("ok", d.SETTINGS.first_day)
"""


def test_the_code_location_reads_the_settings_once_for_partitions_and_resources(tmp_path):
    env = {**os.environ, "RECMART_DEPLOYMENT": "local", "RECMART_FIRST_DAY": "2003-04-05",
           "RECMART_LAKE": str(tmp_path / "lake")}
    proc = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("ok 2003-04-05")


def test_a_bad_value_fails_the_code_location_at_its_one_read(tmp_path):
    env = {**os.environ, "RECMART_DEPLOYMENT": "local", "RECMART_PII_SALT": "short"}
    proc = subprocess.run([sys.executable, "-c", "import recmart.definitions"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "SettingError: RECMART_PII_SALT must be at least 8 characters (it has 5)" in proc.stderr
    # Raised by the read in recmart.definitions, before any asset module is imported.
    assert "recmart/assets" not in proc.stderr, proc.stderr[-3000:]
