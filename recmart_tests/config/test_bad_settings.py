"""Settings fail at start naming the setting; the defaults are the local deployment."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from recmart.config import SettingError, load_settings


@pytest.mark.parametrize(
    "env, named",
    [
        ({"RECMART_DEPLOYMENT": "cloud"}, "RECMART_DEPLOYMENT"),
        ({"RECMART_SOURCE_DB": "not a url"}, "RECMART_SOURCE_DB"),
        ({"RECMART_SOURCE_DB": "mysql://x@y/z"}, "RECMART_SOURCE_DB"),
        ({"RECMART_LAKE": "http://example.invalid/lake"}, "RECMART_LAKE"),
        ({"RECMART_LAKE": "s3://Bad_Bucket"}, "RECMART_LAKE"),
        ({"RECMART_DEPLOYMENT": "aws", "RECMART_LAKE": "./lake"}, "RECMART_LAKE"),
        ({"RECMART_FIRST_DAY": "yesterday"}, "RECMART_FIRST_DAY"),
        ({"RECMART_EXECUTOR": "threads"}, "RECMART_EXECUTOR"),
    ],
)
def test_bad_settings_fail_naming_the_setting(env, named):
    with pytest.raises(SettingError, match=named):
        load_settings(env)


def test_defaults_are_the_local_deployment():
    s = load_settings({})
    assert (s.deployment, s.lake, s.source_db) == ("local", ".recmart/lake", "sqlite:///.recmart/source.db")


def test_code_location_refuses_to_load_with_a_bad_setting(tmp_path):
    env = {**os.environ, "RECMART_DEPLOYMENT": "cloud"}
    proc = subprocess.run([sys.executable, "-c", "import recmart.definitions"], env=env, cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "RECMART_DEPLOYMENT='cloud' is not one of local, aws" in proc.stderr
