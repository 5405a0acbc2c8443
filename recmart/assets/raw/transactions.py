"""raw_transactions[D]: the nightly export of the orders created on day D, from the store's database."""


import datetime as dt

import dagster as dg

from recmart.assets.steps import table_asset, write_arrow_partition
from recmart.partitions import DAILY
from recmart.resources.lake import Lake
from recmart.resources.source_db import SourceDatabase
from recmart.source.export import export_transactions
from recmart.tables import RAW_TRANSACTIONS


@dg.asset(partitions_def=DAILY, kinds={"postgres", "parquet"}, **table_asset(RAW_TRANSACTIONS))
def raw_transactions(context: dg.AssetExecutionContext, lake: Lake, source_db: SourceDatabase) -> dg.MaterializeResult:
    day = dt.date.fromisoformat(context.partition_key)
    rows = write_arrow_partition(context, lake, RAW_TRANSACTIONS, export_transactions(source_db.engine(), day))
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})
