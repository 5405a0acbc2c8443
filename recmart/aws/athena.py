"""SQL over the lake on AWS: Athena over the Glue Data Catalog's tables.

`AthenaLakeSql` answers the same `LakeSql.query(sql) -> (columns, rows)` as DuckDB does
locally, so the data checks run unchanged in both deployments: the same SQL text goes to
Athena (engine 3, Trino's dialect, which the checks keep to) in the recmart workgroup and
database, and the rows come back as the same Python types DuckDB gives (int, Decimal,
float, bool, date, UTC-aware datetime, str, None).

A query is started, polled with a growing interval until it ends, and fails with Athena's
own reason (the query's StateChangeReason and error category) when it does not succeed;
its results are read page by page (GetQueryResults, up to 1000 rows a page) and converted
by each column's Athena type.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
from botocore.config import Config
from pydantic import Field, PrivateAttr

from recmart import names
from recmart.resources.sql import LakeSql

DONE = ("SUCCEEDED", "FAILED", "CANCELLED")
MAX_PAGE = 1000  # GetQueryResults' largest page


class AthenaQueryError(RuntimeError):
    """An Athena query did not succeed; the message holds Athena's reason and the SQL."""

    def __init__(self, message: str, query_execution_id: str | None = None, state: str | None = None):
        super().__init__(message)
        self.query_execution_id = query_execution_id
        self.state = state


# ---- type conversion ------------------------------------------------------------------------
def _timestamp(value: str) -> dt.datetime:
    """Athena's `2026-11-20 13:45:00.123` (UTC by the lake's convention) as an aware datetime."""
    text = value.strip()
    zone = None
    if " " in text[11:]:  # timestamp with time zone: `... UTC`, `... Europe/Paris`, `... +01:00`
        text, zone = text.rsplit(" ", 1)
    # Python reads at most microseconds; Athena can print up to picoseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    parsed = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
    if zone is None or zone in ("UTC", "Z"):
        return parsed.replace(tzinfo=dt.timezone.utc) if parsed.tzinfo is None else parsed.astimezone(dt.timezone.utc)
    if zone[0] in "+-":
        return dt.datetime.fromisoformat(f"{text.replace(' ', 'T', 1)}{zone}").astimezone(dt.timezone.utc)
    from zoneinfo import ZoneInfo

    return parsed.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.timezone.utc)


def _float(value: str) -> float:
    special = {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}
    return float(special.get(value, value))


def _bool(value: str) -> bool:
    if value not in ("true", "false"):
        raise ValueError(f"not an Athena boolean: {value!r}")
    return value == "true"


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "tinyint": int, "smallint": int, "integer": int, "int": int, "bigint": int,
    "double": _float, "float": _float, "real": _float,
    "decimal": Decimal,
    "boolean": _bool,
    "date": dt.date.fromisoformat,
    "timestamp": _timestamp,
    "timestamp with time zone": _timestamp,
    "varbinary": lambda v: bytes.fromhex(v.replace(" ", "")),
}


def converter(athena_type: str) -> Callable[[str], Any]:
    """The function turning a VarCharValue of `athena_type` into a Python value (str by default:
    varchar, char, json, time, arrays, maps and rows stay text)."""
    base = athena_type.lower().split("(", 1)[0].strip()
    return _CONVERTERS.get(base, str)


def convert_rows(column_info: list[dict], rows: list[dict]) -> list[tuple[Any, ...]]:
    """GetQueryResults rows -> tuples of Python values; a cell without VarCharValue is NULL."""
    convs = [converter(c.get("Type", "varchar")) for c in column_info]
    out = []
    for row in rows:
        cells = row.get("Data", [])
        values = []
        for conv, cell in zip(convs, cells, strict=True):
            raw = cell.get("VarCharValue")
            values.append(None if raw is None else conv(raw))
        out.append(tuple(values))
    return out


class AthenaLakeSql(LakeSql):
    """Runs SQL on Athena over the Glue tables of the lake (names `<layer>_<table>`)."""

    workgroup: str = Field(default=names.ATHENA_WORKGROUP, description="Athena workgroup (its settings say where results go).")
    database: str = Field(default=names.GLUE_DATABASE, description="Glue database of the lake's tables.")
    catalog: str = Field(default="AwsDataCatalog", description="Athena data catalog.")
    output_location: str | None = Field(
        default=None, description="s3:// folder for results, only when the workgroup does not enforce its own."
    )
    timeout_seconds: float = Field(default=900.0, description="Stop a query still running after this long.")
    poll_seconds: float = Field(default=0.25, description="First polling interval; it doubles up to max_poll_seconds.")
    max_poll_seconds: float = Field(default=5.0)
    page_size: int = Field(default=MAX_PAGE, ge=1, le=MAX_PAGE, description="Rows per GetQueryResults page.")
    region_name: str | None = Field(default=None, description="AWS region (default: the environment's).")
    endpoint_url: str | None = Field(default=None, description="Athena endpoint override.")

    _client_cache: dict = PrivateAttr(default_factory=dict)

    def _athena(self):
        if "athena" not in self._client_cache:
            session = boto3.session.Session(region_name=self.region_name)
            self._client_cache["athena"] = session.client(
                "athena", endpoint_url=self.endpoint_url, config=Config(retries={"max_attempts": 8, "mode": "adaptive"})
            )
        return self._client_cache["athena"]

    # ---- the interface ------------------------------------------------------------------------
    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        query_id = self.start(sql)
        execution = self.wait(query_id, sql)
        return self.results(query_id, statement_type=execution.get("StatementType"))

    # ---- the steps ----------------------------------------------------------------------------
    def start(self, sql: str) -> str:
        request: dict[str, Any] = {
            "QueryString": sql,
            "WorkGroup": self.workgroup,
            "QueryExecutionContext": {"Database": self.database, "Catalog": self.catalog},
        }
        if self.output_location:
            request["ResultConfiguration"] = {"OutputLocation": self.output_location}
        return self._athena().start_query_execution(**request)["QueryExecutionId"]

    def wait(self, query_id: str, sql: str = "") -> dict:
        """Poll until the query ends; its QueryExecution, or AthenaQueryError with Athena's reason."""
        client = self._athena()
        deadline = time.monotonic() + self.timeout_seconds
        interval = self.poll_seconds
        while True:
            execution = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            status = execution["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return execution
            if state in DONE:
                reason = status.get("StateChangeReason") or "no reason given"
                error = status.get("AthenaError") or {}
                detail = ""
                if error:
                    detail = f" [error category {error.get('ErrorCategory')}, type {error.get('ErrorType')}]"
                raise AthenaQueryError(
                    f"Athena query {query_id} {state} in workgroup {self.workgroup}: {reason}{detail}\nSQL: {sql}",
                    query_id, state,
                )
            if time.monotonic() >= deadline:
                client.stop_query_execution(QueryExecutionId=query_id)
                raise AthenaQueryError(
                    f"Athena query {query_id} still {state} after {self.timeout_seconds:g}s: stopped\nSQL: {sql}",
                    query_id, "TIMED_OUT",
                )
            time.sleep(interval)
            interval = min(interval * 2, self.max_poll_seconds)

    def results(self, query_id: str, statement_type: str | None = "DML") -> tuple[list[str], list[tuple[Any, ...]]]:
        """Every page of the query's results, as column names and converted rows."""
        client = self._athena()
        columns: list[str] | None = None
        column_info: list[dict] = []
        rows: list[tuple[Any, ...]] = []
        token = None
        first = True
        while True:
            kwargs: dict[str, Any] = {"QueryExecutionId": query_id, "MaxResults": self.page_size}
            if token:
                kwargs["NextToken"] = token
            page = client.get_query_results(**kwargs)
            result = page["ResultSet"]
            if columns is None:
                column_info = result.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                columns = [c["Name"] for c in column_info]
            raw = result.get("Rows", [])
            if first and statement_type == "DML" and raw and _is_header(raw[0], column_info):
                raw = raw[1:]  # a SELECT's first row repeats the column labels
            first = False
            rows.extend(convert_rows(column_info, raw))
            token = page.get("NextToken")
            if not token:
                return columns or [], rows


def _is_header(row: dict, column_info: list[dict]) -> bool:
    labels = [c.get("Label", c.get("Name")) for c in column_info]
    values = [cell.get("VarCharValue") for cell in row.get("Data", [])]
    return bool(labels) and values == labels
