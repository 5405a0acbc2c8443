"""curated_daily_sales[D]: orders, units, revenue, buyers and average basket by dimension, for marketing.

The step is declared in `recmart.steps.daily_sales`.
"""

import dagster as dg

from recmart.assets.steps import run_step, step_deps, table_asset
from recmart.partitions import DAILY
from recmart.resources.engine import StepEngine
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.steps.daily_sales import STEP
from recmart.tables import CURATED_DAILY_SALES

HEADLINE = ("orders", "units", "revenue", "buyers", "avg_basket", "cancelled_orders")


@dg.asset(
    partitions_def=DAILY,
    kinds={"sql", "parquet"},
    deps=step_deps(STEP),
    **table_asset(CURATED_DAILY_SALES, "The materialisation carries the day's headline figures (plotted per day)."),
)
def curated_daily_sales(
    context: dg.AssetExecutionContext, lake: Lake, engine: StepEngine, spark: SparkStepRunner
) -> dg.MaterializeResult:
    metrics = run_step(context, lake, engine, spark, STEP)
    head = metrics["headline"]
    # Plain numbers: the UI plots numeric metadata across partitions.
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": metrics["daily_sales"],
            **{k: float(head[k]) if k in ("revenue", "avg_basket") else int(head[k]) for k in HEADLINE},
        }
    )
