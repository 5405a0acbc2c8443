"""Settings fail at start naming the setting; partitions publish atomically."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recmart.config import SettingError, load_settings
from recmart.resources import atomic_dirs
from recmart.resources.lake import LocalLake
from recmart.tables import INTERACTION_MATRIX, RAW_CLICKSTREAM


@pytest.mark.parametrize(
    "env, named",
    [
        ({"RECMART_DEPLOYMENT": "cloud"}, "RECMART_DEPLOYMENT"),
        ({"RECMART_SOURCE_DB": "not a url"}, "RECMART_SOURCE_DB"),
        ({"RECMART_SOURCE_DB": "mysql://x@y/z"}, "RECMART_SOURCE_DB"),
        ({"RECMART_LAKE": "http://example.invalid/lake"}, "RECMART_LAKE"),
        ({"RECMART_LAKE": "s3://Bad_Bucket"}, "RECMART_LAKE"),
        ({"RECMART_DEPLOYMENT": "aws", "RECMART_LAKE": "./lake"}, "RECMART_LAKE"),
        ({"RECMART_FIRST_DAY": "yesterday"}, "RECMART_FIRST_DAY"),
        ({"RECMART_EXECUTOR": "threads"}, "RECMART_EXECUTOR"),
    ],
)
def test_bad_settings_fail_naming_the_setting(env, named):
    with pytest.raises(SettingError, match=named):
        load_settings(env)


def test_defaults_are_the_local_deployment():
    s = load_settings({})
    assert (s.deployment, s.lake, s.source_db) == ("local", ".recmart/lake", "sqlite:///.recmart/source.db")


def test_code_location_refuses_to_load_with_a_bad_setting(tmp_path):
    env = {**os.environ, "RECMART_DEPLOYMENT": "cloud"}
    proc = subprocess.run([sys.executable, "-c", "import recmart.definitions"], env=env, cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "RECMART_DEPLOYMENT='cloud' is not one of local, aws" in proc.stderr


def _write(folder: Path, value: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"v": [value] * 3}), folder / "part-0.parquet")


def test_publish_replaces_exactly_one_partition(tmp_path):
    lake = LocalLake(root=str(tmp_path))
    for day, value in (("2026-11-19", 1), ("2026-11-20", 2)):
        staged = Path(lake.new_staging(INTERACTION_MATRIX, day, "run1"))
        _write(staged, value)
        lake.publish(INTERACTION_MATRIX, day, str(staged))
    staged = Path(lake.new_staging(INTERACTION_MATRIX, "2026-11-20", "run2"))
    _write(staged, 3)
    lake.publish(INTERACTION_MATRIX, "2026-11-20", str(staged))
    read = lambda d: pq.read_table(lake.partition_location(INTERACTION_MATRIX, d)).column("v").to_pylist()  # noqa: E731
    assert read("2026-11-20") == [3, 3, 3] and read("2026-11-19") == [1, 1, 1]
    assert not staged.exists()
    lake.clear(INTERACTION_MATRIX, "2026-11-20")
    assert lake.partition_location(INTERACTION_MATRIX, "2026-11-20") is None


def test_an_interrupted_fallback_swap_heals_to_a_whole_version(tmp_path):
    lake = LocalLake(root=str(tmp_path))
    target = tmp_path / INTERACTION_MATRIX.partition_path("2026-11-20")
    _write(target, 1)
    os.rename(target, atomic_dirs._aside(target))  # a fallback swap killed between its two renames
    loc = lake.partition_location(INTERACTION_MATRIX, "2026-11-20")  # readers heal it
    assert pq.read_table(loc).column("v").to_pylist() == [1, 1, 1]


def test_a_writer_killed_mid_write_leaves_the_previous_version_whole(tmp_path):
    """A process writing a new version is SIGKILLed; readers still see the old one, whole."""
    lake = LocalLake(root=str(tmp_path))
    day = "2026-11-20"
    staged = Path(lake.new_staging(RAW_CLICKSTREAM, day, "old"))
    _write(staged, 1)
    lake.publish(RAW_CLICKSTREAM, day, str(staged))
    script = textwrap.dedent(f"""
        import time, pyarrow as pa, pyarrow.parquet as pq
        from pathlib import Path
        from recmart.resources.lake import LocalLake
        from recmart.tables import RAW_CLICKSTREAM
        lake = LocalLake(root={str(tmp_path)!r})
        staged = Path(lake.new_staging(RAW_CLICKSTREAM, {day!r}, "new"))
        staged.mkdir(parents=True, exist_ok=True)
        with pq.ParquetWriter(staged / "part-0.parquet", pa.schema([("v", pa.int64())])) as w:
            w.write_table(pa.table({{"v": [2] * 1000}}))
            print("writing", flush=True)
            time.sleep(60)
        lake.publish(RAW_CLICKSTREAM, {day!r}, str(staged))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    loc = lake.partition_location(RAW_CLICKSTREAM, day)
    assert pq.read_table(loc).column("v").to_pylist() == [1, 1, 1]


def test_landed_lines_are_counted_and_a_damaged_gzip_is_named(tmp_path):
    import gzip

    import pyarrow.fs as pafs

    from recmart.landing.lines import count_records

    body = b"".join(b'{"n": %d}\n' % i for i in range(5000))
    whole = gzip.compress(body)
    bad_crc = bytearray(whole)
    bad_crc[-8] ^= 0xFF  # the trailer's CRC-32
    files = {
        "plain": body + b"{no newline at the end}",
        "two-members.gz": gzip.compress(body) + gzip.compress(b"one more\n"),
        "empty.gz": b"",
        "truncated.gz": whole[: len(whole) // 2],
        "bad-crc.gz": bytes(bad_crc),
    }
    fs = pafs.LocalFileSystem()
    counted = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        counted[name] = count_records(fs, str(tmp_path / name))
    assert counted["plain"] == (5001, None)
    assert counted["two-members.gz"] == (5001, None)
    assert counted["empty.gz"] == (0, None)
    n, why = counted["truncated.gz"]
    assert 0 < n < 5000 and why.startswith("truncated gzip")
    _, why = counted["bad-crc.gz"]
    assert why.startswith("corrupt gzip") and "incorrect data check" in why  # the CRC-32 does not match


def test_check_queries_run_in_bounded_memory_and_spill_outside_the_repository(tmp_path):
    from recmart.resources.sql import DuckDBLakeSql

    sql = DuckDBLakeSql(lake=LocalLake(root=str(tmp_path)))
    limit, spill = sql.query("SELECT current_setting('memory_limit'), current_setting('temp_directory')")[1][0]
    assert limit == "488.2 MiB"  # 512 MB, as DuckDB prints it
    assert spill.endswith("recmart-duckdb-spill") and not spill.startswith(os.getcwd())
