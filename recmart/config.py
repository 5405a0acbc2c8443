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


def _check_lake(value: str) -> str:
    if value.startswith("s3://"):
        if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/[^\s]*)?", value):
            raise SettingError(f"RECMART_LAKE={value!r} is not a valid s3://bucket/prefix URI")
        return value.rstrip("/")
    if "://" in value:
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
    return value


def _check_day(name: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise SettingError(f"{name}={value!r} is not a date (YYYY-MM-DD)") from None


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    deployment = env.get("RECMART_DEPLOYMENT", "local").strip() or "local"
    if deployment not in DEPLOYMENTS:
        raise SettingError(f"RECMART_DEPLOYMENT={deployment!r} is not one of {', '.join(DEPLOYMENTS)}")
    lake = _check_lake(env.get("RECMART_LAKE") or DEFAULT_LAKE)
    if deployment == "aws" and not lake.startswith("s3://"):
        raise SettingError(f"RECMART_LAKE={lake!r}: the aws deployment needs an s3://bucket/prefix lake")
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
        recs_store=recs_store,
        executor=executor,
        deployment=deployment,
        lake=lake,
        source_db=_check_source_db(env.get("RECMART_SOURCE_DB") or DEFAULT_SOURCE_DB),
        first_day=_check_day("RECMART_FIRST_DAY", env.get("RECMART_FIRST_DAY") or DEFAULT_FIRST_DAY),
    )
