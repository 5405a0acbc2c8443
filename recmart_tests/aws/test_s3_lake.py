"""The S3 lake against moto's S3 server: atomic publication through a pointer object, the
previous version readable while a new one is staged or after a killed write, clearing,
the catalog told of every change, and landing listings across S3 result pages."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recmart.assets.steps import write_arrow_partition
from recmart.automation.landing_cursor import LandingCursor, scan
from recmart.aws.lake import S3Lake
from recmart.resources.catalog import PartitionCatalog
from recmart.tables import CURATED_INTERACTION_MATRIX, RAW_CLICKSTREAM, RAW_TRANSACTIONS

DAY = "2026-11-20"
PART = f"lake/curated/interaction_matrix/event_date={DAY}"


class RecordingCatalog(PartitionCatalog):
    """A catalog that remembers what it was told (in a class-level list: resources are frozen)."""

    calls: list = []

    def register_partition(self, table, key, location):
        RecordingCatalog.calls.append(("register", table.sql_name, key, location))

    def drop_partition(self, table, key):
        RecordingCatalog.calls.append(("drop", table.sql_name, key))


@pytest.fixture()
def lake(aws, bucket):
    RecordingCatalog.calls = []
    return S3Lake(root=f"s3://{bucket}/lake", endpoint_url=aws, catalog=RecordingCatalog())


def stage(lake: S3Lake, rows: list[int], run_id: str = "run1", table=CURATED_INTERACTION_MATRIX, key=DAY) -> str:
    """Write a partition version the way a step does, without publishing it."""
    staging = lake.new_staging(table, key, run_id)
    fs, _ = lake.filesystem()
    pq.write_table(pa.table({"n": rows}), f"{lake.fs_path(staging)}/part-00000.parquet", filesystem=fs)
    return staging


def read(lake: S3Lake, table=CURATED_INTERACTION_MATRIX, key=DAY) -> list[int] | None:
    loc = lake.partition_location(table, key)
    if loc is None:
        return None
    fs, _ = lake.filesystem()
    return sorted(pq.read_table(lake.fs_path(loc), filesystem=fs).column("n").to_pylist())


def keys(s3, bucket: str, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for p in pages for o in p.get("Contents", []))


def test_locations_for_pyarrow_and_spark(lake, bucket):
    assert lake.uri() == f"s3://{bucket}/lake"
    assert lake.uri("raw/x") == f"s3://{bucket}/lake/raw/x"
    assert lake.spark_uri("raw/x") == f"s3a://{bucket}/lake/raw/x"
    assert lake.spark_uri_of(f"s3://{bucket}/lake/a/b") == f"s3a://{bucket}/lake/a/b"
    assert S3Lake(root=f"s3://{bucket}/lake", spark_scheme="s3").spark_uri("a") == f"s3://{bucket}/lake/a"
    assert lake.fs_path(f"s3://{bucket}/lake/a") == f"{bucket}/lake/a"
    assert lake.filesystem()[1] == f"{bucket}/lake"
    staging = lake.new_staging(CURATED_INTERACTION_MATRIX, DAY, "r-1")
    assert staging.startswith(f"s3://{bucket}/{PART}/_runs/r-1.")
    with pytest.raises(ValueError):
        S3Lake(root="/not/s3")


def test_publish_replace_and_clear_one_partition(lake, s3, bucket):
    assert lake.partition_location(CURATED_INTERACTION_MATRIX, DAY) is None

    first = stage(lake, [1, 2, 3], "run1")
    lake.publish(CURATED_INTERACTION_MATRIX, DAY, first)
    assert lake.partition_location(CURATED_INTERACTION_MATRIX, DAY) == first
    assert read(lake) == [1, 2, 3]
    pointer = json.loads(s3.get_object(Bucket=bucket, Key=f"{PART}/_current.json")["Body"].read())
    assert pointer["version"] == first.rsplit("/", 1)[-1] and pointer["previous"] is None

    second = stage(lake, [4, 5], "run2")
    lake.publish(CURATED_INTERACTION_MATRIX, DAY, second)
    assert read(lake) == [4, 5]
    # The replaced version stays until the next publish: a reader that resolved it just
    # before the switch can finish reading it.
    assert set(lake.versions(CURATED_INTERACTION_MATRIX, DAY)) == {first.rsplit("/", 1)[-1], second.rsplit("/", 1)[-1]}

    third = stage(lake, [6], "run3")
    lake.publish(CURATED_INTERACTION_MATRIX, DAY, third)
    assert read(lake) == [6]
    assert set(lake.versions(CURATED_INTERACTION_MATRIX, DAY)) == {second.rsplit("/", 1)[-1], third.rsplit("/", 1)[-1]}

    lake.clear(CURATED_INTERACTION_MATRIX, DAY)
    assert lake.partition_location(CURATED_INTERACTION_MATRIX, DAY) is None
    assert keys(s3, bucket, PART) == []

    table = CURATED_INTERACTION_MATRIX.sql_name
    assert RecordingCatalog.calls == [
        ("register", table, DAY, first), ("register", table, DAY, second), ("register", table, DAY, third),
        ("drop", table, DAY),
    ]


def test_previous_version_is_read_while_a_new_one_is_staged(lake):
    lake.publish(CURATED_INTERACTION_MATRIX, DAY, stage(lake, [1, 2], "old"))
    staging = stage(lake, [7, 8, 9], "new")
    # The new files are on S3 already, but nobody is pointed at them.
    assert read(lake) == [1, 2]
    assert lake.partition_location(CURATED_INTERACTION_MATRIX, DAY) != staging
    lake.publish(CURATED_INTERACTION_MATRIX, DAY, staging)
    assert read(lake) == [7, 8, 9]


def test_a_killed_write_leaves_the_old_pointer_and_its_leftovers_are_swept_later(lake, s3, bucket):
    lake.publish(CURATED_INTERACTION_MATRIX, DAY, stage(lake, [1], "good"))
    # A run dies half-way: some files written, never published.
    killed = stage(lake, [666], "killed")
    fs, _ = lake.filesystem()
    with fs.open_output_stream(f"{lake.fs_path(killed)}/part-00001.parquet") as out:
        out.write(b"PAR1 truncated")
    assert read(lake) == [1]

    # A run still writing must not be swept by another run's publish: young leftovers stay...
    lake.publish(CURATED_INTERACTION_MATRIX, DAY, stage(lake, [2], "next"))
    assert read(lake) == [2]
    killed_version = killed.rsplit("/", 1)[-1]
    assert killed_version in lake.versions(CURATED_INTERACTION_MATRIX, DAY)

    # ...and once older than the grace period they go at the next publish.
    patient = S3Lake(root=lake.root, endpoint_url=lake.endpoint_url, stale_staging_hours=0)
    patient.publish(CURATED_INTERACTION_MATRIX, DAY, stage(patient, [3], "later"))
    assert read(lake) == [3]
    assert killed_version not in lake.versions(CURATED_INTERACTION_MATRIX, DAY)


def test_publishing_a_location_of_another_partition_is_refused(lake):
    staging = stage(lake, [1], key="2026-11-21")
    with pytest.raises(ValueError, match="not a staging location"):
        lake.publish(CURATED_INTERACTION_MATRIX, DAY, staging)
    with pytest.raises(ValueError, match="not a staging location"):
        lake.publish(CURATED_INTERACTION_MATRIX, DAY, lake.uri(PART))


def test_a_step_that_wrote_nothing_publishes_an_empty_partition(lake):
    staging = lake.new_staging(CURATED_INTERACTION_MATRIX, DAY, "empty")
    lake.publish(CURATED_INTERACTION_MATRIX, DAY, staging)
    loc = lake.partition_location(CURATED_INTERACTION_MATRIX, DAY)
    fs, _ = lake.filesystem()
    assert fs.get_file_info(lake.fs_path(loc)).type.name == "Directory"
    assert pq.ParquetDataset(lake.fs_path(loc), filesystem=fs).read().num_rows == 0


def test_success_markers_are_not_published(lake, s3, bucket):
    staging = stage(lake, [1], "spark")
    s3.put_object(Bucket=bucket, Key=f"{lake.fs_path(staging).split('/', 1)[1]}/_SUCCESS", Body=b"")
    lake.publish(CURATED_INTERACTION_MATRIX, DAY, staging)
    assert not [k for k in keys(s3, bucket, PART) if k.endswith("_SUCCESS")]


def test_an_arrow_writing_asset_publishes_through_the_lake(lake):
    context = SimpleNamespace(partition_key=DAY, run_id="arrow-run")
    schema = RAW_TRANSACTIONS.arrow_schema()
    batch = pa.record_batch(
        [pa.array(["o1"]), pa.array(["u1"]), pa.array([dt.datetime(2026, 11, 20, 14, tzinfo=dt.timezone.utc)]),
         pa.array(["paid"]), pa.array([1], pa.int32()), pa.array(["p1"]), pa.array([2], pa.int32()),
         pa.array([None], pa.decimal128(18, 2))],
        schema=schema,
    )
    assert write_arrow_partition(context, lake, RAW_TRANSACTIONS, [batch]) == 1
    loc = lake.partition_location(RAW_TRANSACTIONS, DAY)
    assert "/_runs/arrow-run." in loc
    fs, _ = lake.filesystem()
    assert pq.read_table(lake.fs_path(loc), filesystem=fs).column("order_id").to_pylist() == ["o1"]


def test_subpartitions_of_the_published_version(lake):
    staging = lake.new_staging(RAW_CLICKSTREAM, DAY, "raw")
    fs, _ = lake.filesystem()
    for event_day in (DAY, "2026-11-19"):
        pq.write_table(pa.table({"n": [1]}), f"{lake.fs_path(staging)}/event_date={event_day}/part-0.parquet",
                       filesystem=fs)
    lake.publish(RAW_CLICKSTREAM, DAY, staging)
    found = lake.subpartition_locations(RAW_CLICKSTREAM, [DAY, "2026-11-21"], "2026-11-19")
    assert found == {DAY: f"{staging}/event_date=2026-11-19"}


# ---- landing ---------------------------------------------------------------------------
def landing_key(when: str, name: str) -> str:
    t = dt.datetime.fromisoformat(when)
    return f"lake/landing/clickstream/{t:%Y/%m/%d/%H}/recmart-clicks-1-{t:%Y-%m-%d-%H-%M-%S}-{name}.gz"


def test_landed_files_and_days_across_result_pages(lake, s3, bucket):
    # 1,050 files in one day: more than one ListObjectsV2 page (1,000 keys).
    many = [landing_key(f"2026-11-20T{h:02d}:{m:02d}:00", f"f{h}-{m}-{i}")
            for h in range(7) for m in range(30) for i in range(5)]
    assert len(many) == 1050
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=bucket, Key=key, Body=b"{}\n"), many))
    s3.put_object(Bucket=bucket, Key=landing_key("2026-11-21T00:01:00", "next"), Body=b"{}\n")
    s3.put_object(Bucket=bucket, Key=landing_key("2025-12-31T23:59:59", "old"), Body=b"{}\n")
    # Not landed files: Firehose errors elsewhere, hidden names.
    s3.put_object(Bucket=bucket, Key="lake/landing/firehose-errors/clickstream/2026/11/20/00/x.gz", Body=b"")
    s3.put_object(Bucket=bucket, Key="lake/landing/clickstream/2026/11/20/00/_tmp", Body=b"")

    files = lake.landed_files(DAY)
    assert [f.key for f in files] == sorted(k.removeprefix("lake/") for k in many)
    assert all(f.size == 3 and f.mtime_ns > 0 and f.arrival_day == DAY for f in files)
    assert lake.landed_days() == ["2025-12-31", "2026-11-20", "2026-11-21"]
    assert lake.landed_files("2026-11-22") == []


def test_the_landing_cursor_sees_every_file_on_s3_even_in_the_same_second(lake, s3, bucket):
    put = lambda when, name: s3.put_object(Bucket=bucket, Key=landing_key(when, name), Body=b"{}\n")  # noqa: E731
    put("2026-11-20T10:05:00", "a")
    _, cursor = scan(lake, None)
    # Several files land in the very second of the last one seen, another in a new day folder.
    for name in ("b", "c", "d"):
        put("2026-11-20T10:05:00", name)
    put("2026-11-21T00:00:00", "e")
    changed, cursor = scan(lake, LandingCursor.parse(cursor.serialize()))
    assert set(changed) == {DAY, "2026-11-21"}
    assert sorted(cursor.files[DAY]) == sorted(
        landing_key("2026-11-20T10:05:00", n).removeprefix("lake/") for n in "abcd")
    # Nothing new: no change; one more same-second file: that day changes again.
    assert scan(lake, cursor)[0] == {}
    put("2026-11-20T10:05:00", "f")
    assert set(scan(lake, cursor)[0]) == {DAY}


def test_glue_follows_every_publish_and_clear(aws, bucket):
    """With the Glue catalog, Athena's partition location is switched with the pointer."""
    from recmart.aws.glue_catalog import GlueCatalog

    catalog = GlueCatalog(lake_uri=f"s3://{bucket}/lake", endpoint_url=aws)
    lake = S3Lake(root=f"s3://{bucket}/lake", endpoint_url=aws, catalog=catalog)
    first = stage(lake, [1], "run1")
    lake.publish(CURATED_INTERACTION_MATRIX, DAY, first)
    assert catalog.partition_location(CURATED_INTERACTION_MATRIX, DAY) == first + "/"
    second = stage(lake, [2], "run2")
    lake.publish(CURATED_INTERACTION_MATRIX, DAY, second)
    assert catalog.partition_location(CURATED_INTERACTION_MATRIX, DAY) == second + "/"
    lake.clear(CURATED_INTERACTION_MATRIX, DAY)
    assert catalog.partition_location(CURATED_INTERACTION_MATRIX, DAY) is None

    # Raw clickstream: one Glue partition per (arrival day, event day) of the published version.
    staging = lake.new_staging(RAW_CLICKSTREAM, DAY, "raw")
    fs, _ = lake.filesystem()
    for event_day in (DAY, "2026-11-19"):
        pq.write_table(pa.table({"n": [1]}), f"{lake.fs_path(staging)}/event_date={event_day}/part-0.parquet",
                       filesystem=fs)
    lake.publish(RAW_CLICKSTREAM, DAY, staging)
    assert catalog.partitions(RAW_CLICKSTREAM, DAY) == {
        (DAY, d): f"{staging}/event_date={d}/" for d in (DAY, "2026-11-19")
    }
