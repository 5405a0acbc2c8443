"""user_features[D], item_features[D], interaction_features[D]: feature-store rows of the day.

Written to the lake as the offline store (`features/<group table>/event_date=D/`), in the
shape of the feature groups of `recmart.features.groups` (record identifier, event time,
Integral / Fractional / String features). Point in time: rows of D use data up to the end
of D only (see `recmart.transforms.features`).
"""


import dagster as dg

from recmart.assets.curated.interaction_matrix import interaction_matrix
from recmart.assets.curated.interaction_scores import interaction_scores
from recmart.assets.features import feature_rows_job
from recmart.assets.features.lake_inputs import catalogue_location, trailing, window_keys
from recmart.assets.raw.transactions import raw_products
from recmart.assets.steps import run_spark_step, spark_locations, table_metadata
from recmart.features.groups import INTERACTION_GROUP, ITEM_GROUP, USER_GROUP
from recmart.partitions import DAILY
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.tables import INTERACTION_MATRIX, INTERACTION_SCORES
from recmart.transforms.features import WINDOW_DAYS

_WINDOW = dg.AssetDep(interaction_matrix, partition_mapping=trailing(WINDOW_DAYS))
_DEPS = [_WINDOW, interaction_scores, raw_products]
GROUP_ASSETS = {"user_features": USER_GROUP, "item_features": ITEM_GROUP, "interaction_features": INTERACTION_GROUP}


def _spec(key: str) -> dg.AssetSpec:
    g = GROUP_ASSETS[key]
    return dg.AssetSpec(
        key,
        description=f"{g.table.doc} Feature group {g.name} (record identifier {g.record_identifier}, "
        f"event time {g.event_time_feature}).",
        deps=_DEPS,
        metadata={**table_metadata(g.table), "feature_group": g.name, "features": len(g.features)},
        kinds={"spark", "parquet", "sagemaker"},
    )


@dg.multi_asset(partitions_def=DAILY, group_name="features", specs=[_spec(k) for k in GROUP_ASSETS])
def feature_rows(context: dg.AssetExecutionContext, lake: Lake, spark: SparkStepRunner):
    day = context.partition_key
    metrics = run_spark_step(
        context, lake, spark, feature_rows_job,
        outputs={key: g.table for key, g in GROUP_ASSETS.items()},
        inputs={
            "interaction_matrix": spark_locations(lake, INTERACTION_MATRIX, window_keys(day, WINDOW_DAYS)),
            "interaction_scores": spark_locations(lake, INTERACTION_SCORES, [day]),
            "catalogue": catalogue_location(lake, day),
        },
        params={},
    )
    for key, rows in (("user_features", "user_rows"), ("item_features", "item_rows"),
                      ("interaction_features", "interaction_rows")):
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={"dagster/row_count": metrics[rows], "window_days_present": metrics["window_days_present"]},
        )
