"""The DuckDB engine's ingest: one landing day's Firehose files -> raw clickstream rows.

Engine-specific, as the design allows (the Spark engine's is `recmart.engine.spark_ingest`);
the parity suite runs both on one set of hand-written files (docs/deploy.md lists the known
differences). Python reads the files (gzip by name, a damaged
one as far as it goes, lines split where Spark's text reader splits them: the same code the
reconciliation check counts with) and DuckDB parses the JSON and routes each record to its
day with the portable expression cleaning judges it by.

A line that is not UTF-8 is kept with each bad byte replaced by U+FFFD, so every reader of
the raw and quarantine layers can read it, and marked corrupt: cleaning refuses it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs

from recmart.engine.duckdb import _casts, _quote
from recmart.engine.portable import render_expression
from recmart.landing.layout import arrival_time_of
from recmart.landing.lines import line_array
from recmart.steps.event_time import assigned_date_sql, event_time_sql
from recmart.tables import CLICK_FIELDS, RAW_CLICKSTREAM

# Lines handed to DuckDB at a time: bounds the memory of a landing day of any size.
_BATCH_BYTES = 256 << 20

_LINES = pa.schema([("record", pa.large_string()), ("source_file", pa.dictionary(pa.int32(), pa.string())),
                    ("arrival_time", pa.timestamp("us", tz="UTC")), ("not_utf8", pa.bool_())])


def _file_lines(fs: pafs.FileSystem, path: str, key: str) -> tuple[pa.Table, str | None]:
    lines, damage = line_array(fs, path)
    n = len(lines)
    try:
        records = pc.utf8_rtrim(lines.cast(pa.large_string()), characters="\r\n")
        bad = pa.repeat(pa.scalar(False), n)
    except pa.ArrowInvalid:  # some line is not UTF-8: find which, and keep it readable
        raw = [line.rstrip(b"\r\n") for line in lines.to_pylist()]
        texts = [line.decode("utf-8", "replace") for line in raw]
        records = pa.array(texts, pa.large_string())
        bad = pa.array([t.encode("utf-8") != line for t, line in zip(texts, raw, strict=True)], pa.bool_())
    # The file's key and arrival, the same on every line: one dictionary entry, not n copies.
    source = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([key], pa.string()))
    arrival = pa.repeat(pa.scalar(arrival_time_of(key), pa.timestamp("us", tz="UTC")), n)
    return pa.table([records, source, arrival, bad], schema=_LINES), damage


def _batches(fs: pafs.FileSystem, files: Sequence[tuple[str, str]], damaged: dict) -> Iterator[pa.Table]:
    """Tables of lines of about _BATCH_BYTES; files are read two at a time (zlib and file
    reads release the GIL)."""
    pending, size = [], 0
    with ThreadPoolExecutor(2) as pool:
        for (_, key), (table, damage) in zip(files, pool.map(lambda f: _file_lines(fs, *f), files), strict=True):
            if damage:
                damaged[key] = damage
            pending.append(table)
            size += table.nbytes
            if size >= _BATCH_BYTES:
                yield pa.concat_tables(pending)
                pending, size = [], 0
    if pending:
        yield pa.concat_tables(pending)


def _raw_sql(max_late_days: int, future_skew_minutes: int) -> str:
    params = {"max_late_days": max_late_days, "future_skew_minutes": future_skew_minutes}
    ts = render_expression(event_time_sql("event_time"), "duckdb", {})
    route = render_expression(assigned_date_sql("_ts", "arrival_time"), "duckdb", params)
    paths = "[" + ", ".join(f"'$.{f}'" for f in CLICK_FIELDS) + "]"
    fields = ", ".join(f'_v[{i + 1}] AS "{f}"' for i, f in enumerate(CLICK_FIELDS))
    # A line is a record when it is one JSON object and nothing else, spaces around it
    # allowed: json_valid refuses `{...} trailing text` (Spark's parser would take its first
    # object), json_type a top-level array. Tabs around it make it corrupt, as Spark's
    # ingest's trim (spaces only) does; the first test is enough for nearly every line.
    return f"""
        SELECT {_casts(RAW_CLICKSTREAM)}, {route} AS event_date FROM (
            SELECT *, {ts} AS _ts FROM (
                SELECT record, source_file, arrival_time, _j IS NULL AS corrupt, {fields} FROM (
                    SELECT *, json_extract_string(_j, {paths}) AS _v FROM (
                        SELECT *, CASE WHEN NOT not_utf8 AND json_valid(record)
                                        AND json_type(record) = 'OBJECT'
                                        AND (starts_with(record, '{{') OR regexp_matches(record, '^ *[{{]'))
                                        AND (ends_with(record, '}}') OR regexp_matches(record, '[}}] *$'))
                                       THEN record END AS _j
                        FROM lines))))"""


def ingest(
    con: duckdb.DuckDBPyConnection,
    fs: pafs.FileSystem,
    files: Sequence[tuple[str, str]],
    out_folder: str,
    *,
    max_late_days: int,
    future_skew_minutes: int,
) -> dict:
    """Write the raw rows of `files` ({fs path, landing key}) to `out_folder` by event day
    (`event_date=<day>/part-*.parquet`); rows per event day and the damaged files."""
    damaged: dict[str, str] = {}
    by_day: dict[str, int] = {}
    sql = _raw_sql(max_late_days, future_skew_minutes)
    Path(out_folder).mkdir(parents=True, exist_ok=True)
    for batch in _batches(fs, files, damaged):
        con.register("lines", batch)
        con.execute(f"CREATE OR REPLACE TEMP TABLE raw_batch AS {sql}")
        con.unregister("lines")
        days = con.execute("SELECT event_date, count(*) FROM raw_batch GROUP BY ALL ORDER BY ALL").fetchall()
        for day, rows in days:
            by_day[day.isoformat()] = by_day.get(day.isoformat(), 0) + rows
            # A file per event day, written by hand: DuckDB's PARTITION_BY writes the same
            # files about 4x slower (10.5 s against 2.2 s for the 1 M day of bench/spine).
            folder = Path(out_folder) / f"event_date={day.isoformat()}"
            folder.mkdir(exist_ok=True)
            con.execute(
                f"COPY (SELECT * EXCLUDE (event_date) FROM raw_batch WHERE event_date = ?) "
                f"TO {_quote(str(folder / f'part-{uuid.uuid4()}.parquet'))} (FORMAT parquet, COMPRESSION snappy)",
                [day],
            )
        con.execute("DROP TABLE raw_batch")
    return {"rows": sum(by_day.values()), "rows_by_event_date": by_day, "damaged_files": damaged}

