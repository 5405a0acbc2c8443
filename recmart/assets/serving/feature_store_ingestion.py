"""feature_store_ingestion[D]: the day's feature rows put into the feature store's online store.

Reads each feature group's published lake partition of day D (the offline-store Parquet the
feature assets wrote) with pyarrow, batch by batch, and puts every row as a record of its
group; the feature store keeps the latest record per identifier by event time, so re-running
a day, or running an older day after a newer one, never makes the online store go back in
time. Groups are created first when missing. A record that could not be written fails the
run, with the counts of every group in the failure.
"""


import dagster as dg
import pyarrow.dataset as pads

from recmart.feature_groups.groups import FEATURE_GROUPS, FeatureGroupDef
from recmart.partitions import DAILY
from recmart.resources.feature_store import FeatureIngestionError, FeatureStore
from recmart.resources.lake import Lake

READ_BATCH_ROWS = 10_000


def partition_batches(lake: Lake, group: FeatureGroupDef, day: str):
    """The group table's partition of `day`, as Arrow batches of its columns."""
    location = lake.partition_location(group.table, day)
    if location is None:
        raise dg.Failure(
            description=f"{group.table.sql_name} has no partition {day}: materialise the feature rows of the day first",
            metadata={"table": group.table.sql_name, "partition": day},
        )
    fs, _ = lake.filesystem()
    dataset = pads.dataset(lake.fs_path(location), filesystem=fs, format="parquet", schema=group.table.arrow_schema())
    yield from dataset.to_batches(columns=group.table.column_names, batch_size=READ_BATCH_ROWS)


@dg.asset(
    partitions_def=DAILY,
    group_name="serving",
    deps=[dg.AssetKey(g.table.asset_key) for g in FEATURE_GROUPS],
    kinds={"sagemaker", "parquet"},
    description="The day's feature rows (user, item, interaction groups) put into the feature store's "
    "online store; the latest record per identifier wins by event time.",
    metadata={"feature_groups": [g.name for g in FEATURE_GROUPS]},
)
def feature_store_ingestion(
    context: dg.AssetExecutionContext, lake: Lake, feature_store: FeatureStore
) -> dg.MaterializeResult:
    day = context.partition_key
    groups = list(FEATURE_GROUPS)
    feature_store.ensure_groups(groups)
    metadata: dict = {}
    failed = []
    written = 0
    for group in groups:
        try:
            report = feature_store.put_batches(group, partition_batches(lake, group, day))
        except FeatureIngestionError as exc:
            report = exc.report
            failed.append(report)
        context.log.info(report.summary())
        written += report.written
        metadata |= {f"{group.name}/{name}": value for name, value in report.metadata().items()}
        metadata[f"{group.name}/seconds"] = round(report.seconds, 2)
    if failed:
        raise dg.Failure(
            description="records not written to the feature store: " + " | ".join(r.summary() for r in failed),
            metadata=metadata,
        )
    return dg.MaterializeResult(metadata={"dagster/row_count": written, **metadata})
