"""The step trends[D]: curated_trending_products[D] and curated_fashion_trends[D], what rises
against its own trailing baseline; one multi-asset named after the step."""


import dagster as dg
from pydantic import Field

from recmart.assets.steps import run_step, step_deps, table_asset
from recmart.partitions import DAILY
from recmart.resources.engine import StepEngine
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.steps.trends import STEP
from recmart.tables import CURATED_FASHION_TRENDS, CURATED_TRENDING_PRODUCTS
from recmart.transforms.trends import TrendSettings

_DEFAULTS = TrendSettings()


class TrendConfig(dg.Config):
    """Baseline length, smoothing and weights of the trend score (see transforms/trends.py)."""

    baseline_days: int = Field(_DEFAULTS.baseline_days, ge=1, le=60, description="days of the trailing baseline")
    prior: float = Field(_DEFAULTS.prior, gt=0, description="additive prior of a product's trend score")
    attribute_prior: float = Field(_DEFAULTS.attribute_prior, gt=0, description="the same for attribute values")
    top_n: int = Field(_DEFAULTS.top_n, ge=1, le=1000, description="trending products kept per scope")
    view_weight: float = Field(_DEFAULTS.view_weight, ge=0)
    add_to_cart_weight: float = Field(_DEFAULTS.add_to_cart_weight, ge=0)
    purchase_weight: float = Field(_DEFAULTS.purchase_weight, ge=0)


_DEPS = step_deps(STEP)


@dg.multi_asset(
    partitions_def=DAILY,
    specs=[dg.AssetSpec(**table_asset(table), deps=_DEPS, kinds={"sql", "parquet"}) for table in STEP.outputs.values()],
)
def trends(
    context: dg.AssetExecutionContext, config: TrendConfig, lake: Lake, engine: StepEngine, spark: SparkStepRunner
):
    settings = TrendSettings(**config.model_dump())
    metrics = run_step(context, lake, engine, spark, STEP, settings)
    baseline = [k for k in metrics["partitions_read"]["interaction_matrix"] if k != context.partition_key]
    yield dg.MaterializeResult(
        asset_key=CURATED_TRENDING_PRODUCTS.asset_key,
        metadata={
            "dagster/row_count": metrics["trending_products"],
            "category_scopes": int(metrics["scopes"]["category_scopes"]),
            "baseline_days_present": len(baseline),
        },
    )
    yield dg.MaterializeResult(
        asset_key=CURATED_FASHION_TRENDS.asset_key, metadata={"dagster/row_count": metrics["fashion_trends"]}
    )
