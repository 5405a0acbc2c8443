"""The lake: where every table, landing file and staging folder lives.

Assets ask the lake for locations and to publish a partition; they never build paths or
touch a file system themselves. `LocalLake` is a folder; the S3 lake implements the same
interface for the aws deployment.
"""

from __future__ import annotations

import re
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs
from pydantic import Field

from recmart.landing.layout import LANDING_CLICKSTREAM  # noqa: F401 - re-exported for the S3 lake
from recmart.resources import atomic_dirs
from recmart.schema import Table

# <stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid>[.gz], the time being the arrival time (UTC).
FIREHOSE_NAME = re.compile(r"-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[^/]+$")


@dataclass(frozen=True)
class LandedFile:
    key: str  # relative to the lake root, e.g. landing/clickstream/2026/11/20/13/x.gz
    size: int
    mtime_ns: int

    @property
    def arrival_day(self) -> str:
        parts = self.key.split("/")
        return f"{parts[2]}-{parts[3]}-{parts[4]}"


class Lake(dg.ConfigurableResource, ABC):
    """A lake root: Parquet tables by layer, the Firehose landing prefix, staging."""

    @abstractmethod
    def uri(self, relative: str = "") -> str:
        """Location for readers and writers outside the JVM (pyarrow, DuckDB)."""

    def spark_uri(self, relative: str = "") -> str:
        """Location for Spark (s3a:// on S3)."""
        return self.uri(relative)

    @abstractmethod
    def filesystem(self) -> tuple[pafs.FileSystem, str]:
        """A pyarrow file system and the root path inside it."""

    def fs_path(self, uri: str) -> str:
        """The path inside `filesystem()` of a location returned by this lake."""
        return uri

    def spark_uri_of(self, uri: str) -> str:
        """A location returned by this lake, as Spark must spell it."""
        return uri

    # ---- partitions -------------------------------------------------------------------
    @abstractmethod
    def new_staging(self, table: Table, key: str, run_id: str) -> str:
        """A fresh, empty location to write one partition of `table` before publishing it."""

    @abstractmethod
    def publish(self, table: Table, key: str, staging: str) -> None:
        """Atomically make `staging` the partition `key` of `table`."""

    @abstractmethod
    def clear(self, table: Table, key: str) -> None:
        """Remove the partition (its input vanished)."""

    @abstractmethod
    def partition_location(self, table: Table, key: str) -> str | None:
        """Where readers find the published partition, or None when there is none."""

    def read_partition(self, table: Table, key: str, columns: list[str] | None = None) -> pa.Table | None:
        """The published partition as an Arrow table in the table's own schema; None when there is none."""
        location = self.partition_location(table, key)
        if location is None:
            return None
        fs, _ = self.filesystem()
        dataset = pads.dataset(self.fs_path(location), filesystem=fs, format="parquet", schema=table.arrow_schema())
        return dataset.to_table(columns=columns or table.column_names)

    def partition_locations(self, table: Table, keys: list[str]) -> dict[str, str]:
        found = {k: self.partition_location(table, k) for k in keys}
        return {k: v for k, v in found.items() if v}

    def subpartition_locations(self, table: Table, keys: list[str], subkey: str) -> dict[str, str]:
        """{key: location} of `<partition>=key/<subpartition>=subkey` folders that exist."""
        fs, _ = self.filesystem()
        found = {}
        for key, loc in self.partition_locations(table, keys).items():
            sub = f"{loc}/{table.subpartition_column}={subkey}"
            if fs.get_file_info(self.fs_path(sub)).type == pafs.FileType.Directory:
                found[key] = sub
        return found

    # ---- landing ----------------------------------------------------------------------
    def landed_files(self, day: str) -> list[LandedFile]:
        """Every Firehose file that landed on `day` (UTC, YYYY-MM-DD), sorted by key."""
        fs, root = self.filesystem()
        prefix = f"{LANDING_CLICKSTREAM}/{day.replace('-', '/')}"
        infos = fs.get_file_info(pafs.FileSelector(f"{root}/{prefix}", allow_not_found=True, recursive=True))
        files = []
        for info in infos:
            if info.type != pafs.FileType.File or info.base_name.startswith((".", "_")):
                continue
            key = info.path[len(root) + 1 :]
            files.append(LandedFile(key, info.size or 0, info.mtime_ns or 0))
        return sorted(files, key=lambda f: f.key)

    def landed_days(self) -> list[str]:
        """Days (YYYY-MM-DD) that have a landing folder."""
        fs, root = self.filesystem()
        days = []
        for year in _subdirs(fs, f"{root}/{LANDING_CLICKSTREAM}"):
            for month in _subdirs(fs, f"{root}/{LANDING_CLICKSTREAM}/{year}"):
                for day in _subdirs(fs, f"{root}/{LANDING_CLICKSTREAM}/{year}/{month}"):
                    days.append(f"{year}-{month}-{day}")
        return sorted(days)


def _subdirs(fs: pafs.FileSystem, path: str) -> list[str]:
    infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
    return sorted(i.base_name for i in infos if i.type == pafs.FileType.Directory and i.base_name.isdigit())


class LocalLake(Lake):
    """The lake as a local folder (the local deployment)."""

    root: str = Field(description="Folder of the lake (RECMART_LAKE).")

    @property
    def _root(self) -> Path:
        return Path(self.root).absolute()

    def uri(self, relative: str = "") -> str:
        return str(self._root / relative) if relative else str(self._root)

    def filesystem(self) -> tuple[pafs.FileSystem, str]:
        return pafs.LocalFileSystem(), str(self._root)

    def _partition_dir(self, table: Table, key: str) -> Path:
        return self._root / table.partition_path(key)

    def new_staging(self, table: Table, key: str, run_id: str) -> str:
        # Staging sits outside the table folder so readers never see it.
        staged = self._root / "_staging" / table.path / f"{key}.{run_id}.{uuid.uuid4().hex[:8]}"
        staged.parent.mkdir(parents=True, exist_ok=True)
        return str(staged)

    def publish(self, table: Table, key: str, staging: str) -> None:
        staged = Path(staging)
        if not staged.exists():  # a writer that wrote nothing still publishes an empty partition
            staged.mkdir(parents=True)
        for marker in list(staged.rglob("_SUCCESS")) + list(staged.rglob(".*.crc")):
            marker.unlink()
        atomic_dirs.replace_dir(staged, self._partition_dir(table, key))

    def clear(self, table: Table, key: str) -> None:
        atomic_dirs.remove_dir(self._partition_dir(table, key))

    def partition_location(self, table: Table, key: str) -> str | None:
        path = self._partition_dir(table, key)
        atomic_dirs.heal(path)
        return str(path) if path.is_dir() else None
