"""The feature store: the local online store, SageMaker through botocore's Stubber (moto does
not implement Feature Store; the Stubber validates every request and response against the
real service models), and the daily ingestion asset."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import boto3
import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.stub import Stubber

from recmart.assets.serving.feature_store_ingestion import feature_store_ingestion
from recmart.aws import feature_store as sm_module
from recmart.aws.feature_store import SageMakerFeatureStore
from recmart.feature_groups.groups import FEATURE_GROUPS, INTERACTION_GROUP, ITEM_GROUP, USER_GROUP
from recmart.resources.feature_store import (
    FeatureIngestionError,
    FeatureStore,
    FeatureStoreError,
    IngestionReport,
    LocalFeatureStore,
)
from recmart.resources.lake import LocalLake

REGION = "us-east-1"
DAY = "2026-11-20"
ROLE = "arn:aws:iam::123456789012:role/recmart-feature-store"
OFFLINE = "s3://recmart-lake/lake/features/sagemaker"
END_OF_DAY = dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc)


def row_for(group, identifier: str, event_time: dt.datetime = END_OF_DAY, **values) -> dict:
    """A row of the group's table with a value of the right type in every column."""
    sample = {
        "string": lambda name: f"{name}-{identifier}", "int32": lambda _: 1, "int64": lambda _: 2,
        "double": lambda _: 0.5, "money": lambda _: Decimal("12.50"), "bool": lambda _: True,
        "timestamp": lambda _: END_OF_DAY - dt.timedelta(hours=1), "date": lambda _: dt.date(2026, 11, 20),
    }
    row = {c.name: sample[c.type](c.name) for c in group.table.columns}
    row[group.record_identifier] = identifier
    row[group.event_time_feature] = event_time
    return row | values


# ---- local online store ---------------------------------------------------------------------------
def test_local_store_keeps_the_latest_record_per_identifier_by_event_time(tmp_path):
    store = LocalFeatureStore(path=str(tmp_path / "fs.db"))
    with pytest.raises(FeatureStoreError, match="does not exist"):
        store.put_records(USER_GROUP, [row_for(USER_GROUP, "u1")])
    store.ensure_groups(FEATURE_GROUPS)
    store.ensure_groups(FEATURE_GROUPS)  # idempotent

    report = store.put_records(USER_GROUP, [row_for(USER_GROUP, "u1", views_1d=3), row_for(USER_GROUP, "u2")])
    assert (report.records, report.written, report.failed) == (2, 2, 0)
    got = store.get_record(USER_GROUP, "u1")
    assert got["views_1d"] == "3" and got["event_time"] == "2026-11-21T00:00:00Z" and got["revenue_7d"] == "12.50"
    assert "favourite_colour" in got

    older = END_OF_DAY - dt.timedelta(days=1)
    newer = END_OF_DAY + dt.timedelta(days=1)
    store.put_records(USER_GROUP, [row_for(USER_GROUP, "u1", older, views_1d=99)])  # an older day, re-run
    assert store.get_record(USER_GROUP, "u1")["views_1d"] == "3"
    store.put_records(USER_GROUP, [row_for(USER_GROUP, "u1", newer, views_1d=7, favourite_colour=None)])
    latest = store.get_record(USER_GROUP, "u1")
    assert latest["views_1d"] == "7" and "favourite_colour" not in latest  # a null feature is absent
    store.put_records(USER_GROUP, [row_for(USER_GROUP, "u1", newer, views_1d=8)])  # same time: last write wins
    assert store.get_record(USER_GROUP, "u1")["views_1d"] == "8"
    assert store.get_record(USER_GROUP, "nobody") is None
    assert store.get_record(ITEM_GROUP, "u1") is None  # groups do not share records


def test_local_store_refuses_records_the_feature_store_would_refuse_and_says_how_many(tmp_path):
    store = LocalFeatureStore(path=str(tmp_path / "fs.db"))
    store.ensure_groups([ITEM_GROUP])
    rows = [
        row_for(ITEM_GROUP, "p1"),
        row_for(ITEM_GROUP, "p2", views_1d="many"),  # Integral feature that is not an integer
        {**row_for(ITEM_GROUP, "p3"), "product_id": None},  # no record identifier
        row_for(ITEM_GROUP, "p4"),
    ]
    with pytest.raises(FeatureIngestionError) as failure:
        store.put_records(ITEM_GROUP, rows)
    report = failure.value.report
    assert (report.records, report.written, report.failed) == (4, 2, 2)
    assert report.failures == {"ValidationError": 2} and report.failed_ids == ["p2"]
    assert "2 of 4 records written" in str(failure.value) and "ValidationError: 2" in str(failure.value)
    assert store.get_record(ITEM_GROUP, "p4") is not None and store.get_record(ITEM_GROUP, "p2") is None


# ---- SageMaker, stubbed -----------------------------------------------------------------------------
def _store(**settings) -> tuple[SageMakerFeatureStore, Stubber, Stubber]:
    store = SageMakerFeatureStore(role_arn=ROLE, offline_store_uri=OFFLINE, region_name=REGION, poll_seconds=0,
                                  **settings)
    creds = {"region_name": REGION, "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    sagemaker = boto3.client("sagemaker", **creds)
    runtime = boto3.client("sagemaker-featurestore-runtime", **creds)
    store._clients.update({"sagemaker": sagemaker, "sagemaker-featurestore-runtime": runtime})
    return store, Stubber(sagemaker), Stubber(runtime)


@pytest.fixture
def delays(monkeypatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(sm_module, "sleep", slept.append)
    return slept


def _described(group, status: str, **extra) -> dict:
    return {
        "FeatureGroupArn": f"arn:aws:sagemaker:{REGION}:123456789012:feature-group/{group.name}",
        "FeatureGroupName": group.name,
        "RecordIdentifierFeatureName": group.record_identifier,
        "EventTimeFeatureName": group.event_time_feature,
        "FeatureDefinitions": group.feature_definitions(),
        "CreationTime": dt.datetime(2026, 11, 20),
        "NextToken": "",
        "FeatureGroupStatus": status,
        **extra,
    }


def test_groups_are_created_from_the_code_definitions_and_waited_for(delays):
    store, sm, _ = _store(kms_key_id="arn:aws:kms:us-east-1:123456789012:key/k")
    sm.add_client_error("describe_feature_group", "ResourceNotFound", http_status_code=400,
                        expected_params={"FeatureGroupName": USER_GROUP.name})
    request = USER_GROUP.create_request(ROLE, OFFLINE, online=True)
    request["OfflineStoreConfig"]["S3StorageConfig"]["KmsKeyId"] = "arn:aws:kms:us-east-1:123456789012:key/k"
    request["OnlineStoreConfig"]["SecurityConfig"] = {"KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k"}
    sm.add_response("create_feature_group", {"FeatureGroupArn": "arn:aws:sagemaker:x:1:feature-group/u"}, request)
    sm.add_response("describe_feature_group", _described(ITEM_GROUP, "Created"), {"FeatureGroupName": ITEM_GROUP.name})
    sm.add_response("describe_feature_group", _described(INTERACTION_GROUP, "Creating"))
    sm.add_response("describe_feature_group", _described(USER_GROUP, "Creating"))  # waiting for the new group
    sm.add_response("describe_feature_group", _described(USER_GROUP, "Created"))
    sm.add_response("describe_feature_group", _described(INTERACTION_GROUP, "Created"))
    with sm:
        store.ensure_groups(FEATURE_GROUPS)
        sm.assert_no_pending_responses()
    assert request["OfflineStoreConfig"]["S3StorageConfig"]["S3Uri"] == OFFLINE
    assert len(delays) == 1


def test_a_group_that_failed_or_differs_from_the_code_is_an_error(delays):
    store, sm, _ = _store()
    sm.add_response("describe_feature_group", _described(USER_GROUP, "Creating"))
    sm.add_response("describe_feature_group", _described(USER_GROUP, "CreateFailed",
                                                          FailureReason="role cannot write the offline store"))
    with sm, pytest.raises(FeatureStoreError, match="CreateFailed: role cannot write the offline store"):
        store.ensure_groups([USER_GROUP])

    store, sm, _ = _store()
    old = _described(ITEM_GROUP, "Created")
    old["FeatureDefinitions"] = [f for f in old["FeatureDefinitions"] if f["FeatureName"] != "trend_score"]
    sm.add_response("describe_feature_group", old)
    with sm, pytest.raises(FeatureStoreError, match=r"missing features trend_score \(Fractional\)"):
        store.ensure_groups([ITEM_GROUP])


def test_put_records_sends_each_record_and_retries_throttling_and_5xx_with_backoff(delays):
    store, _, runtime = _store(max_workers=1, backoff_base_seconds=0.1)
    rows = [row_for(USER_GROUP, u) for u in ("u1", "u2", "u3")]
    put = lambda row: {"FeatureGroupName": USER_GROUP.name, "Record": USER_GROUP.record(row)}  # noqa: E731
    runtime.add_response("put_record", {}, put(rows[0]))
    runtime.add_client_error("put_record", "ThrottlingException", "Rate exceeded", 400, expected_params=put(rows[1]))
    runtime.add_client_error("put_record", "ThrottlingException", "Rate exceeded", 400, expected_params=put(rows[1]))
    runtime.add_response("put_record", {}, put(rows[1]))
    runtime.add_client_error("put_record", "ServiceUnavailable", http_status_code=503, expected_params=put(rows[2]))
    runtime.add_response("put_record", {}, put(rows[2]))
    with runtime:
        report = store.put_records(USER_GROUP, rows)
        runtime.assert_no_pending_responses()
    assert (report.records, report.written, report.retries, report.failed) == (3, 3, 3, 0)
    # Full-jitter exponential backoff: the n-th retry of a record waits at most base * 2**n.
    assert len(delays) == 3 and 0 <= delays[0] <= 0.1 and 0 <= delays[1] <= 0.2 and 0 <= delays[2] <= 0.1


def test_records_still_failing_are_counted_by_error_and_raised_never_dropped(delays):
    store, _, runtime = _store(max_workers=1, max_attempts=3)
    rows = [row_for(ITEM_GROUP, p) for p in ("p1", "p2", "p3")]
    for _ in range(3):
        runtime.add_client_error("put_record", "ThrottlingException", http_status_code=400)
    runtime.add_client_error("put_record", "ValidationError", "bad feature", 400)  # not retried
    runtime.add_response("put_record", {})
    with runtime, pytest.raises(FeatureIngestionError) as failure:
        store.put_records(ITEM_GROUP, rows + [{**row_for(ITEM_GROUP, "p4"), "event_time": None}])
    report = failure.value.report
    assert (report.records, report.written, report.retries) == (4, 1, 2)
    assert report.failures == {"ThrottlingException": 1, "ValidationError": 2}
    assert report.written + report.failed == report.records
    assert sorted(report.failed_ids) == ["p1", "p2", "p4"]
    assert "1 of 4 records written" in str(failure.value)


def test_put_records_runs_a_small_thread_pool_and_writes_everything_despite_throttling(delays):
    store, _, runtime = _store(max_workers=4, chunk_records=10)
    threads: set[int] = set()
    first: list[int] = []
    overlapped = threading.Event()

    def note_thread(**_):
        me = threading.get_ident()
        threads.add(me)
        if not first:
            first.append(me)
            overlapped.wait(timeout=5)  # hold the first call until another caller runs alongside it
        elif me != first[0]:
            overlapped.set()

    store._clients["sagemaker-featurestore-runtime"].meta.events.register("before-parameter-build.sagemaker-featurestore-runtime.PutRecord", note_thread)
    for _ in range(5):
        runtime.add_client_error("put_record", "ThrottlingException", http_status_code=400)
    for _ in range(200):
        runtime.add_response("put_record", {})
    with runtime:
        report = store.put_records(INTERACTION_GROUP, (row_for(INTERACTION_GROUP, f"u#{i}") for i in range(200)))
        runtime.assert_no_pending_responses()
    assert (report.records, report.written, report.retries, report.failed) == (200, 200, 5, 0)
    assert overlapped.is_set() and 1 < len(threads) <= 4


def test_backoff_is_full_jitter_below_an_exponential_ceiling(delays):
    store, _, runtime = _store(max_workers=1, max_attempts=10, backoff_base_seconds=0.1, backoff_max_seconds=5.0)
    rows = [row_for(USER_GROUP, f"u{i}") for i in range(20)]
    for _ in rows:
        for _ in range(9):
            runtime.add_client_error("put_record", "ThrottlingException", http_status_code=400)
        runtime.add_response("put_record", {})
    with runtime:
        report = store.put_records(USER_GROUP, rows)
    assert (report.written, report.retries) == (20, 180)
    per_record = [delays[i : i + 9] for i in range(0, len(delays), 9)]
    for waits in per_record:
        assert all(0 <= w <= min(5.0, 0.1 * 2**n) for n, w in enumerate(waits))
    # Jitter: the waits of one retry differ from record to record, and reach past half the ceiling.
    assert len({waits[5] for waits in per_record}) > 1 and max(waits[5] for waits in per_record) > 1.6


# ---- the daily asset ---------------------------------------------------------------------------------
def _publish(lake_root, group, rows) -> None:
    folder = lake_root / group.table.partition_path(DAY)
    folder.mkdir(parents=True)
    schema = group.table.arrow_schema()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / "part-00000.parquet")


def _lake_with_feature_rows(tmp_path):
    _publish(tmp_path, USER_GROUP, [row_for(USER_GROUP, f"u{i}") for i in range(3)])
    _publish(tmp_path, ITEM_GROUP, [row_for(ITEM_GROUP, f"p{i}", trend_score=1.25) for i in range(5)])
    _publish(tmp_path, INTERACTION_GROUP, [row_for(INTERACTION_GROUP, "u1#p1", score=0.75)])
    return LocalLake(root=str(tmp_path))


def test_the_ingestion_asset_puts_the_days_rows_of_every_group(tmp_path):
    lake = _lake_with_feature_rows(tmp_path / "lake")
    store = LocalFeatureStore(path=str(tmp_path / "fs.db"))
    result = dg.materialize([feature_store_ingestion], partition_key=DAY,
                            resources={"lake": lake, "feature_store": store})
    assert result.success
    (mat,) = result.asset_materializations_for_node("feature_store_ingestion")
    assert mat.metadata["dagster/row_count"].value == 9
    assert mat.metadata[f"{ITEM_GROUP.name}/written"].value == 5
    assert store.get_record(ITEM_GROUP, "p4")["trend_score"] == "1.25"
    assert store.get_record(INTERACTION_GROUP, "u1#p1")["score"] == "0.75"
    spec = feature_store_ingestion.specs_by_key[dg.AssetKey("feature_store_ingestion")]
    assert spec.group_name == "serving"
    assert {d.asset_key.to_user_string() for d in spec.deps} == {"features_users", "features_items", "features_interactions"}


class _Failing(FeatureStore):
    """Writes every group but the item group, whose records all fail."""

    def ensure_groups(self, groups):
        pass

    def put_records(self, group, rows):
        report = IngestionReport(group.name)
        for row in rows:
            report.records += 1
            if group is ITEM_GROUP:
                report.fail("ThrottlingException", row[group.record_identifier])
            else:
                report.written += 1
        if report.failed:
            raise FeatureIngestionError(report)
        return report

    def get_record(self, group, record_identifier):
        return None


def test_the_ingestion_asset_fails_with_every_groups_counts_when_records_were_not_written(tmp_path):
    lake = _lake_with_feature_rows(tmp_path / "lake")
    result = dg.materialize([feature_store_ingestion], partition_key=DAY, raise_on_error=False,
                            resources={"lake": lake, "feature_store": _Failing()})
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    text = failure.step_failure_data.user_failure_data.description
    assert f"{ITEM_GROUP.name}: 0 of 5 records written" in text and "ThrottlingException: 5" in text
    meta = failure.step_failure_data.user_failure_data.metadata
    assert meta[f"{USER_GROUP.name}/written"].value == 3 and meta[f"{INTERACTION_GROUP.name}/written"].value == 1


def test_the_ingestion_asset_names_a_missing_feature_partition(tmp_path):
    result = dg.materialize([feature_store_ingestion], partition_key=DAY, raise_on_error=False,
                            resources={"lake": LocalLake(root=str(tmp_path)),
                                       "feature_store": LocalFeatureStore(path=str(tmp_path / "fs.db"))})
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "features_users has no partition 2026-11-20" in failure.step_failure_data.user_failure_data.description
