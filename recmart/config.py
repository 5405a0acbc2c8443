"""Deployment settings, read from the environment once and validated at start.

`definitions.py` calls `load_settings()` when the code location loads, so a bad value fails
the load with a message that names the setting, instead of failing a run hours later.
Resources receive the same values through Dagster's `EnvVar`, so the UI shows where each
setting comes from.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

DEPLOYMENTS = ("local", "aws")
EXECUTORS = ("in_process", "multiprocess")
LOCAL_STATE = Path(".recmart")
DEFAULT_LAKE = str(LOCAL_STATE / "lake")
DEFAULT_SOURCE_DB = f"sqlite:///{LOCAL_STATE / 'source.db'}"
DEFAULT_FIRST_DAY = "2024-01-01"
# Both sensors list every daily partition since the first day on each tick: since 2000 that is
# about 10,000 keys (0.1 s); since year 1 it was 740,000 (7 to 11 s a tick). No store's clicks
# predate 2000.
EARLIEST_FIRST_DAY = dt.date(2000, 1, 1)
MIN_PII_SALT_CHARS = 8  # as recmart.resources.privacy.PiiSalt asks, so the run would refuse it too
DEFAULT_SPARK_DRIVER_MEMORY = "2g"
# Spark refuses a driver heap under 450 MiB ("System memory ... must be at least 471859200").
MIN_SPARK_DRIVER_MIB = 512
# Spark's size suffixes (JavaUtils.byteStringAs), in MiB; a bare number is MiB for driver memory.
_JVM_UNITS_MIB = {"": 1, "b": 2**-20, "k": 2**-10, "kb": 2**-10, "m": 1, "mb": 1, "g": 2**10, "gb": 2**10,
                  "t": 2**20, "tb": 2**20, "p": 2**30, "pb": 2**30}


class SettingError(ValueError):
    """A setting has a value recmart cannot use; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    deployment: str
    lake: str
    source_db: str
    first_day: dt.date
    executor: str = "in_process"
    recs_store: str = ""  # RECMART_RECS_STORE; empty: the deployment's default
    spark_driver_memory: str = DEFAULT_SPARK_DRIVER_MEMORY  # RECMART_SPARK_DRIVER_MEMORY


def _check_lake(value: str) -> str:
    if value.startswith("s3://"):
        if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/[^\s]*)?", value):
            raise SettingError(f"RECMART_LAKE={value!r} is not a valid s3://bucket/prefix URI")
        return value.rstrip("/")
    # Any scheme, even a mistyped `s3:/bucket`, would otherwise become a local folder named `s3:`.
    if re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", value):
        raise SettingError(f"RECMART_LAKE={value!r}: use a folder path or s3://bucket/prefix")
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise SettingError(f"RECMART_LAKE={value!r} exists and is not a folder")
    return value


def _check_source_db(value: str) -> str:
    if value.startswith("secretsmanager:"):
        # A reference to the URL in AWS Secrets Manager (aws deployment): the URL is checked
        # when recmart.aws.deployment resolves it, at the same load.
        if not value.removeprefix("secretsmanager:").strip():
            raise SettingError("RECMART_SOURCE_DB=secretsmanager: names no secret (secretsmanager:<secret id or ARN>)")
        return value
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise SettingError(f"RECMART_SOURCE_DB={value!r} is not a SQLAlchemy URL: {exc}") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise SettingError(
            f"RECMART_SOURCE_DB={value!r}: backend {url.get_backend_name()!r} is not supported "
            "(use sqlite:///path or postgresql+psycopg2://...)"
        )
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        # Every connection would open its own empty database: there is no store to export.
        raise SettingError(f"RECMART_SOURCE_DB={value!r} is an in-memory SQLite database, which holds no "
                           "store: name its file (sqlite:///path/to/source.db)")
    try:
        url.get_dialect().import_dbapi()  # the driver, imported now rather than by the first run
    except (ImportError, ArgumentError) as exc:
        raise SettingError(f"RECMART_SOURCE_DB={value!r}: its driver cannot be loaded ({exc}); "
                           "installed: sqlite, postgresql+psycopg2") from None
    return value


def check_source_db_file(value: str) -> None:
    """A SQLite source's folder exists and its path is not a folder (SQLite makes neither a
    folder nor sense of one). Called when the code location loads, not by `load_settings`:
    `recmart seed` reads the settings before it creates the folder."""
    from sqlalchemy.engine import make_url

    url = make_url(value)
    if url.get_backend_name() != "sqlite":
        return
    path = Path(url.database)
    if path.is_dir():
        raise SettingError(f"RECMART_SOURCE_DB={value!r}: {path} is a folder, not a SQLite file")
    if not path.parent.is_dir():
        raise SettingError(f"RECMART_SOURCE_DB={value!r}: the folder {path.parent} does not exist "
                           "(create it, or seed a sample store with `recmart seed`)")


def _check_day(name: str, value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise SettingError(f"{name}={value!r} is not a date (YYYY-MM-DD)") from None
    if day < EARLIEST_FIRST_DAY:
        raise SettingError(f"{name}={value!r} is before {EARLIEST_FIRST_DAY}: the sensors list every daily "
                           "partition since the first day on each tick")
    return day


def _check_pii_salt(value: str) -> None:
    if value and len(value) < MIN_PII_SALT_CHARS:
        raise SettingError(f"RECMART_PII_SALT must be at least {MIN_PII_SALT_CHARS} characters "
                           f"(it has {len(value)})")


def _check_jvm_memory(name: str, value: str) -> str:
    found = re.fullmatch(r"(\d+)([a-z]*)", value.strip().lower())
    if not found or found[2] not in _JVM_UNITS_MIB:
        raise SettingError(f"{name}={value!r} is not a JVM size (e.g. 512m, 2g)")
    if int(found[1]) * _JVM_UNITS_MIB[found[2]] < MIN_SPARK_DRIVER_MIB:
        raise SettingError(f"{name}={value!r}: Spark needs at least {MIN_SPARK_DRIVER_MIB}m")
    return value.strip()


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    deployment = env.get("RECMART_DEPLOYMENT", "local").strip() or "local"
    if deployment not in DEPLOYMENTS:
        raise SettingError(f"RECMART_DEPLOYMENT={deployment!r} is not one of {', '.join(DEPLOYMENTS)}")
    lake = _check_lake(env.get("RECMART_LAKE") or DEFAULT_LAKE)
    if deployment == "aws" and not lake.startswith("s3://"):
        raise SettingError(f"RECMART_LAKE={lake!r}: the aws deployment needs an s3://bucket/prefix lake")
    if deployment == "local" and lake.startswith("s3://"):
        raise SettingError(f"RECMART_LAKE={lake!r}: the local deployment's lake is a folder; "
                           "an s3:// lake needs RECMART_DEPLOYMENT=aws")
    _check_pii_salt(env.get("RECMART_PII_SALT") or "")
    if deployment == "local" and (env.get("RECMART_SOURCE_DB") or "").startswith("secretsmanager:"):
        raise SettingError("RECMART_SOURCE_DB=secretsmanager:... is resolved by the aws deployment only; use a URL locally")
    executor = env.get("RECMART_EXECUTOR", "in_process").strip() or "in_process"
    if executor not in EXECUTORS:
        raise SettingError(f"RECMART_EXECUTOR={executor!r} is not one of {', '.join(EXECUTORS)}")
    recs_store = (env.get("RECMART_RECS_STORE") or "").strip()
    if recs_store:
        from recmart.realtime.store.factory import parse_store_url

        try:
            parse_store_url(recs_store, "RECMART_RECS_STORE")
        except ValueError as exc:
            raise SettingError(str(exc)) from None
    return Settings(
        spark_driver_memory=_check_jvm_memory(
            "RECMART_SPARK_DRIVER_MEMORY", env.get("RECMART_SPARK_DRIVER_MEMORY") or DEFAULT_SPARK_DRIVER_MEMORY),
        recs_store=recs_store,
        executor=executor,
        deployment=deployment,
        lake=lake,
        source_db=_check_source_db(env.get("RECMART_SOURCE_DB") or DEFAULT_SOURCE_DB),
        first_day=_check_day("RECMART_FIRST_DAY", env.get("RECMART_FIRST_DAY") or DEFAULT_FIRST_DAY),
    )
