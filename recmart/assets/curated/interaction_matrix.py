"""interaction_matrix[D]: one row per (user, product) with any interaction on day D.

The step (inputs, transform, metrics) is declared in `recmart.steps.interaction_matrix`.
"""

import dagster as dg

from recmart.assets.steps import run_step, step_deps, table_metadata
from recmart.partitions import DAILY
from recmart.resources.engine import StepEngine
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.steps.interaction_matrix import STEP
from recmart.tables import INTERACTION_MATRIX


@dg.asset(
    partitions_def=DAILY,
    group_name="curated",
    kinds={"sql", "parquet"},
    deps=step_deps(STEP),
    description=INTERACTION_MATRIX.doc,
    metadata=table_metadata(INTERACTION_MATRIX),
)
def interaction_matrix(
    context: dg.AssetExecutionContext, lake: Lake, engine: StepEngine, spark: SparkStepRunner
) -> dg.MaterializeResult:
    metrics = run_step(context, lake, engine, spark, STEP)
    totals = {k: int(v or 0) for k, v in metrics["totals"].items() if k != "rows"}
    return dg.MaterializeResult(metadata={"dagster/row_count": metrics["interaction_matrix"], **totals})
