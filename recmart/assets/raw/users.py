"""raw_users[D]: the snapshot of the store's users taken for day D, email hashed."""


import dagster as dg

from recmart.assets.steps import table_asset, write_arrow_partition
from recmart.partitions import DAILY
from recmart.resources.lake import Lake
from recmart.resources.privacy import PiiSalt
from recmart.resources.source_db import SourceDatabase
from recmart.source.export import export_users
from recmart.tables import RAW_USERS


@dg.asset(partitions_def=DAILY, kinds={"postgres", "parquet"}, **table_asset(RAW_USERS))
def raw_users(
    context: dg.AssetExecutionContext, lake: Lake, source_db: SourceDatabase, pii: PiiSalt
) -> dg.MaterializeResult:
    rows = write_arrow_partition(context, lake, RAW_USERS, export_users(source_db.engine(), pii.salt))
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})
