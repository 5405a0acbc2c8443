"""curated_item_neighbours[D]: each product's top-K related products from the day's interaction scores.

The step is declared in `recmart.steps.item_neighbours`; the materialisation carries its
bounded pair counts (the candidate pairs, and the bound (N-1)/2 per kept user item they obey).
"""

import dagster as dg
from pydantic import Field

from recmart.assets.steps import run_step, step_deps, table_asset
from recmart.partitions import DAILY
from recmart.resources.engine import StepEngine
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.steps.item_neighbours import STEP, NeighbourSettings
from recmart.tables import CURATED_ITEM_NEIGHBOURS

_DEFAULTS = NeighbourSettings()


class NeighbourConfig(dg.Config):
    """How many neighbours to keep and how the pair count is bounded (see steps/item_neighbours.py)."""

    top_k: int = Field(_DEFAULTS.top_k, ge=1, le=500, description="neighbours kept per product")
    max_items_per_user: int = Field(
        _DEFAULTS.max_items_per_user, ge=2, le=1000,
        description="a user's best N products take part: at most N(N-1)/2 pairs per user",
    )
    shrinkage: float = Field(_DEFAULTS.shrinkage, ge=0, description="similarity x co_users / (co_users + shrinkage)")
    min_co_users: int = Field(_DEFAULTS.min_co_users, ge=1, description="pairs seen through fewer users are dropped")


@dg.asset(
    partitions_def=DAILY,
    kinds={"sql", "parquet"},
    # The scores of D already cover the trailing window, so the neighbours of D need only them.
    deps=step_deps(STEP),
    **table_asset(CURATED_ITEM_NEIGHBOURS),
)
def curated_item_neighbours(
    context: dg.AssetExecutionContext, config: NeighbourConfig, lake: Lake, engine: StepEngine,
    spark: SparkStepRunner,
) -> dg.MaterializeResult:
    settings = NeighbourSettings(**config.model_dump())
    metrics = run_step(context, lake, engine, spark, STEP, settings)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": metrics["item_neighbours"],
            "products_with_scores": int(metrics["products"]["products_with_scores"]),
            **{k: int(v) for k, v in metrics["pairs"].items()},
            **{k: int(v) for k, v in metrics["neighbours"].items()},
        }
    )
