"""The nightly export from the store's database: raw transactions[D] and catalog/user snapshots."""


import datetime as dt

import dagster as dg

from recmart.assets.steps import table_metadata, write_arrow_partition
from recmart.partitions import DAILY
from recmart.resources.lake import Lake
from recmart.resources.privacy import PiiSalt
from recmart.resources.source_db import SourceDatabase
from recmart.source.export import export_products, export_transactions, export_users
from recmart.tables import RAW_PRODUCTS, RAW_TRANSACTIONS, RAW_USERS


@dg.asset(
    partitions_def=DAILY,
    group_name="raw",
    kinds={"postgres", "parquet"},
    description=RAW_TRANSACTIONS.doc,
    metadata=table_metadata(RAW_TRANSACTIONS),
)
def raw_transactions(context: dg.AssetExecutionContext, lake: Lake, source_db: SourceDatabase) -> dg.MaterializeResult:
    day = dt.date.fromisoformat(context.partition_key)
    rows = write_arrow_partition(context, lake, RAW_TRANSACTIONS, export_transactions(source_db.engine(), day))
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


@dg.asset(
    partitions_def=DAILY,
    group_name="raw",
    kinds={"postgres", "parquet"},
    description=RAW_PRODUCTS.doc + " Re-running a past day takes the catalog as it is now.",
    metadata=table_metadata(RAW_PRODUCTS),
)
def raw_products(context: dg.AssetExecutionContext, lake: Lake, source_db: SourceDatabase) -> dg.MaterializeResult:
    rows = write_arrow_partition(context, lake, RAW_PRODUCTS, export_products(source_db.engine()))
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


@dg.asset(
    partitions_def=DAILY,
    group_name="raw",
    kinds={"postgres", "parquet"},
    description=RAW_USERS.doc,
    metadata=table_metadata(RAW_USERS),
)
def raw_users(
    context: dg.AssetExecutionContext, lake: Lake, source_db: SourceDatabase, pii: PiiSalt
) -> dg.MaterializeResult:
    rows = write_arrow_partition(context, lake, RAW_USERS, export_users(source_db.engine(), pii.salt))
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})
