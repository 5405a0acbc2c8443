"""Settings that used to load and fail only at run time (or cost every sensor tick) now stop
the load, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from recmart.config import SettingError, load_settings
from recmart.deployments import resources_for


@pytest.mark.parametrize(
    "env, named, why",
    [
        # The local deployment would make a folder named `s3:` in the working directory.
        ({"RECMART_LAKE": "s3://my-bucket/lake"}, "RECMART_LAKE", "aws"),
        ({"RECMART_LAKE": "s3:/my-bucket/lake"}, "RECMART_LAKE", "folder"),
        ({"RECMART_PII_SALT": "short"}, "RECMART_PII_SALT", "at least 8"),
        ({"RECMART_SOURCE_DB": "sqlite://"}, "RECMART_SOURCE_DB", "in-memory"),
        ({"RECMART_SOURCE_DB": "sqlite:///:memory:"}, "RECMART_SOURCE_DB", "in-memory"),
        ({"RECMART_SOURCE_DB": "postgresql+pg8000://u@db/store"}, "RECMART_SOURCE_DB", "pg8000"),
        ({"RECMART_SPARK_DRIVER_MEMORY": "lots"}, "RECMART_SPARK_DRIVER_MEMORY", "JVM size"),
        ({"RECMART_SPARK_DRIVER_MEMORY": "100m"}, "RECMART_SPARK_DRIVER_MEMORY", "at least 512m"),
        ({"RECMART_FIRST_DAY": "0001-01-01"}, "RECMART_FIRST_DAY", "2000-01-01"),
    ],
)
def test_a_wrong_setting_fails_the_load_naming_it(env, named, why):
    with pytest.raises(SettingError, match=named) as failure:
        load_settings(env)
    assert why in str(failure.value)


@pytest.mark.parametrize("memory", ["512m", "2g", "4G", "1536M", "3072"])
def test_spark_driver_memory_in_jvm_sizes_reaches_the_spark_config(memory, monkeypatch):
    monkeypatch.setenv("RECMART_SPARK_DRIVER_MEMORY", memory)
    settings = load_settings()
    assert settings.spark_driver_memory == memory
    assert resources_for(settings)["spark"].pyspark.spark_config["spark.driver.memory"] == memory


def test_first_day_at_the_bound_loads():
    assert load_settings({"RECMART_FIRST_DAY": "2000-01-01"}).first_day.isoformat() == "2000-01-01"


def test_a_sqlite_source_in_a_missing_folder_fails_building_the_definitions(tmp_path, monkeypatch):
    monkeypatch.setenv("RECMART_SOURCE_DB", f"sqlite:///{tmp_path / 'no-such-folder' / 'source.db'}")
    with pytest.raises(SettingError, match="RECMART_SOURCE_DB=.*no-such-folder.* does not exist"):
        resources_for(load_settings())


def test_a_sqlite_source_that_is_a_folder_fails_building_the_definitions(tmp_path, monkeypatch):
    monkeypatch.setenv("RECMART_SOURCE_DB", f"sqlite:///{tmp_path}")
    with pytest.raises(SettingError, match="RECMART_SOURCE_DB=.* is a folder"):
        resources_for(load_settings())


def test_a_sqlite_source_in_an_existing_folder_loads(tmp_path, monkeypatch):
    # The file itself may not exist yet: `recmart seed` creates it.
    monkeypatch.setenv("RECMART_SOURCE_DB", f"sqlite:///{tmp_path / 'source.db'}")
    assert "source_db" in resources_for(load_settings())


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("RECMART_LAKE", "s3://my-bucket/lake", "RECMART_LAKE='s3://my-bucket/lake'"),
        ("RECMART_SOURCE_DB", "sqlite:////no/such/folder/source.db", "RECMART_SOURCE_DB='sqlite:////no/such"),
    ],
)
def test_the_code_location_refuses_to_load(tmp_path, name, value, message):
    env = {**os.environ, "RECMART_DEPLOYMENT": "local", name: value}
    proc = subprocess.run([sys.executable, "-c", "import recmart.definitions"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / "s3:").exists()
