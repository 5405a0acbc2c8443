"""SQL over the lake on AWS: Athena over the Glue Data Catalog's tables, through PyAthena.

`AthenaLakeSql` answers the same `LakeSql.query(sql) -> (columns, rows)` as DuckDB does
locally, so the data checks run unchanged in both deployments: the same SQL text goes to
Athena (engine 3, Trino's dialect, which the checks keep to) in the recmart workgroup and
database, and the rows come back as the same Python types DuckDB gives (int, Decimal,
float, bool, date, UTC-aware datetime, str, None).

PyAthena's DB-API cursor starts the query, polls it until it ends and reads its results
page by page (GetQueryResults, up to 1000 rows a page, the header row of a SELECT left out);
`LakeTypeConverter` turns each value into the Python type of its column's Athena type. A
query that does not succeed fails with Athena's own reason (StateChangeReason and error
category); one still running after `timeout_seconds` is stopped. Throttled or failed API
calls are retried by botocore (adaptive mode), the one retry layer: PyAthena's own is off.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pyathena
from botocore.config import Config
from pyathena.connection import Connection
from pyathena.converter import Converter
from pyathena.error import Error as PyAthenaError
from pyathena.model import AthenaQueryExecution
from pyathena.util import RetryConfig
from pydantic import Field, PrivateAttr

from recmart import names
from recmart.resources.sql import LakeSql

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


class LakeTypeConverter(Converter):
    """PyAthena converter giving the Python types DuckDB gives for the same columns."""

    def __init__(self) -> None:
        super().__init__(mappings={})

    def convert(self, type_: str, value: str | None, type_hint: str | None = None) -> Any:
        return None if value is None else converter(type_)(value)


class _QueryTimedOut(Exception):
    def __init__(self, execution: AthenaQueryExecution):
        super().__init__(execution.state)
        self.execution = execution


class _Watch:
    """PyAthena's on_poll for one query: keeps the latest execution (a failure's reason is
    in it) and ends the wait once the query has run past its deadline."""

    def __init__(self, timeout_seconds: float):
        self.deadline = time.monotonic() + timeout_seconds
        self.execution: AthenaQueryExecution | None = None

    def __call__(self, execution) -> None:
        self.execution = execution
        if execution.state not in AthenaQueryExecution.TERMINAL_STATES and time.monotonic() >= self.deadline:
            raise _QueryTimedOut(execution)


class AthenaLakeSql(LakeSql):
    """Runs SQL on Athena over the Glue tables of the lake (names `<layer>_<table>`)."""

    workgroup: str = Field(default=names.ATHENA_WORKGROUP, description="Athena workgroup (its settings say where results go).")
    database: str = Field(default=names.GLUE_DATABASE, description="Glue database of the lake's tables.")
    catalog: str = Field(default="AwsDataCatalog", description="Athena data catalog.")
    output_location: str | None = Field(
        default=None, description="s3:// folder for results, only when the workgroup does not enforce its own."
    )
    timeout_seconds: float = Field(default=900.0, description="Stop a query still running after this long.")
    poll_seconds: float = Field(default=1.0, ge=0, description="Interval between two polls of a running query.")
    page_size: int = Field(default=MAX_PAGE, ge=1, le=MAX_PAGE, description="Rows per GetQueryResults page.")
    region_name: str | None = Field(default=None, description="AWS region (default: the environment's).")
    endpoint_url: str | None = Field(default=None, description="Athena endpoint override.")

    _connection_cache: dict = PrivateAttr(default_factory=dict)

    def connection(self) -> Connection:
        """The PyAthena connection (one per resource), its boto3 client as `.client`."""
        if "connection" not in self._connection_cache:
            extra: dict[str, Any] = {"endpoint_url": self.endpoint_url} if self.endpoint_url else {}
            self._connection_cache["connection"] = pyathena.connect(
                work_group=self.workgroup,
                schema_name=self.database,
                catalog_name=self.catalog,
                # "" rather than None: never PyAthena's AWS_ATHENA_S3_STAGING_DIR fallback.
                s3_staging_dir=self.output_location or "",
                region_name=self.region_name,
                poll_interval=self.poll_seconds,
                config=Config(retries={"max_attempts": 8, "mode": "adaptive"}),
                retry_config=RetryConfig(attempt=1),
                converter=LakeTypeConverter(),
                **extra,
            )
        return self._connection_cache["connection"]

    # ---- the interface ------------------------------------------------------------------------
    def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        watch = _Watch(self.timeout_seconds)
        cursor = self.connection().cursor(on_poll=watch)
        cursor.arraysize = self.page_size
        try:
            # qmark with no parameters: the SQL goes to Athena as it is, never %-formatted.
            cursor.execute(sql, paramstyle="qmark")
            columns = [d[0] for d in cursor.description or []]
            return columns, [tuple(row) for row in cursor.fetchall()]
        except _QueryTimedOut as late:
            cursor.cancel()
            raise AthenaQueryError(
                f"Athena query {cursor.query_id} still {late.execution.state} after {self.timeout_seconds:g}s: "
                f"stopped\nSQL: {sql}",
                cursor.query_id, "TIMED_OUT",
            ) from None
        except PyAthenaError as exc:
            raise self._failure(cursor.query_id, watch.execution, exc, sql) from exc
        finally:
            cursor.close()

    def _failure(self, query_id: str | None, execution: AthenaQueryExecution | None, exc: Exception,
                 sql: str) -> AthenaQueryError:
        state = execution.state if execution else None
        if execution is None or state == AthenaQueryExecution.STATE_SUCCEEDED:
            # The query was not started, its state could not be read, or its results could not.
            what = f"Athena query {query_id}" if query_id else "Athena query"
            return AthenaQueryError(f"{what} in workgroup {self.workgroup} failed: {exc}\nSQL: {sql}", query_id, state)
        reason = execution.state_change_reason or "no reason given"
        detail = ""
        if execution.error_category is not None or execution.error_type is not None:
            detail = f" [error category {execution.error_category}, type {execution.error_type}]"
        return AthenaQueryError(
            f"Athena query {query_id} {state} in workgroup {self.workgroup}: {reason}{detail}\nSQL: {sql}",
            query_id, state,
        )
