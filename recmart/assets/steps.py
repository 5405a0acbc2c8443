"""What every lake-writing asset does: stage, write, publish atomically, describe.

An asset states its inputs and outputs; this module stages the outputs in run-specific
locations, has the step write them (Spark through the runner, or Arrow batches), publishes
each output partition atomically only when the whole step succeeded, and turns the step's
metrics into materialisation metadata.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from recmart.engine import duckdb as duckdb_engine
from recmart.resources.engine import StepEngine
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.schema import Table
from recmart.steps.step import Step


def column_schema(table: Table) -> dg.TableSchema:
    cols = [dg.TableColumn(c.name, c.type, description=c.doc or None) for c in table.columns]
    cols += [dg.TableColumn(p, "date", description="partition") for p in table.partition_columns]
    return dg.TableSchema(columns=cols)


def table_metadata(table: Table, lake_uri: str | None = None) -> dict:
    """Static metadata for an asset definition: schema, location, table name for SQL."""
    meta = {"dagster/column_schema": column_schema(table), "table": table.sql_name}
    if lake_uri:
        meta["location"] = dg.MetadataValue.path(f"{lake_uri}/{table.path}")
    return meta


def table_asset(table: Table, description: str = "") -> dict:
    """What the asset writing `table` takes from it, for `dg.asset` or `dg.AssetSpec`: its key
    (the table's SQL name), its group (the table's layer), its description and metadata."""
    return {
        "key": dg.AssetKey(table.asset_key),
        "group_name": table.layer,
        "description": f"{table.doc} {description}" if description else table.doc,
        "metadata": table_metadata(table),
    }


def run_spark_step(
    context: dg.AssetExecutionContext,
    lake: Lake,
    runner: SparkStepRunner,
    step: str,
    *,
    outputs: dict[str, Table],
    inputs: dict,
    params: dict,
    extra: dict | None = None,
) -> dict:
    """Run the Spark step named `step` (of `recmart.steps.spark_job.SPARK_STEPS`) for the
    context's partition and publish its outputs; its metrics."""
    key = context.partition_key
    staging = {name: lake.new_staging(t, key, context.run_id) for name, t in outputs.items()}
    spec = {
        "step": step,
        "partition": key,
        "inputs": inputs,
        "outputs": {name: lake.spark_uri_of(uri) for name, uri in staging.items()},
        "params": params,
        **(extra or {}),
    }
    metrics = runner.run_step(context, step, spec)
    # Publish only after the whole step succeeded: a failed run leaves the previous version.
    for name, table in outputs.items():
        lake.publish(table, key, staging[name])
    return metrics


def step_deps(step: Step) -> list[dg.AssetDep]:
    """The asset dependencies of a step, with the partition windows its inputs declare."""
    deps = []
    for inp in step.inputs.values():
        days = inp.window_days(step.default_settings())
        mapping = dg.TimeWindowPartitionMapping(
            start_offset=inp.end_offset - (days - 1), end_offset=inp.end_offset,
            allow_nonexistent_upstream_partitions=True,
        )
        deps.append(dg.AssetDep(dg.AssetKey(inp.table.asset_key), partition_mapping=mapping))
    return deps


def run_step(
    context: dg.AssetExecutionContext,
    lake: Lake,
    engine: StepEngine,
    runner: SparkStepRunner,
    step: Step,
    settings=None,
) -> dict:
    """Run a registered step for the context's partition on the chosen engine, publish its
    outputs once the whole step succeeded; its metrics, and under `partitions_read` the keys
    of each input's partitions that existed."""
    key = context.partition_key
    locations = {}
    for name, inp in step.inputs.items():
        keys = inp.keys(key, settings or step.default_settings())
        found = (lake.subpartition_locations(inp.table, keys, key) if inp.subpartition
                 else lake.partition_locations(inp.table, keys))
        locations[name] = {max(found): found[max(found)]} if inp.newest_only and found else found
    read = {"partitions_read": {name: sorted(locs) for name, locs in locations.items()}}
    params = step.params(key, settings)
    if engine.engine == "spark":
        return read | run_spark_step(
            context, lake, runner, step.name,
            outputs=dict(step.outputs),
            inputs={n: {k: lake.spark_uri_of(u) for k, u in locs.items()} for n, locs in locations.items()},
            params={k: v for k, v in params.items() if k != "day"},  # the spec's partition is the day
        )
    context.log.info(f"running step {step.name} on DuckDB")
    staging = {name: lake.new_staging(t, key, context.run_id) for name, t in step.outputs.items()}
    metrics = duckdb_engine.run(
        duckdb_engine.connect(engine.duckdb_memory_limit),
        step.transform,
        {n: (inp.table, {k: lake.fs_path(u) for k, u in locations[n].items()}) for n, inp in step.inputs.items()},
        {n: (t, lake.fs_path(staging[n])) for n, t in step.outputs.items()},
        params,
        step.metric_queries,
    )
    # Publish only after the whole step succeeded: a failed run leaves the previous version.
    for name, table in step.outputs.items():
        lake.publish(table, key, staging[name])
    return read | metrics


def spark_locations(lake: Lake, table: Table, keys: list[str]) -> dict[str, str]:
    """{partition key: location as Spark spells it} of the published partitions among `keys`."""
    return {k: lake.spark_uri_of(u) for k, u in lake.partition_locations(table, keys).items()}


def write_arrow_partition(
    context: dg.AssetExecutionContext, lake: Lake, table: Table, batches: Iterable[pa.RecordBatch]
) -> int:
    """Stream record batches into one Parquet file of a new partition version; rows written."""
    key = context.partition_key
    staging = lake.new_staging(table, key, context.run_id)
    fs, _ = lake.filesystem()
    schema = table.arrow_schema()
    rows = 0
    fs.create_dir(lake.fs_path(staging), recursive=True)
    with fs.open_output_stream(f"{lake.fs_path(staging)}/part-00000.parquet") as sink:
        with pq.ParquetWriter(sink, schema, compression="snappy") as writer:
            for batch in batches:
                writer.write_batch(batch.cast(schema) if batch.schema != schema else batch)
                rows += batch.num_rows
    lake.publish(table, key, staging)
    return rows


def numeric_metadata(metrics: dict, prefix: str = "") -> Iterator[tuple[str, int | float]]:
    """Flatten step metrics into metadata entries (numbers are plotted by the UI)."""
    for name, value in metrics.items():
        if isinstance(value, dict):
            yield from numeric_metadata(value, f"{prefix}{name}/")
        elif isinstance(value, (int, float)):
            yield f"{prefix}{name}", value
