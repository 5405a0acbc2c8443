"""interaction_scores[D]: time-decayed implicit-feedback score over the trailing window."""


import dataclasses
import datetime as dt

import dagster as dg

from recmart.assets.curated import interaction_scores_job
from pydantic import Field

from recmart.assets.curated.interaction_matrix import interaction_matrix
from recmart.assets.steps import run_spark_step, spark_locations, table_metadata
from recmart.partitions import DAILY
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.tables import INTERACTION_MATRIX, INTERACTION_SCORES
from recmart.transforms.scores import ScoreSettings

_DEFAULTS = ScoreSettings()


class ScoreConfig(dg.Config):
    """Weights, half-life and window of the score (defaults documented in README)."""

    window_days: int = Field(_DEFAULTS.window_days, ge=1, le=365, description="days in the trailing window")
    half_life_days: float = Field(_DEFAULTS.half_life_days, gt=0, description="a signal halves every N days")
    view_weight: float = _DEFAULTS.view_weight
    add_to_cart_weight: float = _DEFAULTS.add_to_cart_weight
    remove_from_cart_weight: float = _DEFAULTS.remove_from_cart_weight
    purchase_weight: float = _DEFAULTS.purchase_weight


@dg.asset(
    partitions_def=DAILY,
    group_name="curated",
    kinds={"spark", "parquet"},
    deps=[
        dg.AssetDep(
            interaction_matrix,
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-(_DEFAULTS.window_days - 1), end_offset=0, allow_nonexistent_upstream_partitions=True
            ),
        )
    ],
    description=INTERACTION_SCORES.doc,
    metadata=table_metadata(INTERACTION_SCORES),
)
def interaction_scores(
    context: dg.AssetExecutionContext, config: ScoreConfig, lake: Lake, spark: SparkStepRunner
) -> dg.MaterializeResult:
    day = dt.date.fromisoformat(context.partition_key)
    window = [(day - dt.timedelta(days=k)).isoformat() for k in range(config.window_days)]
    params = dataclasses.asdict(ScoreSettings(**config.model_dump()))
    metrics = run_spark_step(
        context, lake, spark, interaction_scores_job,
        outputs={"interaction_scores": INTERACTION_SCORES},
        inputs={"interaction_matrix": spark_locations(lake, INTERACTION_MATRIX, window)},
        params=params,
    )
    return dg.MaterializeResult(
        metadata={"dagster/row_count": metrics["rows"], "window_days_present": metrics["window_days_present"]}
    )
