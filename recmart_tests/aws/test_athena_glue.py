"""Glue Data Catalog partitions and Athena SQL, against moto (and botocore's Stubber where moto
cannot answer), and the data checks' SQL through DuckDB and Athena behind one interface."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from botocore.awsrequest import AWSResponse
from botocore.stub import ANY, Stubber
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from recmart import names
from recmart.assets.curated import checks
from recmart.assets.table_checks import key_unique, not_null, not_null_columns
from recmart.aws.athena import AthenaLakeSql, AthenaQueryError
from recmart.aws.glue_catalog import CatalogError, GlueCatalog
from recmart.resources.lake import LocalLake
from recmart.resources.sql import DuckDBLakeSql, LakeSql
from recmart.tables import (
    CURATED_CLEANED_EVENTS,
    CURATED_INTERACTION_MATRIX,
    QUARANTINE_CLICKSTREAM,
    RAW_CLICKSTREAM,
    RAW_PRODUCTS,
)

REGION = "us-east-1"
BUCKET = "recmart-lake-test"
LAKE = f"s3://{BUCKET}/lake"
DAY = "2026-11-20"


@pytest.fixture
def aws(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        boto3.client("athena", region_name=REGION).create_work_group(
            Name=names.ATHENA_WORKGROUP,
            Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{BUCKET}/athena-results/"}},
        )
        yield


# ---- Glue ----------------------------------------------------------------------------------------
def _glue():
    return boto3.client("glue", region_name=REGION)


def _partitions(table):
    pages = _glue().get_paginator("get_partitions").paginate(DatabaseName=names.GLUE_DATABASE, TableName=table.sql_name)
    return {tuple(p["Values"]): p["StorageDescriptor"]["Location"] for page in pages for p in page["Partitions"]}


def test_glue_creates_database_and_table_from_the_schema_then_registers_moves_and_drops_a_partition(aws):
    catalog = GlueCatalog(lake_uri=LAKE)
    run1 = f"{LAKE}/curated/cleaned_events/event_date={DAY}/_v=run1"
    catalog.register_partition(CURATED_CLEANED_EVENTS, DAY, run1.replace("s3://", "s3a://"))  # Spark's spelling

    table = _glue().get_table(DatabaseName=names.GLUE_DATABASE, Name="curated_cleaned_events")["Table"]
    want = CURATED_CLEANED_EVENTS.glue_table_input(f"{LAKE}/curated/cleaned_events")
    assert table["StorageDescriptor"]["Columns"] == want["StorageDescriptor"]["Columns"]
    assert table["StorageDescriptor"]["Location"] == f"{LAKE}/curated/cleaned_events"
    assert table["PartitionKeys"] == [{"Name": "event_date", "Type": "date"}]
    assert _partitions(CURATED_CLEANED_EVENTS) == {(DAY,): run1 + "/"}
    part = _glue().get_partition(DatabaseName=names.GLUE_DATABASE, TableName="curated_cleaned_events",
                                 PartitionValues=[DAY])["Partition"]
    assert part["StorageDescriptor"]["Columns"] == want["StorageDescriptor"]["Columns"]
    assert part["StorageDescriptor"]["SerdeInfo"] == want["StorageDescriptor"]["SerdeInfo"]

    # The next publish of the day switches the one partition to its new location.
    run2 = f"{LAKE}/curated/cleaned_events/event_date={DAY}/_v=run2"
    catalog.register_partition(CURATED_CLEANED_EVENTS, DAY, run2)
    catalog.register_partition(CURATED_CLEANED_EVENTS, "2026-11-21", f"{LAKE}/curated/cleaned_events/event_date=2026-11-21/_v=r")
    assert _partitions(CURATED_CLEANED_EVENTS) == {
        (DAY,): run2 + "/", ("2026-11-21",): f"{LAKE}/curated/cleaned_events/event_date=2026-11-21/_v=r/",
    }
    assert catalog.partition_location(CURATED_CLEANED_EVENTS, DAY) == run2 + "/"

    catalog.drop_partition(CURATED_CLEANED_EVENTS, DAY)
    catalog.drop_partition(CURATED_CLEANED_EVENTS, DAY)  # already gone: nothing to do
    assert list(_partitions(CURATED_CLEANED_EVENTS)) == [("2026-11-21",)]


def test_glue_leaves_an_existing_table_as_it_is(aws):
    glue = _glue()
    glue.create_database(DatabaseInput={"Name": names.GLUE_DATABASE})
    made_by_terraform = CURATED_INTERACTION_MATRIX.glue_table_input(f"{LAKE}/curated/interaction_matrix")
    made_by_terraform["Description"] = "created by terraform"
    glue.create_table(DatabaseName=names.GLUE_DATABASE, TableInput=made_by_terraform)

    GlueCatalog(lake_uri=LAKE).register_partition(CURATED_INTERACTION_MATRIX, DAY, f"{LAKE}/curated/interaction_matrix/x")
    table = glue.get_table(DatabaseName=names.GLUE_DATABASE, Name="curated_interaction_matrix")["Table"]
    assert table["Description"] == "created by terraform"
    assert _partitions(CURATED_INTERACTION_MATRIX) == {(DAY,): f"{LAKE}/curated/interaction_matrix/x/"}


def test_glue_registers_every_event_day_under_an_arrival_day_of_raw_clickstream(aws):
    s3 = boto3.client("s3", region_name=REGION)
    v1 = f"lake/raw/clickstream/arrival_date={DAY}/_v=run1"
    for sub in ("2026-11-19", DAY):
        s3.put_object(Bucket=BUCKET, Key=f"{v1}/event_date={sub}/part-00000.parquet", Body=b"x")
    catalog = GlueCatalog(lake_uri=LAKE)
    catalog.register_partition(RAW_CLICKSTREAM, DAY, f"s3://{BUCKET}/{v1}")
    assert _partitions(RAW_CLICKSTREAM) == {
        (DAY, "2026-11-19"): f"s3://{BUCKET}/{v1}/event_date=2026-11-19/",
        (DAY, DAY): f"s3://{BUCKET}/{v1}/event_date={DAY}/",
    }

    # A new version of the arrival day holds other event days: the catalog follows exactly.
    v2 = f"lake/raw/clickstream/arrival_date={DAY}/_v=run2"
    for sub in (DAY, "2026-11-18"):
        s3.put_object(Bucket=BUCKET, Key=f"{v2}/event_date={sub}/part-00000.parquet", Body=b"x")
    catalog.register_partition(RAW_CLICKSTREAM, DAY, f"s3://{BUCKET}/{v2}")
    assert _partitions(RAW_CLICKSTREAM) == {
        (DAY, "2026-11-18"): f"s3://{BUCKET}/{v2}/event_date=2026-11-18/",
        (DAY, DAY): f"s3://{BUCKET}/{v2}/event_date={DAY}/",
    }
    catalog.drop_partition(RAW_CLICKSTREAM, DAY)
    assert _partitions(RAW_CLICKSTREAM) == {}


def test_glue_refuses_a_key_that_is_not_a_day_and_reports_a_partition_it_could_not_create():
    catalog = GlueCatalog(lake_uri=LAKE, region_name=REGION)
    with pytest.raises(ValueError, match="not a day"):
        catalog.register_partition(CURATED_CLEANED_EVENTS, "2026-11-20' OR '1'='1", f"{LAKE}/x")

    glue = boto3.client("glue", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    catalog._clients["glue"] = glue
    with Stubber(glue) as stub:
        stub.add_response("get_table", {"Table": {"Name": "curated_cleaned_events"}},
                          {"DatabaseName": "recmart", "Name": "curated_cleaned_events"})
        stub.add_client_error("get_partition", "EntityNotFoundException", http_status_code=400)
        stub.add_response("batch_create_partition", {"Errors": [{
            "PartitionValues": [DAY],
            "ErrorDetail": {"ErrorCode": "ResourceNumberLimitExceededException", "ErrorMessage": "too many partitions"},
        }]}, {"DatabaseName": "recmart", "TableName": "curated_cleaned_events", "PartitionInputList": ANY})
        with pytest.raises(CatalogError, match="ResourceNumberLimitExceededException: too many partitions"):
            catalog.register_partition(CURATED_CLEANED_EVENTS, DAY, f"{LAKE}/curated/cleaned_events/v1")
        stub.assert_no_pending_responses()


# ---- Athena ---------------------------------------------------------------------------------------
def _column(name: str, type_: str) -> dict:
    return {"Name": name, "Label": name, "Type": type_, "CatalogName": "hive", "SchemaName": "", "TableName": "",
            "Nullable": "UNKNOWN", "CaseSensitive": type_ == "varchar", "Precision": 0, "Scale": 0}


def _cells(values) -> dict:
    return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}


def athena_result(columns: list[tuple[str, str]], rows: list[list]) -> dict:
    """What Athena answers for a SELECT: the column labels as the first row, then text values."""
    return {
        "rows": [_cells([n for n, _ in columns])] + [_cells(r) for r in rows],
        "column_info": [_column(n, t) for n, t in columns],
    }


def inject_athena_results(*results: dict) -> None:
    """moto's results-injection API: the next queries answer these results, in order."""
    resp = requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/athena/query-results",
        json={"account_id": DEFAULT_ACCOUNT_ID, "region": REGION, "results": list(results)},
    )
    assert resp.status_code == 201


def _executions():
    from moto.backends import get_backend

    return list(get_backend("athena")[DEFAULT_ACCOUNT_ID][REGION].executions.values())


def test_athena_runs_in_the_recmart_workgroup_and_database_and_converts_every_type(aws):
    inject_athena_results(athena_result(
        [("n", "bigint"), ("i", "integer"), ("amount", "decimal"), ("ratio", "double"), ("flag", "boolean"),
         ("day", "date"), ("at", "timestamp"), ("at_zoned", "timestamp with time zone"), ("name", "varchar"),
         ("tags", "array")],
        [
            ["12345678901", "7", "1234.50", "0.25", "true", "2026-11-20", "2026-11-20 13:45:06.123",
             "2026-11-20 14:45:06.000 Europe/Paris", "n", "[a, b]"],
            [None, None, None, "NaN", "false", None, None, None, None, None],
        ],
    ))
    sql = AthenaLakeSql(poll_seconds=0)
    columns, rows = sql.query("SELECT 1")
    assert columns == ["n", "i", "amount", "ratio", "flag", "day", "at", "at_zoned", "name", "tags"]
    utc = dt.timezone.utc
    assert rows[0] == (
        12345678901, 7, Decimal("1234.50"), 0.25, True, dt.date(2026, 11, 20),
        dt.datetime(2026, 11, 20, 13, 45, 6, 123000, tzinfo=utc), dt.datetime(2026, 11, 20, 13, 45, 6, tzinfo=utc),
        "n", "[a, b]",
    )
    assert rows[1][:3] == (None, None, None) and rows[1][3] != rows[1][3] and rows[1][4] is False
    assert len(rows) == 2  # the header row is not data
    (execution,) = _executions()
    assert execution.workgroup.name == names.ATHENA_WORKGROUP
    assert execution.context == {"Database": names.GLUE_DATABASE, "Catalog": "AwsDataCatalog"}


def _stubbed_athena(monkeypatch, **settings) -> tuple[AthenaLakeSql, Stubber]:
    for key, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(key, value)
    sql = AthenaLakeSql(poll_seconds=0, region_name=REGION, **settings)
    return sql, Stubber(sql.connection().client)


def _execution(state: str, **status) -> dict:
    return {"QueryExecution": {"QueryExecutionId": "q1", "Query": "SELECT ...", "StatementType": "DML",
                               "Status": {"State": state, **status}}}


def test_athena_reads_every_page_and_skips_the_header_only_on_the_first(monkeypatch):
    sql, stub = _stubbed_athena(monkeypatch, page_size=2)
    info = [_column("product_id", "varchar"), _column("colour", "varchar")]
    start = {"QueryString": "SELECT product_id, colour FROM t", "WorkGroup": "recmart",
             "QueryExecutionContext": {"Database": "recmart", "Catalog": "AwsDataCatalog"}}
    stub.add_response("start_query_execution", {"QueryExecutionId": "q1"}, start)
    stub.add_response("get_query_execution", _execution("QUEUED"), {"QueryExecutionId": "q1"})
    stub.add_response("get_query_execution", _execution("RUNNING"), {"QueryExecutionId": "q1"})
    stub.add_response("get_query_execution", _execution("SUCCEEDED"), {"QueryExecutionId": "q1"})
    pages = [
        [_cells(["product_id", "colour"]), _cells(["p1", "red"])],
        [_cells(["product_id", "colour"]), _cells(["p2", None])],  # a data row that looks like the labels
        [_cells(["p3", "blue"])],
    ]
    for i, rows in enumerate(pages):
        expected = {"QueryExecutionId": "q1", "MaxResults": 2}
        if i:
            expected["NextToken"] = f"t{i}"
        answer = {"ResultSet": {"Rows": rows, "ResultSetMetadata": {"ColumnInfo": info}}}
        if i < len(pages) - 1:
            answer["NextToken"] = f"t{i + 1}"
        stub.add_response("get_query_results", answer, expected)
    with stub:
        columns, rows = sql.query("SELECT product_id, colour FROM t")
        stub.assert_no_pending_responses()
    assert columns == ["product_id", "colour"]
    assert rows == [("p1", "red"), ("product_id", "colour"), ("p2", None), ("p3", "blue")]


def test_athena_failure_carries_the_state_change_reason(monkeypatch):
    sql, stub = _stubbed_athena(monkeypatch)
    stub.add_response("start_query_execution", {"QueryExecutionId": "q1"})
    stub.add_response("get_query_execution", _execution("RUNNING"))
    stub.add_response("get_query_execution", _execution(
        "FAILED", StateChangeReason="COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved",
        AthenaError={"ErrorCategory": 2, "ErrorType": 1006, "Retryable": False},
    ))
    with stub, pytest.raises(AthenaQueryError) as failure:
        sql.query("SELECT nope FROM curated_cleaned_events")
    message = str(failure.value)
    assert "q1 FAILED" in message and "Column 'nope' cannot be resolved" in message
    assert "error category 2" in message and "SELECT nope FROM curated_cleaned_events" in message
    assert failure.value.state == "FAILED"


def test_athena_stops_a_query_that_outlives_its_timeout(monkeypatch):
    sql, stub = _stubbed_athena(monkeypatch, timeout_seconds=0)
    stub.add_response("start_query_execution", {"QueryExecutionId": "q1"})
    stub.add_response("get_query_execution", _execution("RUNNING"))
    stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q1"})
    with stub, pytest.raises(AthenaQueryError, match="still RUNNING after 0s: stopped"):
        sql.query("SELECT 1")
    stub.assert_no_pending_responses()


def _throttle(client, operation: str, times: int) -> list[int]:
    """Answer the next `times` `operation` calls with ThrottlingException. botocore sends every
    request to all before-send handlers, so moto still sees the throttled ones: throttle calls
    that change nothing there."""
    throttled: list[int] = []
    body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'

    class Raw:
        def stream(self, **_):
            return iter([body])

        def read(self, *_):
            return body

    def answer(request, **_):
        if len(throttled) >= times:
            return None
        throttled.append(1)
        return AWSResponse(request.url, 400, {"x-amzn-ErrorType": "ThrottlingException"}, Raw())

    client.meta.events.register_first(f"before-send.athena.{operation}", answer)
    return throttled


def test_athena_calls_that_are_throttled_are_retried_by_botocore(aws):
    inject_athena_results(athena_result([("_col0", "bigint")], [["6"]]))
    sql = AthenaLakeSql(poll_seconds=0)
    throttled = _throttle(sql.connection().client, "GetQueryResults", times=2)
    assert sql.query("SELECT 6") == (["_col0"], [(6,)])
    assert len(throttled) == 2 and len(_executions()) == 1


def test_athena_call_that_fails_names_the_workgroup_and_the_sql(monkeypatch):
    sql, stub = _stubbed_athena(monkeypatch)
    stub.add_client_error("start_query_execution", "AccessDeniedException", "not allowed", 400)
    with stub, pytest.raises(AthenaQueryError) as failure:
        sql.query("SELECT 1")
    message = str(failure.value)
    assert "Athena query in workgroup recmart failed" in message and "AccessDeniedException" in message
    assert message.endswith("SQL: SELECT 1") and failure.value.query_execution_id is None


# ---- one interface, two engines: the curated checks' own SQL ---------------------------------------
def _write(lake: Path, table, rows: list[dict], key: str = DAY, subkey: str | None = None) -> None:
    schema = table.arrow_schema()
    folder = lake / table.partition_path(key)
    if subkey:
        folder = folder / f"{table.subpartition_column}={subkey}"
    folder.mkdir(parents=True, exist_ok=True)
    columns = {f.name: [r.get(f.name) for r in rows] for f in schema}
    pq.write_table(pa.table(columns, schema=schema), folder / "part-00000.parquet")


def _small_lake(root: Path) -> None:
    """Day 2026-11-20: 6 landed records = 4 cleaned + 1 quarantined + 1 duplicate copy."""
    at = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone.utc)
    landed = {"source_file": "landing/x.gz", "arrival_time": at, "corrupt": False}
    _write(root, RAW_CLICKSTREAM, [{**landed, "record": f"r{i}", "event_id": f"e{i}"} for i in range(6)], subkey=DAY)
    base = {"session_id": "s1", "source_file": "landing/x.gz", "arrival_time": at, "event_time": at, "copies": 1}
    _write(root, CURATED_CLEANED_EVENTS, [
        {**base, "event_id": "e1", "event_type": "view", "user_id": "u1", "product_id": "p1", "copies": 2},
        {**base, "event_id": "e2", "event_type": "add_to_cart", "user_id": "u1", "product_id": "p1"},
        {**base, "event_id": "e3", "event_type": "view", "user_id": "u2", "product_id": "p2"},
        {**base, "event_id": "e4", "event_type": "view", "user_id": None, "product_id": "p3"},
    ])
    _write(root, QUARANTINE_CLICKSTREAM, [
        {"record": "{}", "source_file": "landing/x.gz", "arrival_time": at, "reason": "missing_field"},
    ])
    zero = {"remove_from_carts": 0, "purchases": 0, "units": 0, "revenue": Decimal("0.00"),
            "first_event_time": at, "last_event_time": at}
    _write(root, CURATED_INTERACTION_MATRIX, [
        {**zero, "user_id": "u1", "product_id": "p1", "views": 1, "add_to_carts": 1},
        {**zero, "user_id": "u2", "product_id": "p2", "views": 1, "add_to_carts": 0},
    ])
    _write(root, RAW_PRODUCTS, [{"product_id": p} for p in ("p1", "p2", "p3")])


B, V, D = "bigint", "varchar", "date"
# What Athena answers to each query of the checks below, in the order the checks ask them.
ATHENA_ANSWERS = [
    athena_result([("_col0", B)], [["6"]]),                                  # records_reconcile
    athena_result([("_col0", B), ("_col1", B)], [["4", "1"]]),
    athena_result([("reason", V), ("_col1", B)], [["missing_field", "1"]]),
    athena_result([(f"_col{i}", B) for i in range(5)], [["4", "4", "0", "0", "0"]]),  # event_id_key_unique
    athena_result([(f"_col{i}", B) for i in range(9)], [["4"] + ["0"] * 8]),         # not_null
    athena_result([("_col0", B), ("_col1", B), ("_col2", B)], [["2", "1", "0"]]),  # matrix_matches_events
    athena_result([("_col0", B), ("_col1", B), ("_col2", B)], [["2", "1", "0"]]),
    athena_result([(f"_col{i}", B) for i in range(5)], [["2", "2", "0", "0", "0"]]),  # user_id_product_id_key_unique
    athena_result([("_col0", B)], [["2"]]),                                  # products_in_catalog
    athena_result([("_col0", D)], [[DAY]]),
    athena_result([("_col0", B)], [["0"]]),
]


def run_checks(sql: LakeSql) -> dict:
    return {
        "records_reconcile": checks.records_reconcile(sql, DAY),
        "event_id_key_unique": key_unique(CURATED_CLEANED_EVENTS)(sql, DAY),
        "not_null": not_null(CURATED_CLEANED_EVENTS)(sql, DAY),
        "matrix_matches_events": checks.matrix_matches_events(sql, DAY),
        "user_id_product_id_key_unique": key_unique(CURATED_INTERACTION_MATRIX)(sql, DAY),
        "products_in_catalog": checks.products_in_catalog(sql, DAY),
    }


@pytest.fixture(params=["duckdb", "athena"])
def lake_sql(request, tmp_path) -> LakeSql:
    if request.param == "duckdb":
        _small_lake(tmp_path)
        return DuckDBLakeSql(lake=LocalLake(root=str(tmp_path)))
    request.getfixturevalue("aws")
    inject_athena_results(*ATHENA_ANSWERS)
    return AthenaLakeSql(poll_seconds=0)


def test_the_curated_checks_give_the_same_answers_through_either_engine(lake_sql):
    results = run_checks(lake_sql)
    assert all(r.passed for r in results.values()), {k: r.description for k, r in results.items()}
    meta = {k: {m: v.value for m, v in r.metadata.items()} for k, r in results.items()}
    assert meta == {
        "records_reconcile": {"landed": 6, "cleaned": 4, "quarantined": 1, "duplicates": 1, "unaccounted": 0,
                              "quarantined/missing_field": 1},
        "event_id_key_unique": {"rows": 4, "distinct_keys": 4, "repeated_keys": 0, "rows_with_repeated_keys": 0,
                                "null_keys": 0},
        "not_null": {"rows": 4, **{f"nulls/{c}": 0 for c in not_null_columns(CURATED_CLEANED_EVENTS)}},
        "matrix_matches_events": {"matrix/views": 2, "matrix/add_to_carts": 1, "matrix/remove_from_carts": 0,
                                  "events/views": 2, "events/add_to_carts": 1, "events/remove_from_carts": 0},
        "user_id_product_id_key_unique": {"rows": 2, "distinct_keys": 2, "repeated_keys": 0,
                                          "rows_with_repeated_keys": 0, "null_keys": 0},
        "products_in_catalog": {"unknown_products": 0, "catalog_snapshot": DAY},
    }


def test_athena_is_sent_exactly_the_sql_duckdb_runs(aws, tmp_path, monkeypatch):
    _small_lake(tmp_path)
    ran: list[str] = []
    original = DuckDBLakeSql.query

    def recording(self, sql):
        ran.append(sql)
        return original(self, sql)

    monkeypatch.setattr(DuckDBLakeSql, "query", recording)
    run_checks(DuckDBLakeSql(lake=LocalLake(root=str(tmp_path))))
    inject_athena_results(*ATHENA_ANSWERS)
    run_checks(AthenaLakeSql(poll_seconds=0))
    assert [e.query for e in _executions()] == ran
    assert len(ran) == len(ATHENA_ANSWERS)
