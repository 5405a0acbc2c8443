"""item_neighbours[D]: each product's top-K related products from the day's interaction scores."""


import dataclasses

import dagster as dg
from pydantic import Field

from recmart.assets.curated.interaction_scores import interaction_scores
from recmart.assets.marts import item_neighbours_job
from recmart.assets.steps import run_spark_step, spark_locations, table_metadata
from recmart.partitions import DAILY
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.tables import INTERACTION_SCORES, ITEM_NEIGHBOURS
from recmart.transforms.neighbours import NeighbourSettings

_DEFAULTS = NeighbourSettings()


class NeighbourConfig(dg.Config):
    """How many neighbours to keep and how the pair count is bounded (see transforms/neighbours.py)."""

    top_k: int = Field(_DEFAULTS.top_k, ge=1, le=500, description="neighbours kept per product")
    max_items_per_user: int = Field(
        _DEFAULTS.max_items_per_user, ge=2, le=1000,
        description="a user's best N products take part: at most N(N-1)/2 pairs per user",
    )
    shrinkage: float = Field(_DEFAULTS.shrinkage, ge=0, description="similarity x co_users / (co_users + shrinkage)")
    min_co_users: int = Field(_DEFAULTS.min_co_users, ge=1, description="pairs seen through fewer users are dropped")


@dg.asset(
    partitions_def=DAILY,
    group_name="marts",
    kinds={"spark", "parquet"},
    # The scores of D already cover the trailing window, so the neighbours of D need only them.
    deps=[interaction_scores],
    description=ITEM_NEIGHBOURS.doc,
    metadata=table_metadata(ITEM_NEIGHBOURS),
)
def item_neighbours(
    context: dg.AssetExecutionContext, config: NeighbourConfig, lake: Lake, spark: SparkStepRunner
) -> dg.MaterializeResult:
    day = context.partition_key
    metrics = run_spark_step(
        context, lake, spark, item_neighbours_job,
        outputs={"item_neighbours": ITEM_NEIGHBOURS},
        inputs={"interaction_scores": spark_locations(lake, INTERACTION_SCORES, [day])},
        params=dataclasses.asdict(NeighbourSettings(**config.model_dump())),
    )
    return dg.MaterializeResult(metadata={"dagster/row_count": metrics.pop("rows"), **metrics})
