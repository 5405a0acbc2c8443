"""raw_products[D]: the snapshot of the store's product catalog taken for day D."""


import dagster as dg

from recmart.assets.steps import table_asset, write_arrow_partition
from recmart.partitions import DAILY
from recmart.resources.lake import Lake
from recmart.resources.source_db import SourceDatabase
from recmart.source.export import export_products
from recmart.tables import RAW_PRODUCTS


@dg.asset(
    partitions_def=DAILY,
    kinds={"postgres", "parquet"},
    **table_asset(RAW_PRODUCTS, "Re-running a past day takes the catalog as it is now."),
)
def raw_products(context: dg.AssetExecutionContext, lake: Lake, source_db: SourceDatabase) -> dg.MaterializeResult:
    rows = write_arrow_partition(context, lake, RAW_PRODUCTS, export_products(source_db.engine()))
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})
