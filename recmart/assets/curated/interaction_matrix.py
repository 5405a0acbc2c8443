"""interaction_matrix[D]: one row per (user, product) with any interaction on day D."""


import dagster as dg

from recmart.assets.curated import interaction_matrix_job

from recmart.assets.raw.transactions import raw_transactions
from recmart.assets.steps import run_spark_step, spark_locations, table_metadata
from recmart.partitions import DAILY
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.tables import CLEANED_EVENTS, INTERACTION_MATRIX, RAW_TRANSACTIONS


@dg.asset(
    partitions_def=DAILY,
    group_name="curated",
    kinds={"spark", "parquet"},
    deps=["cleaned_events", raw_transactions],
    description=INTERACTION_MATRIX.doc,
    metadata=table_metadata(INTERACTION_MATRIX),
)
def interaction_matrix(context: dg.AssetExecutionContext, lake: Lake, spark: SparkStepRunner) -> dg.MaterializeResult:
    day = context.partition_key
    metrics = run_spark_step(
        context, lake, spark, interaction_matrix_job,
        outputs={"interaction_matrix": INTERACTION_MATRIX},
        inputs={
            "cleaned_events": spark_locations(lake, CLEANED_EVENTS, [day]),
            "transactions": spark_locations(lake, RAW_TRANSACTIONS, [day]),
        },
        params={},
    )
    return dg.MaterializeResult(metadata={"dagster/row_count": metrics.pop("rows"), **metrics})

