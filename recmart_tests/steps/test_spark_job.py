"""The one Spark entry point runs any Spark step by the name its spec carries."""

import pytest

from recmart.steps import REGISTRY, spark_job


def test_every_declared_step_and_landing_is_a_spark_step():
    assert set(spark_job.SPARK_STEPS) == {"raw_clickstream", *REGISTRY}
    assert list(spark_job.SPARK_STEPS) == sorted(spark_job.SPARK_STEPS)


@pytest.mark.parametrize("spec", [{"step": "cleaned_event"}, {"step": None}, {}])
def test_a_spec_naming_no_known_step_fails_naming_it(spec):
    with pytest.raises(ValueError, match=rf"unknown Spark step {spec.get('step')!r}.*cleaned_events"):
        spark_job.run(None, spec)


def test_the_spark_driver_imports_neither_dagster_nor_boto3():
    """Glue and EMR drivers get the package zip and dagster_pipes only: the entry point and every
    step it runs must import without Dagster (and without boto3 unless Pipes talks to S3)."""
    import subprocess
    import sys

    probe = ("import sys, recmart.steps.spark_job, recmart.engine.spark_ingest, recmart.engine.spark; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'dagster', 'boto3', 'dagster_aws'}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
