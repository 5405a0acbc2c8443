"""recommendation_quality[D]: how well yesterday's recommenders predicted today's interactions.

The step is declared in `recmart.steps.recommendation_quality`, which says how to read the
report (one row per recommender and day; hit rates, MRR and catalogue coverage). The check
`neighbours_beat_popularity` warns, without blocking anything, on a day the item-neighbour
recommender's HR@20 is not above popularity's.
"""

import dagster as dg

from recmart.assets.marts import recommendation_quality_job
from recmart.assets.steps import run_step, step_deps, table_metadata
from recmart.partitions import DAILY
from recmart.resources.engine import StepEngine
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.steps.recommendation_quality import RECOMMENDERS, STEP, QualitySettings
from recmart.tables import RECOMMENDATION_QUALITY

_DEFAULTS = QualitySettings()


class QualityConfig(dg.Config):
    seed_items: int = _DEFAULTS.seed_items
    global_list_slack: int = _DEFAULTS.global_list_slack


@dg.asset(
    partitions_def=DAILY,
    group_name="marts",
    kinds={"sql", "parquet"},
    # The matrix of the day judged; the scores, neighbours, trends and catalogue of the day before.
    deps=step_deps(STEP),
    description=RECOMMENDATION_QUALITY.doc,
    metadata=table_metadata(RECOMMENDATION_QUALITY),
)
def recommendation_quality(
    context: dg.AssetExecutionContext, config: QualityConfig, lake: Lake, engine: StepEngine,
    spark: SparkStepRunner,
) -> dg.MaterializeResult:
    settings = QualitySettings(**config.model_dump())
    metrics = run_step(context, lake, engine, spark, STEP, recommendation_quality_job, settings)
    # `<recommender>/<figure>`, as plain numbers (the UI plots them); a rate without users is left out.
    figures = {
        f"{name}/{k}": v for name in sorted(RECOMMENDERS) for k, v in metrics[name].items() if v is not None
    }
    return dg.MaterializeResult(
        metadata={"dagster/row_count": metrics["recommendation_quality"], **figures}
    )
