"""daily_sales[D]: orders, units, revenue, buyers and average basket by dimension, for marketing."""


import dagster as dg

from recmart.assets.features.lake_inputs import catalogue_location
from recmart.assets.marts import daily_sales_job
from recmart.assets.raw.transactions import raw_products, raw_transactions
from recmart.assets.steps import run_spark_step, spark_locations, table_metadata
from recmart.partitions import DAILY
from recmart.resources.lake import Lake
from recmart.resources.spark import SparkStepRunner
from recmart.tables import DAILY_SALES, RAW_TRANSACTIONS

HEADLINE = ("orders", "units", "revenue", "buyers", "avg_basket", "cancelled_orders")


@dg.asset(
    partitions_def=DAILY,
    group_name="marts",
    kinds={"spark", "parquet"},
    deps=[raw_transactions, raw_products],
    description=DAILY_SALES.doc + " The materialisation carries the day's headline figures (plotted per day).",
    metadata=table_metadata(DAILY_SALES),
)
def daily_sales(context: dg.AssetExecutionContext, lake: Lake, spark: SparkStepRunner) -> dg.MaterializeResult:
    day = context.partition_key
    metrics = run_spark_step(
        context, lake, spark, daily_sales_job,
        outputs={"daily_sales": DAILY_SALES},
        inputs={
            "transactions": spark_locations(lake, RAW_TRANSACTIONS, [day]),
            "catalogue": catalogue_location(lake, day),
        },
        params={},
    )
    # Plain numbers: the UI plots numeric metadata across partitions.
    return dg.MaterializeResult(
        metadata={"dagster/row_count": metrics["rows"], **{k: metrics[k] for k in HEADLINE}}
    )
