"""recommendation_quality[D]: how well yesterday's recommenders predicted today's interactions.

How to read it: see `recmart.transforms.quality` (one row per recommender and day; hit rates,
MRR and catalogue coverage). The check `neighbours_beat_popularity` warns, without blocking
anything, on a day the item-neighbour recommender's HR@20 is not above popularity's.
"""


import dataclasses

import dagster as dg

from recmart.assets.curated.interaction_matrix import interaction_matrix
from recmart.assets.curated.interaction_scores import interaction_scores
from recmart.assets.features.lake_inputs import catalogue_location, trailing, window_keys
from recmart.assets.marts import recommendation_quality_job
from recmart.assets.marts.item_neighbours import item_neighbours
from recmart.assets.raw.transactions import raw_products
from recmart.assets.steps import run_spark_step, spark_locations, table_metadata
from recmart.partitions import DAILY
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.tables import (
    INTERACTION_MATRIX, INTERACTION_SCORES, ITEM_NEIGHBOURS, RECOMMENDATION_QUALITY, TRENDING_PRODUCTS,
)
from recmart.transforms.quality import QualitySettings

_DEFAULTS = QualitySettings()
_DAY_BEFORE = trailing(1, end_offset=-1)


class QualityConfig(dg.Config):
    seed_items: int = _DEFAULTS.seed_items
    global_list_slack: int = _DEFAULTS.global_list_slack


@dg.asset(
    partitions_def=DAILY,
    group_name="marts",
    kinds={"spark", "parquet"},
    deps=[
        interaction_matrix,  # the day judged
        dg.AssetDep(interaction_scores, partition_mapping=_DAY_BEFORE),  # what was known the day before
        dg.AssetDep(item_neighbours, partition_mapping=_DAY_BEFORE),
        dg.AssetDep("trending_products", partition_mapping=_DAY_BEFORE),
        dg.AssetDep(raw_products, partition_mapping=_DAY_BEFORE),
    ],
    description=RECOMMENDATION_QUALITY.doc,
    metadata=table_metadata(RECOMMENDATION_QUALITY),
)
def recommendation_quality(
    context: dg.AssetExecutionContext, config: QualityConfig, lake: Lake, spark: SparkStepRunner
) -> dg.MaterializeResult:
    day = context.partition_key
    before = window_keys(day, 1, end_offset=-1)
    catalogue = catalogue_location(lake, before[0]) or catalogue_location(lake, day)
    metrics = run_spark_step(
        context, lake, spark, recommendation_quality_job,
        outputs={"recommendation_quality": RECOMMENDATION_QUALITY},
        inputs={
            "interaction_matrix": spark_locations(lake, INTERACTION_MATRIX, [day]),
            "interaction_scores": spark_locations(lake, INTERACTION_SCORES, before),
            "item_neighbours": spark_locations(lake, ITEM_NEIGHBOURS, before),
            "trending_products": spark_locations(lake, TRENDING_PRODUCTS, before),
            "catalogue": catalogue,
        },
        params=dataclasses.asdict(QualitySettings(**config.model_dump())),
    )
    return dg.MaterializeResult(metadata={"dagster/row_count": metrics.pop("rows"), **metrics})
