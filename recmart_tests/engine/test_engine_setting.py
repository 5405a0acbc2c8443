"""RECMART_ENGINE chooses the engine of the steps' SQL; a bad value fails the load, naming it."""

import subprocess
import sys

import pytest

from recmart.config import SettingError, load_settings
from recmart.deployments import local_resources


def test_the_local_default_is_duckdb_and_spark_can_be_chosen():
    assert local_resources(load_settings({}))["engine"].engine == "duckdb"
    assert local_resources(load_settings({"RECMART_ENGINE": "spark"}))["engine"].engine == "spark"


def test_a_bad_engine_fails_naming_the_variable():
    with pytest.raises(SettingError, match="RECMART_ENGINE='Spark '"):
        local_resources(load_settings({"RECMART_ENGINE": "Spark "}))


def test_a_bad_engine_fails_the_code_location_load(tmp_path):
    env = {"RECMART_ENGINE": "polars", "RECMART_LAKE": str(tmp_path / "lake"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", "import recmart.definitions"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    assert "RECMART_ENGINE='polars'" in done.stderr
