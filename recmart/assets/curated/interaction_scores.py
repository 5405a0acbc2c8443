"""curated_interaction_scores[D]: time-decayed implicit-feedback score over the trailing window.

The step is declared in `recmart.steps.interaction_scores`; its window follows `window_days`.
"""

import dagster as dg
from pydantic import Field

from recmart.assets.steps import run_step, step_deps, table_asset
from recmart.partitions import DAILY
from recmart.resources.engine import StepEngine
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.steps.interaction_scores import STEP
from recmart.tables import CURATED_INTERACTION_SCORES
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
    kinds={"sql", "parquet"},
    deps=step_deps(STEP),
    **table_asset(CURATED_INTERACTION_SCORES),
)
def curated_interaction_scores(
    context: dg.AssetExecutionContext, config: ScoreConfig, lake: Lake, engine: StepEngine, spark: SparkStepRunner
) -> dg.MaterializeResult:
    settings = ScoreSettings(**config.model_dump())
    if settings.window_days != _DEFAULTS.window_days:
        # The lineage states the default window; a run with another one reads what it asks for.
        context.log.warning(f"window_days={settings.window_days}: the asset graph shows {_DEFAULTS.window_days} days")
    metrics = run_step(context, lake, engine, spark, STEP, settings)
    present = metrics["partitions_read"]["interaction_matrix"]
    return dg.MaterializeResult(
        metadata={"dagster/row_count": metrics["interaction_scores"], "window_days_present": len(present)}
    )
