"""The step cleaned_events[D]: curated_cleaned_events[D] and quarantine_clickstream[D] from the
raw records assigned to day D.

The step is declared in `recmart.steps.cleaned_events` (its rules, its input window of
landing days D-1 .. D+MAX_LATE_DAYS); this module makes it one multi-asset named after it.
"""

import dagster as dg

from recmart.assets.steps import numeric_metadata, run_step, step_deps, table_asset
from recmart.partitions import DAILY
from recmart.resources.engine import StepEngine
from recmart.resources.lake import Lake
from recmart.resources.privacy import PiiSalt
from recmart.resources.spark import SparkStepRunner
from recmart.steps.cleaned_events import STEP, CleanSettings
from recmart.tables import CURATED_CLEANED_EVENTS, QUARANTINE_CLICKSTREAM

_SPECS = [
    dg.AssetSpec(**table_asset(table), deps=step_deps(STEP), kinds={"sql", "parquet"})
    for table in STEP.outputs.values()
]


@dg.multi_asset(partitions_def=DAILY, specs=_SPECS)
def cleaned_events(
    context: dg.AssetExecutionContext, lake: Lake, engine: StepEngine, spark: SparkStepRunner, pii: PiiSalt
):
    metrics = run_step(context, lake, engine, spark, STEP, CleanSettings(pii_salt=pii.salt))
    by_reason = {reason: n for reason, n in metrics["quarantine_reasons"].items() if n}
    yield dg.MaterializeResult(
        asset_key=CURATED_CLEANED_EVENTS.asset_key,
        metadata={
            "dagster/row_count": metrics["cleaned_events"],
            "duplicates": metrics["cleaned_totals"]["duplicates"],
            "landing_days_read": metrics["partitions_read"]["raw_clickstream"],
        },
    )
    yield dg.MaterializeResult(
        asset_key=QUARANTINE_CLICKSTREAM.asset_key,
        metadata={
            "dagster/row_count": metrics["quarantined_events"],
            **dict(numeric_metadata({"by_reason": by_reason})),
        },
    )

