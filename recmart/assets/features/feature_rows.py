"""user_features[D], item_features[D], interaction_features[D]: feature-store rows of the day.

Written to the lake as the offline store (`features/<group table>/event_date=D/`), in the
shape of the feature groups of `recmart.features.groups` (record identifier, event time,
Integral / Fractional / String features). The step is declared in
`recmart.steps.feature_rows` (point in time: rows of D use data up to the end of D only).
"""


import dagster as dg

from recmart.assets.steps import run_step, step_deps, table_metadata
from recmart.features.groups import INTERACTION_GROUP, ITEM_GROUP, USER_GROUP
from recmart.partitions import DAILY
from recmart.resources.engine import StepEngine
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.steps.feature_rows import STEP

# Asset key -> feature group; each asset is the step output of the same name.
GROUP_ASSETS = {"user_features": USER_GROUP, "item_features": ITEM_GROUP, "interaction_features": INTERACTION_GROUP}
if {key: g.table for key, g in GROUP_ASSETS.items()} != dict(STEP.outputs):
    raise ValueError("the feature assets must be the feature_rows step's outputs, with the groups' tables")


def _spec(key: str) -> dg.AssetSpec:
    g = GROUP_ASSETS[key]
    return dg.AssetSpec(
        key,
        description=f"{g.table.doc} Feature group {g.name} (record identifier {g.record_identifier}, "
        f"event time {g.event_time_feature}).",
        deps=step_deps(STEP),
        metadata={**table_metadata(g.table), "feature_group": g.name, "features": len(g.features)},
        kinds={"sql", "parquet", "sagemaker"},
    )


@dg.multi_asset(partitions_def=DAILY, group_name="features", specs=[_spec(k) for k in GROUP_ASSETS])
def feature_rows(context: dg.AssetExecutionContext, lake: Lake, engine: StepEngine, spark: SparkStepRunner):
    metrics = run_step(context, lake, engine, spark, STEP)
    present = len(metrics["partitions_read"]["interaction_matrix"])
    for key in GROUP_ASSETS:
        yield dg.MaterializeResult(
            asset_key=key, metadata={"dagster/row_count": metrics[key], "window_days_present": present}
        )
