"""curated_interaction_matrix[D]: one row per (user, product) with any interaction on day D.

The step (inputs, transform, metrics) is declared in `recmart.steps.interaction_matrix`.
"""

import dagster as dg

from recmart.assets.steps import run_step, step_deps, table_asset
from recmart.partitions import DAILY
from recmart.resources.engine import StepEngine
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.steps.interaction_matrix import STEP
from recmart.tables import CURATED_INTERACTION_MATRIX


@dg.asset(
    partitions_def=DAILY,
    kinds={"sql", "parquet"},
    deps=step_deps(STEP),
    **table_asset(CURATED_INTERACTION_MATRIX),
)
def curated_interaction_matrix(
    context: dg.AssetExecutionContext, lake: Lake, engine: StepEngine, spark: SparkStepRunner
) -> dg.MaterializeResult:
    metrics = run_step(context, lake, engine, spark, STEP)
    totals = {k: int(v or 0) for k, v in metrics["totals"].items() if k != "rows"}
    return dg.MaterializeResult(metadata={"dagster/row_count": metrics["interaction_matrix"], **totals})
