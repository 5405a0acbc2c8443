"""The step feature_rows[D]: features_users[D], features_items[D], features_interactions[D],
the feature-store rows of the day; one multi-asset named after the step.

Written to the lake as the offline store (`features/<group table>/event_date=D/`), in the
shape of the feature groups of `recmart.feature_groups.groups` (record identifier, event time,
Integral / Fractional / String features). The step is declared in
`recmart.steps.feature_rows` (point in time: rows of D use data up to the end of D only).
"""


import dagster as dg

from recmart.assets.steps import run_step, step_deps, table_asset
from recmart.feature_groups.groups import FEATURE_GROUPS, FeatureGroupDef
from recmart.partitions import DAILY
from recmart.resources.engine import StepEngine
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.steps.feature_rows import STEP

# The step's outputs are the feature groups' tables, each the asset of its table.
if [g.table for g in FEATURE_GROUPS] != list(STEP.outputs.values()):
    raise ValueError("the feature_rows step's outputs must be the feature groups' tables, in their order")


def _spec(g: FeatureGroupDef) -> dg.AssetSpec:
    asset = table_asset(g.table, f"Feature group {g.name} (record identifier {g.record_identifier}, "
                                 f"event time {g.event_time_feature}).")
    return dg.AssetSpec(
        **(asset | {"metadata": {**asset["metadata"], "feature_group": g.name, "features": len(g.features)}}),
        deps=step_deps(STEP),
        kinds={"sql", "parquet", "sagemaker"},
    )


@dg.multi_asset(partitions_def=DAILY, specs=[_spec(g) for g in FEATURE_GROUPS])
def feature_rows(context: dg.AssetExecutionContext, lake: Lake, engine: StepEngine, spark: SparkStepRunner):
    metrics = run_step(context, lake, engine, spark, STEP)
    present = len(metrics["partitions_read"]["interaction_matrix"])
    for output, table in STEP.outputs.items():
        yield dg.MaterializeResult(
            asset_key=table.asset_key, metadata={"dagster/row_count": metrics[output], "window_days_present": present}
        )
