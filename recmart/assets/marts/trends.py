"""trending_products[D] and fashion_trends[D]: what rises against its own trailing baseline."""


import dataclasses

import dagster as dg
from pydantic import Field

from recmart.assets.curated.interaction_matrix import interaction_matrix
from recmart.assets.features.lake_inputs import catalogue_location, trailing, window_keys
from recmart.assets.marts import trends_job
from recmart.assets.raw.transactions import raw_products
from recmart.assets.steps import run_spark_step, spark_locations, table_metadata
from recmart.partitions import DAILY
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.tables import FASHION_TRENDS, INTERACTION_MATRIX, TRENDING_PRODUCTS
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


_MATRIX_WINDOW = dg.AssetDep(interaction_matrix, partition_mapping=trailing(_DEFAULTS.baseline_days + 1))


@dg.multi_asset(
    partitions_def=DAILY,
    group_name="marts",
    specs=[
        dg.AssetSpec(
            "trending_products", description=TRENDING_PRODUCTS.doc, deps=[_MATRIX_WINDOW, raw_products],
            metadata=table_metadata(TRENDING_PRODUCTS), kinds={"spark", "parquet"},
        ),
        dg.AssetSpec(
            "fashion_trends", description=FASHION_TRENDS.doc, deps=[_MATRIX_WINDOW, raw_products],
            metadata=table_metadata(FASHION_TRENDS), kinds={"spark", "parquet"},
        ),
    ],
)
def trend_marts(context: dg.AssetExecutionContext, config: TrendConfig, lake: Lake, spark: SparkStepRunner):
    day = context.partition_key
    settings = TrendSettings(**config.model_dump())
    metrics = run_spark_step(
        context, lake, spark, trends_job,
        outputs={"trending_products": TRENDING_PRODUCTS, "fashion_trends": FASHION_TRENDS},
        inputs={
            "interaction_matrix": spark_locations(lake, INTERACTION_MATRIX, window_keys(day, settings.baseline_days + 1)),
            "catalogue": catalogue_location(lake, day),
        },
        params=dataclasses.asdict(settings),
    )
    yield dg.MaterializeResult(
        asset_key="trending_products",
        metadata={
            "dagster/row_count": metrics["trending_rows"],
            "category_scopes": metrics["category_scopes"],
            "baseline_days_present": metrics["baseline_days_present"],
        },
    )
    yield dg.MaterializeResult(asset_key="fashion_trends", metadata={"dagster/row_count": metrics["fashion_rows"]})
