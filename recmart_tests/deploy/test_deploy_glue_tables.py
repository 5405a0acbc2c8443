"""deploy/terraform/glue_tables.tf.json is exactly what deploy/generate_glue_tables.py writes."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from recmart.tables import TABLES
from recmart_tests.deploy.tf import REPO

GENERATOR = REPO / "deploy" / "generate_glue_tables.py"
COMMITTED = REPO / "deploy" / "terraform" / "glue_tables.tf.json"


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("generate_glue_tables", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_file_equals_the_generated_one(generator):
    assert COMMITTED.read_text(encoding="utf-8") == generator.render(), (
        "glue_tables.tf.json is out of date: run python deploy/generate_glue_tables.py"
    )


def test_check_mode_of_the_script(tmp_path):
    stale = tmp_path / "glue_tables.tf.json"
    stale.write_text("{}\n", encoding="utf-8")
    run = [sys.executable, str(GENERATOR)]
    assert subprocess.run([*run, "--check", "--output", str(stale)], capture_output=True).returncode == 1
    assert subprocess.run([*run, "--output", str(stale)], capture_output=True).returncode == 0
    assert subprocess.run([*run, "--check", "--output", str(stale)], capture_output=True).returncode == 0
    assert stale.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8")


def test_one_glue_table_per_lake_table_with_its_schema():
    tables = json.loads(COMMITTED.read_text(encoding="utf-8"))["resource"]["aws_glue_catalog_table"]
    assert sorted(tables) == sorted(t.sql_name for t in TABLES)
    for table in TABLES:
        resource = tables[table.sql_name]
        expected = table.glue_table_input("${local.lake_uri}/" + table.path)
        sd = resource["storage_descriptor"]
        assert resource["name"] == expected["Name"]
        assert resource["database_name"] == "${aws_glue_catalog_database.recmart.name}"
        assert resource["table_type"] == "EXTERNAL_TABLE"
        assert [(c["name"], c["type"]) for c in sd["columns"]] == [
            (c["Name"], c["Type"]) for c in expected["StorageDescriptor"]["Columns"]
        ]
        assert [(k["name"], k["type"]) for k in resource.get("partition_keys", [])] == [
            (k["Name"], k["Type"]) for k in expected["PartitionKeys"]
        ]
        assert sd["location"] == expected["StorageDescriptor"]["Location"]
        assert sd["ser_de_info"]["serialization_library"].endswith("ParquetHiveSerDe")


def test_literal_text_cannot_become_a_terraform_template(generator):
    assert generator.literal("cost ${x} and %{if}") == "cost $${x} and %%{if}"
    resource = generator.table_resource({
        "Name": "t", "Description": "uses ${not_a_ref}", "TableType": "EXTERNAL_TABLE", "Parameters": {},
        "PartitionKeys": [],
        "StorageDescriptor": {"Columns": [{"Name": "a", "Type": "string", "Comment": ""}],
                              "Location": "${local.lake_uri}/x", "InputFormat": "i", "OutputFormat": "o",
                              "SerdeInfo": {"SerializationLibrary": "s", "Parameters": {}}},
    })
    assert resource["description"] == "uses $${not_a_ref}"
    assert resource["storage_descriptor"]["location"] == "${local.lake_uri}/x"
    assert resource["storage_descriptor"]["columns"] == [{"name": "a", "type": "string"}]
    assert "partition_keys" not in resource
