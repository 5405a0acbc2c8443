"""The local feature store's columnar path stores exactly what the row path stores."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from decimal import Decimal

import pyarrow as pa
import pytest

from recmart.feature_groups.groups import FEATURE_GROUPS
from recmart.resources.feature_store import FeatureIngestionError, LocalFeatureStore

HOSTILE_TEXT = ["", "plain", 'quo"te', "back\\slash", "tab\tnew\nline", "ünï©ödé", "😀 emoji", "\x00nul", "\u2028sep"]


def _value(rng: random.Random, type_: str):
    if rng.random() < 0.2:
        return None
    if type_ == "string":
        return rng.choice(HOSTILE_TEXT) + str(rng.randrange(100))
    if type_ in ("int32", "int64"):
        return rng.choice([0, -1, 1, 2**31 - 1, -(2**31), rng.randrange(-10**6, 10**6)])
    if type_ == "double":
        return rng.choice([0.0, -0.0, 100.0, 1e-05, 1e16, 0.1 + 0.2, 1 / 3, float("nan"), rng.uniform(-1e6, 1e6)])
    if type_ == "money":
        return Decimal(rng.randrange(-10**8, 10**8)) / 100
    if type_ == "bool":
        return rng.random() < 0.5
    if type_ == "date":
        return dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(-800, 800))
    if type_ == "timestamp":
        micros = rng.choice([0, 999_999, 500_000, rng.randrange(10**6)])
        return dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc) + dt.timedelta(
            seconds=rng.randrange(-10**8, 10**8), microseconds=micros)
    raise AssertionError(type_)


def _rows(group, n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        row = {c.name: _value(rng, c.type) for c in group.table.columns}
        if rng.random() < 0.9:  # most rows have their identifier and event time
            row[group.record_identifier] = rng.choice([f"id{i}", f'id"{i}', f"ïd{i}"])
            row[group.event_time_feature] = _value(random.Random(i), "timestamp") or dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        elif rng.random() < 0.5:
            row[group.record_identifier] = ""  # an empty identifier is refused too
        rows.append(row)
    return rows


def _stored(path) -> list[tuple]:
    with sqlite3.connect(path) as con:
        return con.execute("SELECT feature_group, record_identifier, event_time, record "
                           "FROM online_records ORDER BY 1, 2").fetchall()


@pytest.mark.parametrize("group", FEATURE_GROUPS, ids=lambda g: g.kind)
def test_batches_store_the_same_records_and_refuse_the_same_rows_as_rows_do(tmp_path, group):
    rows = _rows(group, 600, seed=len(group.name))
    schema = group.table.arrow_schema()
    batches = [pa.RecordBatch.from_pylist(rows[i : i + 250], schema=schema) for i in range(0, len(rows), 250)]
    rows = [row for batch in batches for row in batch.to_pylist()]  # as the lake gives them back
    reports = {}
    for name in ("rows", "batches"):
        store = LocalFeatureStore(path=str(tmp_path / f"{name}.db"), batch_rows=100)
        store.ensure_groups([group])
        put = store.put_records if name == "rows" else store.put_batches
        with pytest.raises(FeatureIngestionError) as failed:
            put(group, rows if name == "rows" else batches)
        reports[name] = failed.value.report
    assert _stored(tmp_path / "rows.db") == _stored(tmp_path / "batches.db")
    assert len(_stored(tmp_path / "rows.db")) > 300
    r, b = reports["rows"], reports["batches"]
    assert (r.records, r.written, dict(r.failures)) == (b.records, b.written, dict(b.failures))
    assert r.failed > 0 and r.records == len(rows)


def test_batches_write_every_record_of_a_clean_partition(tmp_path):
    group = FEATURE_GROUPS[0]
    rows = [r for r in _rows(group, 300, seed=7) if r[group.record_identifier] and r[group.event_time_feature]]
    store = LocalFeatureStore(path=str(tmp_path / "fs.db"))
    store.ensure_groups([group])
    report = store.put_batches(group, [pa.RecordBatch.from_pylist(rows, schema=group.table.arrow_schema())])
    assert (report.records, report.written, report.failed) == (len(rows), len(rows), 0)
    one = rows[0]
    got = store.get_record(group, one[group.record_identifier])
    assert got is not None and got[group.event_time_feature].endswith("Z")
