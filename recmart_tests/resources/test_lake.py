"""The local lake publishes partitions atomically: one partition replaced, a version whole
after an interrupted swap or a writer killed mid-write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from recmart.resources import atomic_dirs
from recmart.resources.lake import LocalLake
from recmart.tables import CURATED_INTERACTION_MATRIX, RAW_CLICKSTREAM


def _write(folder: Path, value: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"v": [value] * 3}), folder / "part-0.parquet")


def test_publish_replaces_exactly_one_partition(tmp_path):
    lake = LocalLake(root=str(tmp_path))
    for day, value in (("2026-11-19", 1), ("2026-11-20", 2)):
        staged = Path(lake.new_staging(CURATED_INTERACTION_MATRIX, day, "run1"))
        _write(staged, value)
        lake.publish(CURATED_INTERACTION_MATRIX, day, str(staged))
    staged = Path(lake.new_staging(CURATED_INTERACTION_MATRIX, "2026-11-20", "run2"))
    _write(staged, 3)
    lake.publish(CURATED_INTERACTION_MATRIX, "2026-11-20", str(staged))
    read = lambda d: pq.read_table(lake.partition_location(CURATED_INTERACTION_MATRIX, d)).column("v").to_pylist()  # noqa: E731
    assert read("2026-11-20") == [3, 3, 3] and read("2026-11-19") == [1, 1, 1]
    assert not staged.exists()
    lake.clear(CURATED_INTERACTION_MATRIX, "2026-11-20")
    assert lake.partition_location(CURATED_INTERACTION_MATRIX, "2026-11-20") is None


def test_an_interrupted_fallback_swap_heals_to_a_whole_version(tmp_path):
    lake = LocalLake(root=str(tmp_path))
    target = tmp_path / CURATED_INTERACTION_MATRIX.partition_path("2026-11-20")
    _write(target, 1)
    os.rename(target, atomic_dirs._aside(target))  # a fallback swap killed between its two renames
    loc = lake.partition_location(CURATED_INTERACTION_MATRIX, "2026-11-20")  # readers heal it
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
