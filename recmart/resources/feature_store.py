"""The feature store: feature groups and their online store (latest record per identifier).

`FeatureStore` is what the ingestion asset asks for: create the groups the code defines
(`recmart.feature_groups.groups`), put a day's rows as records, read one record back. The local
deployment's `LocalFeatureStore` is an embedded online store in a SQLite file (in the lake
folder: recmart.deployments) that behaves like SageMaker's PutRecord: a record replaces the
stored one of its identifier only when its event time is not older, and a record that does
not fit its group is refused. The offline store, locally, is the lake's own `features/` Parquet. On AWS,
`recmart.aws.feature_store.SageMakerFeatureStore` puts the records to SageMaker, which
replicates them to the offline store in S3.

A record that cannot be written is never dropped silently: `put_records` reports every
failure by error code and raises `FeatureIngestionError` when any remain.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from recmart.config import LOCAL_STATE
from recmart.feature_groups.groups import FeatureGroupDef

SAMPLE_FAILED_IDS = 20  # identifiers of failed records kept in a report


@dataclass
class IngestionReport:
    """What happened to one group's records: attempted, written, retried, failed by error code."""

    group: str
    records: int = 0
    written: int = 0
    retries: int = 0
    failures: Counter = field(default_factory=Counter)
    failed_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def fail(self, code: str, identifier: str | None, count: int = 1) -> None:
        self.failures[code] += count
        if identifier is not None and len(self.failed_ids) < SAMPLE_FAILED_IDS:
            self.failed_ids.append(identifier)

    def merge(self, other: IngestionReport) -> None:
        self.records += other.records
        self.written += other.written
        self.retries += other.retries
        self.failures.update(other.failures)
        room = SAMPLE_FAILED_IDS - len(self.failed_ids)
        self.failed_ids.extend(other.failed_ids[: max(room, 0)])

    def summary(self) -> str:
        text = f"{self.group}: {self.written} of {self.records} records written, {self.retries} retries"
        if self.failed:
            codes = ", ".join(f"{code}: {n}" for code, n in self.failures.most_common())
            text += f", {self.failed} failed ({codes}); failed identifiers include {', '.join(self.failed_ids)}"
        return text

    def metadata(self) -> dict:
        return {
            "records": self.records, "written": self.written, "retries": self.retries, "failed": self.failed,
            **{f"failed/{code}": n for code, n in sorted(self.failures.items())},
        }


class FeatureIngestionError(RuntimeError):
    """Records of a group were not written (after retries); `report` says which and why."""

    def __init__(self, report: IngestionReport):
        super().__init__(report.summary())
        self.report = report


class FeatureStoreError(RuntimeError):
    """A feature group cannot be used (missing, failed to create, or unlike its definition)."""


class FeatureStore(dg.ConfigurableResource, ABC):
    """Feature groups and their online records."""

    @abstractmethod
    def ensure_groups(self, groups: Sequence[FeatureGroupDef]) -> None:
        """Create the groups that do not exist yet and wait until every one is ready."""

    @abstractmethod
    def put_records(self, group: FeatureGroupDef, rows: Iterable[dict]) -> IngestionReport:
        """Put every row (a dict of the group table's columns) as a record of the group.

        Returns the report when every record was written; raises FeatureIngestionError (with
        the report) when any was not.
        """

    def put_batches(self, group: FeatureGroupDef, batches: Iterable[pa.RecordBatch]) -> IngestionReport:
        """`put_records` of Arrow batches of the group table's columns (what the lake holds);
        a store that can take columns whole overrides this."""
        return self.put_records(group, (row for batch in batches for row in batch.to_pylist()))

    @abstractmethod
    def get_record(self, group: FeatureGroupDef, record_identifier: str) -> dict[str, str] | None:
        """The online record of an identifier, {feature: value as string}, or None."""


# ---- record rules shared with the Feature Store ------------------------------------------------
def event_time_seconds(value: str) -> float:
    """A record's event time (ISO-8601 string or epoch seconds) as epoch seconds."""
    try:
        return float(value)
    except ValueError:
        pass
    text = value.strip().replace("Z", "+00:00")
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


def record_problem(group: FeatureGroupDef, record: list[dict]) -> str | None:
    """Why the Feature Store would refuse this record (ValidationError), or None."""
    types = {f.name: f.type for f in group.features}
    values = {}
    value: Any  # as the caller gave it: a wrong type is what the checks below report
    for item in record:
        name, value = item["FeatureName"], item.get("ValueAsString")
        if name not in types:
            return f"feature {name!r} is not a feature of {group.name}"
        if name in values:
            return f"feature {name!r} appears twice"
        try:
            if types[name] == "Integral":
                int(value)
            elif types[name] == "Fractional":
                float(value)
        except (TypeError, ValueError):
            return f"feature {name!r} is {types[name]} but got {value!r}"
        values[name] = value
    for required in (group.record_identifier, group.event_time_feature):
        if not values.get(required):
            return f"the record has no {required!r}"
    try:
        event_time_seconds(values[group.event_time_feature])
    except ValueError:
        return f"event time {values[group.event_time_feature]!r} is neither ISO-8601 nor epoch seconds"
    return None


def identifier_of(group: FeatureGroupDef, row: dict) -> str | None:
    value = row.get(group.record_identifier)
    return None if value is None else str(value)


# ---- local --------------------------------------------------------------------------------------
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feature_groups (
    name TEXT PRIMARY KEY,
    record_identifier TEXT NOT NULL,
    event_time_feature TEXT NOT NULL,
    features TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS online_records (
    feature_group TEXT NOT NULL,
    record_identifier TEXT NOT NULL,
    event_time REAL NOT NULL,
    record TEXT NOT NULL,
    written_at TEXT NOT NULL,
    PRIMARY KEY (feature_group, record_identifier)
);
"""

# Like PutRecord's online store: the stored record is replaced unless the new one is older.
_UPSERT = """
INSERT INTO online_records (feature_group, record_identifier, event_time, record, written_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (feature_group, record_identifier) DO UPDATE SET
    event_time = excluded.event_time, record = excluded.record, written_at = excluded.written_at
WHERE excluded.event_time >= online_records.event_time
"""


class LocalFeatureStore(FeatureStore):
    """An embedded online store: one SQLite file, the latest record per identifier by event time."""

    path: str = Field(
        default=str(LOCAL_STATE / "feature_store.db"), description="SQLite file of the online store."
    )
    batch_rows: int = Field(default=5_000, ge=1, description="Records written per transaction.")

    def _connect(self) -> sqlite3.Connection:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=60)
        con.execute("PRAGMA journal_mode=WAL")
        con.executescript(_SCHEMA)
        return con

    def ensure_groups(self, groups: Sequence[FeatureGroupDef]) -> None:
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        con = self._connect()
        try:
            with con:
                for g in groups:
                    features = json.dumps(g.feature_definitions())
                    known = con.execute("SELECT features FROM feature_groups WHERE name = ?", (g.name,)).fetchone()
                    if known is None:
                        con.execute(
                            "INSERT INTO feature_groups VALUES (?, ?, ?, ?, ?)",
                            (g.name, g.record_identifier, g.event_time_feature, features, now),
                        )
                    elif known[0] != features:
                        # Locally the definitions simply follow the code (records keep their values).
                        con.execute("UPDATE feature_groups SET features = ? WHERE name = ?", (features, g.name))
        finally:
            con.close()

    def put_records(self, group: FeatureGroupDef, rows: Iterable[dict]) -> IngestionReport:
        return self._put(group, lambda now, report: _row_records(group, rows, now, report))

    def put_batches(self, group: FeatureGroupDef, batches: Iterable[pa.RecordBatch]) -> IngestionReport:
        """The records of whole Arrow batches, spelt column by column (`_column_text`) instead of
        row by row: the same stored text as `put_records` of the same rows, several times faster."""
        return self._put(group, lambda now, report: (
            record for batch in batches for record in _batch_records(group, batch, now, report)))

    def _put(self, group: FeatureGroupDef,
             records: Callable[[str, IngestionReport], Iterable[tuple]]) -> IngestionReport:
        """Write `records(now, report)` (rows for `_UPSERT`) `batch_rows` a transaction."""
        report = IngestionReport(group.name)
        started = time.monotonic()
        con = self._connect()
        try:
            if con.execute("SELECT 1 FROM feature_groups WHERE name = ?", (group.name,)).fetchone() is None:
                raise FeatureStoreError(f"feature group {group.name} does not exist: create it with ensure_groups")
            pending: list[tuple] = []
            for record in records(dt.datetime.now(dt.timezone.utc).isoformat(), report):
                pending.append(record)
                if len(pending) >= self.batch_rows:
                    report.written += self._write(con, pending)
            report.written += self._write(con, pending)
        finally:
            con.close()
        report.seconds = time.monotonic() - started
        if report.failed:
            raise FeatureIngestionError(report)
        return report

    @staticmethod
    def _write(con: sqlite3.Connection, pending: list[tuple]) -> int:
        """Write the pending records in one transaction; how many were accepted (an older
        event time is accepted and ignored, as PutRecord does)."""
        n = len(pending)
        if n:
            with con:
                con.executemany(_UPSERT, pending)
            pending.clear()
        return n

    def get_record(self, group: FeatureGroupDef, record_identifier: str) -> dict[str, str] | None:
        con = self._connect()
        try:
            found = con.execute(
                "SELECT record FROM online_records WHERE feature_group = ? AND record_identifier = ?",
                (group.name, str(record_identifier)),
            ).fetchone()
        finally:
            con.close()
        return json.loads(found[0]) if found else None


def _row_records(group: FeatureGroupDef, rows: Iterable[dict], now: str, report: IngestionReport) -> Iterator[tuple]:
    """The rows (dicts) for `_UPSERT`, each checked as the Feature Store checks a record."""
    for row in rows:
        report.records += 1
        identifier = identifier_of(group, row)
        try:
            record = group.record(row)
        except ValueError:  # no identifier or no event time
            report.fail("ValidationError", identifier)
            continue
        if record_problem(group, record):
            report.fail("ValidationError", identifier)
            continue
        values = {r["FeatureName"]: r["ValueAsString"] for r in record}
        yield (group.name, values[group.record_identifier], event_time_seconds(values[group.event_time_feature]),
               json.dumps(values, sort_keys=True), now)


# ---- the local store's columnar path --------------------------------------------------------------
def _column_text(column: pa.Array, type_: str) -> pa.Array:
    """A column's values as `feature_value` spells them (null for null), computed per column."""
    if type_ == "timestamp":  # whole seconds, UTC, as "%Y-%m-%dT%H:%M:%SZ"
        seconds = pc.cast(column, pa.timestamp("s", tz="UTC" if column.type.tz else None), safe=False)
        return pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ")
    if type_ == "bool":
        return pc.if_else(column, "1", "0")
    if type_ in ("string", "int32", "int64", "date", "money"):
        # Arrow's text of these is Python's: str(int), date.isoformat(), format(Decimal, "f").
        return pc.cast(column, pa.string())
    # Floats: Python's repr (Arrow spells 100.0 as "100").
    return pa.array([None if v is None else str(v) for v in column.to_pylist()], pa.string())


def _json_member(name: str, text: pa.Array, type_: str) -> pa.Array:
    """`"name": "text"` per row as json.dumps writes it (ASCII), null where the value is null."""
    if type_ == "string":  # only free text needs escaping; the others' text is plain ASCII
        quoted = pa.array([None if v is None else encode_basestring_ascii(v) for v in text.to_pylist()], pa.string())
    else:
        quoted = pc.binary_join_element_wise('"', text, '"', "")
    return pc.binary_join_element_wise(encode_basestring_ascii(name) + ": ", quoted, "")


def _batch_records(group: FeatureGroupDef, batch: pa.RecordBatch, now: str, report: IngestionReport) -> list[tuple]:
    """The rows of `batch` for `_UPSERT`, their records the text `json.dumps(values,
    sort_keys=True)` gives; a row without an identifier or event time is counted failed
    (ValidationError), as `put_records` counts it."""
    types = {c.name: c.type for c in group.table.columns}
    texts = {n: _column_text(batch.column(n), types[n]) for n in types}
    members = [_json_member(n, texts[n], types[n]) for n in sorted(types)]  # sort_keys order
    records = pc.binary_join_element_wise("{", pc.binary_join_element_wise(*members, ", ", null_handling="skip"), "}", "")
    times = batch.column(group.event_time_feature)
    if types[group.event_time_feature] == "timestamp":
        times = pc.cast(pc.cast(times, pa.timestamp("s", tz=times.type.tz), safe=False), pa.int64())
    epochs = pc.cast(times, pa.float64())
    ids = texts[group.record_identifier]
    usable = pc.and_(pc.fill_null(pc.not_equal(ids, ""), False), pc.is_valid(epochs))
    report.records += batch.num_rows
    if not pc.all(usable).as_py():
        for identifier in pc.filter(ids, pc.invert(usable)).to_pylist():
            report.fail("ValidationError", identifier)
        ids, epochs, records = (pc.filter(a, usable) for a in (ids, epochs, records))
    name = group.name
    return [(name, i, e, r, now) for i, e, r in zip(ids.to_pylist(), epochs.to_pylist(), records.to_pylist(), strict=True)]
