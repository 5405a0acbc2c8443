"""The Glue Data Catalog as the lake's partition catalog (aws deployment).

Partition registration, not partition projection
------------------------------------------------
Athena can learn a table's partitions two ways: *projection* computes them from table
properties (a date range and a location template such as
`s3://lake/curated/cleaned_events/event_date=${event_date}/`), so a new day is visible
without any catalog call; *registration* stores one Glue partition per day with its own
location.

recmart registers. Publishing a partition on S3 is atomic by switching locations: each run
writes its version of a partition to a fresh, run-specific location and the publish makes
that location the partition's current one. A projection template can only name one fixed
location per day, so Athena would read either a folder that a publish must overwrite in
place (readers then see half-old, half-new files) or no data at all. A registered
partition's location can be switched in one UpdatePartition call, which is exactly the
atomic publish readers need: Athena sees the old version or the new one, never a mix, and
the new day is visible as soon as the publish returns (no registration lag, no MSCK REPAIR,
no crawler). The cost, one Glue call per published partition, is negligible next to
writing the partition; Glue's partition index keeps lookups fast for years of days.

What happens on each call
-------------------------
- The database and table are created from `Table.glue_table_input` when missing (Terraform
  normally creates them from the same definition; this keeps a fresh account working).
- `register_partition` creates the partition (BatchCreatePartition) or, when it exists with
  another location, points it at the new one (UpdatePartition).
- `drop_partition` deletes it (a cleared partition disappears from Athena too).
- Raw clickstream has a second partition level (arrival day, then event day): registering
  an arrival day lists the `event_date=` folders under the new location and registers one
  Glue partition per (arrival_date, event_date), deleting those of the day that are gone.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from pydantic import Field, PrivateAttr

from recmart import names
from recmart.resources.catalog import PartitionCatalog
from recmart.schema import Table

BATCH_CREATE_LIMIT = 100  # partitions per BatchCreatePartition
BATCH_DELETE_LIMIT = 25  # partitions per BatchDeletePartition


class CatalogError(RuntimeError):
    """Glue refused a catalog change; the message names the table and partition."""


def _s3_uri(location: str) -> str:
    """Glue and Athena spell S3 locations s3://, whatever the writer used (s3a:// for Spark)."""
    for scheme in ("s3a://", "s3n://"):
        if location.startswith(scheme):
            return "s3://" + location[len(scheme):]
    return location


def _folder(location: str) -> str:
    """A partition location as a folder: with a trailing slash, so `...=2026-11-2` never
    prefixes `...=2026-11-20`."""
    return _s3_uri(location).rstrip("/") + "/"


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


class GlueCatalog(PartitionCatalog):
    """Tables and partitions of the lake in the Glue Data Catalog, for Athena."""

    lake_uri: str = Field(description="The lake, s3://bucket/prefix (RECMART_LAKE); a table lives at <lake>/<layer>/<table>.")
    database: str = Field(default=names.GLUE_DATABASE, description="Glue database of the lake's tables.")
    region_name: str | None = Field(default=None, description="AWS region (default: the environment's).")
    endpoint_url: str | None = Field(default=None, description="Glue endpoint override (tests, VPC endpoints).")

    _clients: dict = PrivateAttr(default_factory=dict)
    _known_tables: set = PrivateAttr(default_factory=set)

    # ---- clients ------------------------------------------------------------------------------
    def _client(self, service: str):
        if service not in self._clients:
            session = boto3.session.Session(region_name=self.region_name)
            self._clients[service] = session.client(
                service,
                endpoint_url=self.endpoint_url if service == "glue" else None,
                config=Config(retries={"max_attempts": 8, "mode": "adaptive"}),
            )
        return self._clients[service]

    @property
    def glue(self):
        return self._client("glue")

    # ---- tables -------------------------------------------------------------------------------
    def table_location(self, table: Table) -> str:
        return f"{_s3_uri(self.lake_uri).rstrip('/')}/{table.path}"

    def ensure_table(self, table: Table) -> None:
        """Create the database and the table from the code's schema definition when missing."""
        if table.sql_name in self._known_tables:
            return
        try:
            self.glue.get_table(DatabaseName=self.database, Name=table.sql_name)
        except ClientError as exc:
            if _code(exc) != "EntityNotFoundException":
                raise
            self._ensure_database()
            try:
                self.glue.create_table(
                    DatabaseName=self.database, TableInput=table.glue_table_input(self.table_location(table))
                )
            except ClientError as exc2:
                if _code(exc2) != "AlreadyExistsException":  # created meanwhile by another run
                    raise CatalogError(f"cannot create Glue table {self.database}.{table.sql_name}: {exc2}") from exc2
        self._known_tables.add(table.sql_name)

    def _ensure_database(self) -> None:
        try:
            self.glue.get_database(Name=self.database)
        except ClientError as exc:
            if _code(exc) != "EntityNotFoundException":
                raise
            try:
                self.glue.create_database(
                    DatabaseInput={"Name": self.database, "Description": "recmart: the lake's tables, for Athena"}
                )
            except ClientError as exc2:
                if _code(exc2) != "AlreadyExistsException":
                    raise

    # ---- partitions ---------------------------------------------------------------------------
    def _partition_input(self, table: Table, values: list[str], location: str) -> dict[str, Any]:
        descriptor = dict(table.glue_table_input(location)["StorageDescriptor"])
        descriptor["Location"] = location
        return {"Values": values, "StorageDescriptor": descriptor, "Parameters": {}}

    def partition_location(self, table: Table, values: list[str] | str) -> str | None:
        """Where Athena reads the partition `values` (a key, or [key, subkey]), or None."""
        values = [values] if isinstance(values, str) else list(values)
        try:
            found = self.glue.get_partition(
                DatabaseName=self.database, TableName=table.sql_name, PartitionValues=values
            )
        except ClientError as exc:
            if _code(exc) == "EntityNotFoundException":
                return None
            raise
        return found["Partition"]["StorageDescriptor"]["Location"]

    def partitions(self, table: Table, key: str | None = None) -> dict[tuple[str, ...], str]:
        """{partition values: location} of the table, or of one first-level key."""
        kwargs: dict[str, Any] = {"DatabaseName": self.database, "TableName": table.sql_name}
        if key is not None:
            kwargs["Expression"] = f"{table.partition_column} = '{_date_key(key)}'"
        found: dict[tuple[str, ...], str] = {}
        for page in self.glue.get_paginator("get_partitions").paginate(**kwargs):
            for part in page["Partitions"]:
                found[tuple(part["Values"])] = part["StorageDescriptor"]["Location"]
        return found

    def register_partition(self, table: Table, key: str, location: str) -> None:
        if not table.partition_column:
            raise ValueError(f"table {table.sql_name} is not partitioned: nothing to register")
        key = _date_key(key)
        self.ensure_table(table)
        if table.subpartition_column:
            self._register_subpartitions(table, key, _s3_uri(location))
            return
        location = _folder(location)
        current = self.partition_location(table, [key])
        if current is None:
            self._create(table, {(key,): location})
        elif current != location:
            self._update(table, (key,), location)

    def drop_partition(self, table: Table, key: str) -> None:
        if not table.partition_column:
            raise ValueError(f"table {table.sql_name} is not partitioned")
        key = _date_key(key)
        if table.subpartition_column:
            self._delete(table, list(self.partitions(table, key)))
            return
        try:
            self.glue.delete_partition(DatabaseName=self.database, TableName=table.sql_name, PartitionValues=[key])
        except ClientError as exc:
            if _code(exc) != "EntityNotFoundException":  # already gone: nothing to forget
                raise

    def _register_subpartitions(self, table: Table, key: str, location: str) -> None:
        column = table.subpartition_column
        if column is None:
            raise ValueError(f"{table.path} has no subpartition column")
        wanted = {
            (key, sub): _folder(f"{location.rstrip('/')}/{column}={sub}")
            for sub in self._subkeys(location, column)
        }
        current = self.partitions(table, key)
        self._create(table, {v: loc for v, loc in wanted.items() if v not in current})
        for values, loc in wanted.items():
            if values in current and current[values] != loc:
                self._update(table, values, loc)
        self._delete(table, [v for v in current if v not in wanted])

    def _subkeys(self, location: str, column: str) -> list[str]:
        """The `<column>=<value>/` folders directly under an S3 location."""
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        subkeys = []
        for page in self._client("s3").get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, Delimiter="/"
        ):
            for common in page.get("CommonPrefixes", []):
                name = common["Prefix"][len(prefix):].rstrip("/")
                if name.startswith(f"{column}="):
                    subkeys.append(name.split("=", 1)[1])
        return sorted(subkeys)

    def _create(self, table: Table, partitions: dict[tuple[str, ...], str]) -> None:
        items = list(partitions.items())
        for i in range(0, len(items), BATCH_CREATE_LIMIT):
            chunk = items[i : i + BATCH_CREATE_LIMIT]
            answer = self.glue.batch_create_partition(
                DatabaseName=self.database,
                TableName=table.sql_name,
                PartitionInputList=[self._partition_input(table, list(v), loc) for v, loc in chunk],
            )
            for error in answer.get("Errors", []):
                values = tuple(error["PartitionValues"])
                detail = error.get("ErrorDetail", {})
                if detail.get("ErrorCode") == "AlreadyExistsException":
                    # Registered meanwhile (a concurrent run): make it point at our location.
                    self._update(table, values, partitions[values])
                    continue
                raise CatalogError(
                    f"cannot register partition {list(values)} of {self.database}.{table.sql_name}: "
                    f"{detail.get('ErrorCode')}: {detail.get('ErrorMessage')}"
                )

    def _update(self, table: Table, values: tuple[str, ...], location: str) -> None:
        self.glue.update_partition(
            DatabaseName=self.database,
            TableName=table.sql_name,
            PartitionValueList=list(values),
            PartitionInput=self._partition_input(table, list(values), location),
        )

    def _delete(self, table: Table, partitions: list[tuple[str, ...]]) -> None:
        for i in range(0, len(partitions), BATCH_DELETE_LIMIT):
            chunk = partitions[i : i + BATCH_DELETE_LIMIT]
            answer = self.glue.batch_delete_partition(
                DatabaseName=self.database,
                TableName=table.sql_name,
                PartitionsToDelete=[{"Values": list(v)} for v in chunk],
            )
            errors = [e for e in answer.get("Errors", []) if e.get("ErrorDetail", {}).get("ErrorCode") != "EntityNotFoundException"]
            if errors:
                raise CatalogError(f"cannot delete partitions of {self.database}.{table.sql_name}: {errors}")


def _date_key(key: str) -> str:
    """Partition keys are UTC days; refuse anything else before it reaches an expression."""
    import datetime as dt

    try:
        return dt.date.fromisoformat(key).isoformat()
    except ValueError:
        raise ValueError(f"partition key {key!r} is not a day (YYYY-MM-DD)") from None
