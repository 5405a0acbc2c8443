"""docs/capacity.md's measured part is what bench/capacity/model.py renders from the measurement
it keeps, for the steps the registry declares today."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def model():
    spec = importlib.util.spec_from_file_location("capacity_model", REPO / "bench/capacity/model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_page_is_the_rendering_of_the_kept_measurement(model):
    results = json.loads(model.RESULTS.read_text())
    assert model.page_block(model.PAGE.read_text()) == model.render(results), (
        "docs/capacity.md differs from bench/capacity/results.json: run bench/capacity/model.py --render-only")


def test_the_measurement_is_of_the_steps_declared_today(model):
    from recmart.steps.spark_job import SPARK_STEPS

    results = json.loads(model.RESULTS.read_text())
    for run in results["runs"]:
        assert set(run["spark_steps"]) == {model.op_name(s) for s in SPARK_STEPS}, "measure again: the Spark steps changed"
    assert results["windows"] == model._windows(), "measure again: a step's window changed"
    assert results["windows"]["curated_item_neighbours"] == 30  # one day of scores holds their 30-day window


def test_the_fit_and_the_month_by_hand(model):
    one_gb, three_gb = 1e9, 3e9
    results = {"cores": 2, "windows": {"a": 30},
               "runs": [{"ndjson_bytes": one_gb, "spark_steps": {"a": 10.0, "b": 5.0},
                         "partition_bytes": {"curated_interaction_matrix": 0.01e9}},
                        {"ndjson_bytes": three_gb, "spark_steps": {"a": 20.0, "b": 5.0},
                         "partition_bytes": {"curated_interaction_matrix": 0.03e9, "curated_cleaned_events": 0.3e9}}]}
    m = model.model(results)
    a, b = m["steps"]
    # a: 20 and 40 core-seconds at 1 and 3 GB: 10 fixed, 10 a GB, 300 a GB over its 30-day window.
    assert (a["fixed"], a["per_gb"], a["per_gb_full_window"]) == (10.0, 10.0, 300.0)
    assert (b["fixed"], b["per_gb"], b["window"]) == (10.0, 0.0, 1)  # all fixed cost
    assert m["core_hours"] == pytest.approx(300 * 1000 / 3600)
    assert m["glue_month"] == pytest.approx(300 * 1000 / 3600 / 4 / 0.7 * 0.44 * 30)
    assert m["emr_month"] == pytest.approx(300 * 1000 / 3600 / 0.7 * (0.052624 + 4 * 0.0057785) * 30)
    # Parquet: 10 MB and 100 MB per GB of NDJSON -> 10 and 100 GB a day at 1 TB.
    assert m["parquet_gb_day"] == pytest.approx(110.0)
    # Athena: 100 x 10 GB + 20 x 20 % x 100 GB = 1.4 TB a day, $5 a TB, 30 days.
    assert m["athena_month"] == pytest.approx(1.4 * 5 * 30)
    assert m["s3_first_month"] == pytest.approx((1000 + 110) * 30 * 0.023)
