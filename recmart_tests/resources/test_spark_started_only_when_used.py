"""A run on the DuckDB engine never starts Spark: the local session is made at the first Spark
step, so the fixed cost of a JVM (about 13 s on this machine) is paid only by the Spark engine."""

from __future__ import annotations

import subprocess
import sys
import textwrap

_RUN = textwrap.dedent("""
    import sys
    from pathlib import Path

    import dagster as dg
    from pyspark import SparkContext

    from recmart.config import load_settings
    from recmart.definitions import build_definitions
    from recmart.deployments import local_resources
    from recmart_tests.store_builder import D, build_store

    root = Path(sys.argv[1])
    source = f"sqlite:///{root / 'source.db'}"
    build_store(root / "lake", source)
    # The local deployment's own resources, as `recmart materialize` and the UI get them.
    defs = build_definitions(local_resources(load_settings({
        "RECMART_ENGINE": "duckdb", "RECMART_LAKE": str(root / "lake"), "RECMART_SOURCE_DB": source,
        "RECMART_RECS_STORE": f"sqlite:///{root / 'recommendations.sqlite'}"})))
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection={dg.AssetKey("raw_clickstream"), dg.AssetKey("curated_cleaned_events"),
                         dg.AssetKey("quarantine_clickstream")})
    assert job.execute_in_process(partition_key=D, instance=dg.DagsterInstance.ephemeral()).success
    print("spark started:", SparkContext._active_spark_context is not None)
""")


def test_a_duckdb_run_of_steps_that_can_run_on_spark_starts_no_spark_session(tmp_path):
    done = subprocess.run([sys.executable, "-c", _RUN, str(tmp_path)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "spark started: False"
