"""cleaned_events[D] and quarantined_events[D] from the raw records assigned to day D.

The step is declared in `recmart.steps.cleaned_events` (its rules, its input window of
landing days D-1 .. D+MAX_LATE_DAYS); this module makes it two assets.
"""

import dagster as dg

from recmart.assets.steps import numeric_metadata, run_step, step_deps, table_metadata
from recmart.partitions import DAILY
from recmart.resources.engine import StepEngine
from recmart.resources.lake import Lake
from recmart.resources.privacy import PiiSalt
from recmart.resources.spark import SparkStepRunner
from recmart.steps.cleaned_events import STEP, CleanSettings

_SPECS = [
    dg.AssetSpec(name, description=table.doc, deps=step_deps(STEP), metadata=table_metadata(table),
                 kinds={"sql", "parquet"})
    for name, table in STEP.outputs.items()
]


@dg.multi_asset(partitions_def=DAILY, group_name="curated", specs=_SPECS)
def cleaned_events(
    context: dg.AssetExecutionContext, lake: Lake, engine: StepEngine, spark: SparkStepRunner, pii: PiiSalt
):
    metrics = run_step(context, lake, engine, spark, STEP, CleanSettings(pii_salt=pii.salt))
    by_reason = {reason: n for reason, n in metrics["quarantine_reasons"].items() if n}
    yield dg.MaterializeResult(
        asset_key="cleaned_events",
        metadata={
            "dagster/row_count": metrics["cleaned_events"],
            "duplicates": metrics["cleaned_totals"]["duplicates"],
            "landing_days_read": metrics["partitions_read"]["raw_clickstream"],
        },
    )
    yield dg.MaterializeResult(
        asset_key="quarantined_events",
        metadata={
            "dagster/row_count": metrics["quarantined_events"],
            **dict(numeric_metadata({"by_reason": by_reason})),
        },
    )

