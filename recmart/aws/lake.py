"""The lake on S3 (`s3://bucket/prefix`), with atomic publication of partitions.

S3 has no rename, so a partition cannot be swapped like a local folder. Instead every write
goes to its own version prefix inside the partition, and a small pointer object names the
version readers must use:

    <table>/<column>=<key>/_current.json          {"version": V, "previous": P, ...}
    <table>/<column>=<key>/_runs/<V>/part-*.parquet

* `new_staging` hands out a fresh `_runs/<run id>.<random>/` prefix; the step writes there.
* `publish` writes the new pointer in one PutObject (S3 is strongly consistent: a reader gets
  the old or the new pointer, never a mix), then tells the partition catalog (Glue, so Athena
  reads the new location), then deletes what is no longer needed.
* Readers resolve a partition only through `partition_location`, which reads the pointer, so
  a run that is still writing, or was killed half-way, is never read; its leftovers are swept.
* Version retention: the version just replaced is kept until the next publish of the
  partition (a reader that resolved it a moment before the switch can finish), the one before
  it is deleted. A version that was never published (a failed or killed run) is deleted once
  it is older than `stale_staging_hours`, so a run still writing is never swept. Noncurrent
  S3 object versions then expire by the bucket's lifecycle rule (deploy/terraform/s3.tf).
* `clear` deletes the pointer first (the partition disappears at once), drops the catalog
  partition, then the data.

Hadoop, Spark and Athena skip names that start with `_`, so neither the pointer nor the
`_runs` folder shows up as data or as a partition column when a table folder is listed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from functools import cache
from urllib.parse import urlparse

import pyarrow.fs as pafs
from pydantic import Field, field_validator

from recmart.resources.catalog import PartitionCatalog
from recmart.resources.lake import LANDING_CLICKSTREAM, Lake, LandedFile
from recmart.schema import Table

log = logging.getLogger(__name__)

POINTER = "_current.json"
VERSIONS = "_runs"
# Markers some committers leave in an output folder; never part of a published partition.
MARKERS = ("_SUCCESS",)


@cache
def default_region() -> str | None:
    """The AWS SDK's region (AWS_REGION, AWS_DEFAULT_REGION, the profile), if any."""
    import boto3

    return boto3.session.Session().region_name


@cache
def s3_client(region: str | None, endpoint_url: str | None):
    """One boto3 S3 client per (region, endpoint) and process (boto3 clients are thread-safe)."""
    import boto3

    return boto3.session.Session().client("s3", region_name=region, endpoint_url=endpoint_url)


@cache
def s3_filesystem(region: str | None, endpoint_url: str | None) -> pafs.S3FileSystem:
    kwargs: dict = {}
    if region:
        kwargs["region"] = region
    if endpoint_url:
        parsed = urlparse(endpoint_url)
        kwargs["endpoint_override"] = parsed.netloc or parsed.path
        kwargs["scheme"] = parsed.scheme or "https"
    return pafs.S3FileSystem(**kwargs)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/a/b` (or s3a://) -> ("bucket", "a/b")."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("s3", "s3a") or not parsed.netloc:
        raise ValueError(f"{uri!r} is not an s3://bucket/key URI")
    return parsed.netloc, parsed.path.lstrip("/")


class S3Lake(Lake):
    """The lake under `s3://bucket/prefix` (the aws deployment)."""

    root: str = Field(description="s3://bucket/prefix of the lake (RECMART_LAKE).")
    region: str | None = Field(default=None, description="AWS region of the bucket (default: the AWS SDK's).")
    endpoint_url: str | None = Field(
        default=None, description="S3 endpoint override (S3-compatible stores, tests); default AWS."
    )
    spark_scheme: str = Field(
        default="s3a",
        description="URI scheme Spark reads and writes with: s3a for open-source Spark, "
        "s3 for Glue and EMR (their own S3 connector and committer).",
    )
    stale_staging_hours: float = Field(
        default=72.0,
        description="An unpublished version (failed or killed run) older than this is deleted "
        "at the partition's next publish or clear. Keep it above the longest step run.",
    )
    catalog: PartitionCatalog | None = Field(
        default=None, description="Told about every publish and clear (Glue Data Catalog, for Athena)."
    )

    @field_validator("root")
    @classmethod
    def _s3_root(cls, value: str) -> str:
        split_s3_uri(value)
        return value.rstrip("/")

    @field_validator("spark_scheme")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if value not in ("s3", "s3a"):
            raise ValueError(f"spark_scheme must be s3 or s3a, not {value!r}")
        return value

    # ---- clients and names -------------------------------------------------------------
    @property
    def bucket(self) -> str:
        return split_s3_uri(self.root)[0]

    @property
    def prefix(self) -> str:
        return split_s3_uri(self.root)[1].strip("/")

    def _resolved_region(self) -> str | None:
        return self.region or default_region()

    @property
    def s3(self):
        return s3_client(self._resolved_region(), self.endpoint_url)

    def _key(self, relative: str) -> str:
        relative = relative.strip("/")
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def _relative(self, key: str) -> str:
        return key[len(self.prefix) + 1 :] if self.prefix else key

    # ---- Lake interface: locations -----------------------------------------------------
    def uri(self, relative: str = "") -> str:
        return f"{self.root}/{relative.strip('/')}" if relative else self.root

    def spark_uri(self, relative: str = "") -> str:
        return self.spark_uri_of(self.uri(relative))

    def spark_uri_of(self, uri: str) -> str:
        bucket, key = split_s3_uri(uri)
        return f"{self.spark_scheme}://{bucket}/{key}".rstrip("/")

    def filesystem(self) -> tuple[pafs.FileSystem, str]:
        fs = s3_filesystem(self._resolved_region(), self.endpoint_url)
        return fs, f"{self.bucket}/{self.prefix}".rstrip("/")

    def fs_path(self, uri: str) -> str:
        bucket, key = split_s3_uri(uri)
        return f"{bucket}/{key}".rstrip("/")

    # ---- partitions --------------------------------------------------------------------
    def _partition_key(self, table: Table, key: str) -> str:
        return self._key(table.partition_path(key))

    def _version_key(self, table: Table, key: str, version: str) -> str:
        return f"{self._partition_key(table, key)}/{VERSIONS}/{version}"

    def _read_pointer(self, table: Table, key: str) -> dict | None:
        try:
            obj = self.s3.get_object(Bucket=self.bucket, Key=f"{self._partition_key(table, key)}/{POINTER}")
        except self.s3.exceptions.NoSuchKey:
            return None
        return json.loads(obj["Body"].read())

    def new_staging(self, table: Table, key: str, run_id: str) -> str:
        version = f"{run_id}.{uuid.uuid4().hex[:8]}"
        return f"s3://{self.bucket}/{self._version_key(table, key, version)}"

    def _version_of(self, table: Table, key: str, staging: str) -> str:
        bucket, staged_key = split_s3_uri(staging)
        base = f"{self._partition_key(table, key)}/{VERSIONS}/"
        version = staged_key.rstrip("/")[len(base) :]
        if bucket != self.bucket or not staged_key.startswith(base) or not version or "/" in version:
            raise ValueError(f"{staging!r} is not a staging location of {table.path} partition {key}")
        return version

    def publish(self, table: Table, key: str, staging: str) -> None:
        version = self._version_of(table, key, staging)
        version_key = self._version_key(table, key, version)
        objects = list(self._list(f"{version_key}/"))
        markers = [o["Key"] for o in objects if o["Key"].rsplit("/", 1)[-1] in MARKERS]
        self._delete_keys(markers)
        if len(objects) == len(markers):
            # A writer that wrote nothing still publishes an empty partition: a folder marker,
            # which Spark and pyarrow read as an empty directory.
            self.s3.put_object(Bucket=self.bucket, Key=f"{version_key}/", Body=b"")
        old = self._read_pointer(table, key) or {}
        pointer = {
            "version": version,
            "previous": old.get("version"),
            "published_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        # The switch: one PutObject, atomic for readers.
        self.s3.put_object(
            Bucket=self.bucket,
            Key=f"{self._partition_key(table, key)}/{POINTER}",
            Body=json.dumps(pointer).encode(),
            ContentType="application/json",
        )
        location = f"s3://{self.bucket}/{version_key}"
        if self.catalog is not None:
            self.catalog.register_partition(table, key, location)
        keep = {v for v in (version, old.get("version")) if v is not None}
        self._sweep(table, key, keep=keep, doomed={v for v in (old.get("previous"),) if v is not None} - keep)

    def clear(self, table: Table, key: str) -> None:
        old = self._read_pointer(table, key)
        if old is not None:
            self.s3.delete_object(Bucket=self.bucket, Key=f"{self._partition_key(table, key)}/{POINTER}")
        if self.catalog is not None:
            self.catalog.drop_partition(table, key)
        if old is not None:
            self._sweep(table, key, keep=set(), doomed={v for v in (old.get("version"), old.get("previous")) if v is not None})
        else:
            self._sweep(table, key, keep=set(), doomed=set())

    def partition_location(self, table: Table, key: str) -> str | None:
        pointer = self._read_pointer(table, key)
        if pointer is None:
            return None
        return f"s3://{self.bucket}/{self._version_key(table, key, pointer['version'])}"

    def versions(self, table: Table, key: str) -> dict[str, dt.datetime]:
        """{version: time of its newest object} of every version stored for the partition."""
        base = f"{self._partition_key(table, key)}/{VERSIONS}/"
        found: dict[str, dt.datetime] = {}
        for obj in self._list(base):
            version = obj["Key"][len(base) :].split("/", 1)[0]
            if version and (version not in found or obj["LastModified"] > found[version]):
                found[version] = obj["LastModified"]
        return found

    def _sweep(self, table: Table, key: str, *, keep: set[str], doomed: set[str]) -> None:
        """Delete `doomed` versions, and unpublished ones older than the staging grace period."""
        try:
            cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=self.stale_staging_hours)
            victims = {v for v, newest in self.versions(table, key).items() if v in doomed or newest < cutoff}
            for version in sorted(victims - keep):
                self._delete_prefix(f"{self._version_key(table, key, version)}/")
        except Exception as exc:  # the partition is published; leftovers are swept next time
            log.warning("could not delete old versions of %s %s: %s", table.path, key, exc)

    # ---- S3 helpers --------------------------------------------------------------------
    def _list(self, prefix: str, delimiter: str | None = None):
        """Every object under `prefix` (all pages); with a delimiter, the common prefixes."""
        paginator = self.s3.get_paginator("list_objects_v2")
        kwargs = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = delimiter
        for page in paginator.paginate(**kwargs):
            if delimiter:
                yield from (p["Prefix"] for p in page.get("CommonPrefixes", []))
            else:
                yield from page.get("Contents", [])

    def _delete_keys(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            chunk = keys[start : start + 1000]
            result = self.s3.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
            )
            if result.get("Errors"):
                first = result["Errors"][0]
                raise OSError(f"could not delete s3://{self.bucket}/{first['Key']}: {first.get('Message')}")

    def _delete_prefix(self, prefix: str) -> None:
        self._delete_keys([o["Key"] for o in self._list(prefix)])

    # ---- landing -----------------------------------------------------------------------
    def landed_files(self, day: str) -> list[LandedFile]:
        prefix = self._key(f"{LANDING_CLICKSTREAM}/{day.replace('-', '/')}") + "/"
        files = []
        for obj in self._list(prefix):
            name = obj["Key"].rsplit("/", 1)[-1]
            if not name or name.startswith((".", "_")):
                continue
            mtime_ns = int(obj["LastModified"].timestamp() * 1_000_000) * 1000
            files.append(LandedFile(self._relative(obj["Key"]), int(obj["Size"]), mtime_ns))
        return sorted(files, key=lambda f: f.key)

    def landed_days(self) -> list[str]:
        base = self._key(LANDING_CLICKSTREAM) + "/"

        def digits(prefix: str) -> list[str]:
            names = (p[len(prefix) :].rstrip("/") for p in self._list(prefix, delimiter="/"))
            return sorted(n for n in names if n.isdigit())

        days = []
        for year in digits(base):
            for month in digits(f"{base}{year}/"):
                for day in digits(f"{base}{year}/{month}/"):
                    days.append(f"{year}-{month}-{day}")
        return sorted(days)
