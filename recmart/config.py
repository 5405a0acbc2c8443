"""Deployment settings: one typed model, read from the environment once and validated at load.

`Settings` is the one model of every RECMART_* variable (and the AWS SDK's endpoint
overrides the aws deployment passes on). The code location reads it once, in
`recmart.definitions` through `get_settings()`, and hands that object down: to
`recmart.partitions` (the first day), to `recmart.deployments.resources_for` and from there to
the aws deployment. Nothing else reads these variables, so what a run uses is what was
validated. A bad value fails the load with a `SettingError` that names the variable, instead
of failing a run hours later.

Secrets (RECMART_PII_SALT, RECMART_SOURCE_DB) reach resources as Dagster `EnvVar`s when the
settings were read from the process environment, so the Dagster UI never shows their values
(`Settings.from_process_environment`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEPLOYMENTS = ("local", "aws")
ENGINES = ("duckdb", "spark")  # recmart.resources.engine.EngineName
EXECUTORS = ("in_process", "multiprocess")
LOCAL_STATE = Path(".recmart")
DEFAULT_LAKE = str(LOCAL_STATE / "lake")
DEFAULT_SOURCE_DB = f"sqlite:///{LOCAL_STATE / 'source.db'}"
DEFAULT_FIRST_DAY = "2024-01-01"
# Both sensors list every daily partition since the first day on each tick, so the first day
# is bounded (bench/spine/RESULTS.md, "Sensor ticks"); no store's clicks predate 2000.
EARLIEST_FIRST_DAY = dt.date(2000, 1, 1)
MIN_PII_SALT_CHARS = 8  # check_pii_salt, which recmart.resources.privacy.PiiSalt applies too
DEFAULT_SPARK_DRIVER_MEMORY = "2g"
# Spark refuses a driver heap under 450 MiB ("System memory ... must be at least 471859200").
MIN_SPARK_DRIVER_MIB = 512
# Spark's size suffixes (JavaUtils.byteStringAs), in MiB; a bare number is MiB for driver memory.
_JVM_UNITS_MIB = {"": 1, "b": 2**-20, "k": 2**-10, "kb": 2**-10, "m": 1, "mb": 1, "g": 2**10, "gb": 2**10,
                  "t": 2**20, "tb": 2**20, "p": 2**30, "pb": 2**30}


class SettingError(ValueError):
    """A setting has a value recmart cannot use; the message names the setting."""


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
    if url.database is None:  # _check_source_db refuses it when the settings are read
        raise SettingError(f"RECMART_SOURCE_DB={value!r} names no SQLite file (sqlite:///path/to/source.db)")
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


def check_pii_salt(value: str) -> str:
    """The one rule of the salt, for the settings and for `recmart.resources.privacy.PiiSalt`."""
    if len(value) < MIN_PII_SALT_CHARS:
        raise SettingError(f"RECMART_PII_SALT must be at least {MIN_PII_SALT_CHARS} characters "
                           f"(it has {len(value)})")
    return value


def _check_jvm_memory(name: str, value: str) -> str:
    found = re.fullmatch(r"(\d+)([a-z]*)", value.strip().lower())
    if not found or found[2] not in _JVM_UNITS_MIB:
        raise SettingError(f"{name}={value!r} is not a JVM size (e.g. 512m, 2g)")
    if int(found[1]) * _JVM_UNITS_MIB[found[2]] < MIN_SPARK_DRIVER_MIB:
        raise SettingError(f"{name}={value!r}: Spark needs at least {MIN_SPARK_DRIVER_MIB}m")
    return value.strip()


# The environment a `load_settings(environ)` call reads instead of os.environ (see _MappingSource).
_ENVIRON: ContextVar[Mapping[str, str] | None] = ContextVar("recmart_settings_environ", default=None)


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' environment source, reading a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {(k if self.case_sensitive else k.lower()): v for k, v in self._environ.items()
                if not (self.env_ignore_empty and v == "")}


def _stripped_or_none(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


class Settings(BaseSettings):
    """Every setting of the deployment: RECMART_<FIELD> (see `env_name`), empty meaning unset.

    Constructing it reads and validates the environment; use `load_settings` (a given mapping
    or os.environ) or, in the code location, `get_settings` (os.environ, once)."""

    model_config = SettingsConfigDict(env_prefix="RECMART_", env_ignore_empty=True, frozen=True,
                                      validate_default=True, extra="ignore")

    # ---- both deployments (README.md lists them) ----
    deployment: str = "local"
    lake: str = DEFAULT_LAKE
    source_db: str = Field(DEFAULT_SOURCE_DB, repr=False)  # a URL may hold a password
    pii_salt: str = Field("", repr=False)  # empty: the local sample salt (recmart.deployments); required on aws
    first_day: dt.date = dt.date.fromisoformat(DEFAULT_FIRST_DAY)
    engine: str = "duckdb"  # local only: the aws deployment's steps always run on Spark
    executor: str = "in_process"
    recs_store: str = ""  # empty: the deployment's default
    spark_driver_memory: str = DEFAULT_SPARK_DRIVER_MEMORY  # local; spark-submit's default is its own

    # ---- the aws deployment's own (recmart/aws/deployment.py lists them and checks them) ----
    spark_runner: str | None = None
    artifacts: str | None = None
    pipes_prefix: str | None = None
    spark_upload_artifacts: str | None = None
    glue_job_prefix: str | None = None
    emr_application_id: str | None = None
    emr_job_role_arn: str | None = None
    emr_log_uri: str | None = None
    spark_master: str | None = None
    spark_executor_memory: str | None = None
    spark_jars: str | None = None
    feature_store_role_arn: str | None = None
    # The AWS SDK's endpoint overrides, which the S3 lake passes to pyarrow.
    aws_endpoint_url_s3: str | None = Field(None, validation_alias="AWS_ENDPOINT_URL_S3")
    aws_endpoint_url: str | None = Field(None, validation_alias="AWS_ENDPOINT_URL")

    _from_process_environment: bool = PrivateAttr(default=False)

    def __init__(self, **values: Any):
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise _setting_error(exc) from None

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        environ = _ENVIRON.get()
        # The environment only: no .env file, no secrets folder (as ever).
        return init_settings, env_settings if environ is None else _MappingSource(settings_cls, environ)

    # ---- validation: every message names the variable ----
    @field_validator("deployment", "executor", mode="before")
    @classmethod
    def _blank_is_the_default(cls, value: Any, info) -> Any:
        if isinstance(value, str):
            return value.strip() or cls.model_fields[info.field_name].default
        return value

    @field_validator(
        "spark_runner", "artifacts", "pipes_prefix", "spark_upload_artifacts", "glue_job_prefix",
        "emr_application_id", "emr_job_role_arn", "emr_log_uri", "spark_master", "spark_executor_memory",
        "spark_jars", "feature_store_role_arn", "aws_endpoint_url_s3", "aws_endpoint_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return _stripped_or_none(value)

    @field_validator("deployment", "engine", "executor")
    @classmethod
    def _one_of(cls, value: str, info) -> str:
        allowed = {"deployment": DEPLOYMENTS, "engine": ENGINES, "executor": EXECUTORS}[info.field_name]
        if value not in allowed:
            # Each variable keeps the wording its message always had (the tests pin both).
            wording = ": use one of" if info.field_name == "engine" else " is not one of"
            raise SettingError(f"RECMART_{info.field_name.upper()}={value!r}{wording} {', '.join(allowed)}")
        return value

    @field_validator("lake")
    @classmethod
    def _lake(cls, value: str) -> str:
        return _check_lake(value)

    @field_validator("source_db")
    @classmethod
    def _source_db(cls, value: str) -> str:
        return _check_source_db(value)

    @field_validator("pii_salt")
    @classmethod
    def _pii_salt(cls, value: str) -> str:
        return check_pii_salt(value) if value else value

    @field_validator("first_day", mode="before")
    @classmethod
    def _first_day(cls, value: Any) -> dt.date:
        return _check_day("RECMART_FIRST_DAY", value.isoformat() if isinstance(value, dt.date) else value)

    @field_validator("recs_store")
    @classmethod
    def _recs_store(cls, value: str) -> str:
        value = value.strip()
        if value:
            from recmart.realtime.store.factory import parse_store_url

            try:
                parse_store_url(value, "RECMART_RECS_STORE")
            except ValueError as exc:
                raise SettingError(str(exc)) from None
        return value

    @field_validator("spark_driver_memory")
    @classmethod
    def _spark_driver_memory(cls, value: str) -> str:
        return _check_jvm_memory("RECMART_SPARK_DRIVER_MEMORY", value)

    @model_validator(mode="after")
    def _fits_the_deployment(self) -> Settings:
        if self.deployment == "aws" and not self.lake.startswith("s3://"):
            raise SettingError(f"RECMART_LAKE={self.lake!r}: the aws deployment needs an s3://bucket/prefix lake")
        if self.deployment == "local" and self.lake.startswith("s3://"):
            raise SettingError(f"RECMART_LAKE={self.lake!r}: the local deployment's lake is a folder; "
                               "an s3:// lake needs RECMART_DEPLOYMENT=aws")
        if self.deployment == "aws" and not self.pii_salt:
            raise SettingError("RECMART_PII_SALT is not set: the aws deployment needs a secret salt for hashing "
                               "personal data")
        if self.deployment == "local" and self.source_db.startswith("secretsmanager:"):
            raise SettingError("RECMART_SOURCE_DB=secretsmanager:... is resolved by the aws deployment only; "
                               "use a URL locally")
        return self

    # ---- what the deployments ask of the one read ----
    def is_set(self, field: str) -> bool:
        """Whether the read found the variable (not empty), rather than taking the default."""
        return field in self.model_fields_set

    def from_process_environment(self, field: str) -> bool:
        """Whether the variable was set in os.environ at the read (not in a given mapping): a
        resource can then name it as a Dagster `EnvVar`, which the run resolves from that same
        environment, so the UI shows where a secret comes from instead of its value."""
        return self._from_process_environment and self.is_set(field)


def env_name(field: str) -> str:
    """The environment variable of a `Settings` field: RECMART_LAKE for `lake`."""
    alias = Settings.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else f"RECMART_{field.upper()}"


def _setting_error(exc: ValidationError) -> SettingError:
    """pydantic's errors as one SettingError, each naming its variable."""
    messages = []
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, SettingError):
            messages.append(str(cause))
        else:
            field = str(error["loc"][0]) if error["loc"] else ""
            name = env_name(field) if field in Settings.model_fields else field or "settings"
            messages.append(f"{name}={error.get('input')!r}: {error['msg']}")
    return SettingError("; ".join(dict.fromkeys(messages)))


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings from `environ` (default: os.environ), every time it is
    called; raises SettingError naming the variable. The code location reads once through
    `get_settings`; tests and commands pass what they read on."""
    if environ is not None:
        token = _ENVIRON.set(environ)
        try:
            return Settings()
        finally:
            _ENVIRON.reset(token)
    settings = Settings()
    settings._from_process_environment = True
    return settings


@functools.cache
def get_settings() -> Settings:
    """The process's settings, read from os.environ at the first call and the same object
    after: `recmart.definitions` makes that call when the code location loads, and
    `recmart.partitions` gets the same object for the first day. Tests that need a new read
    call `load_settings`, or `get_settings.cache_clear()`."""
    return load_settings()


def command_settings() -> Settings:
    """The settings of a `recmart` command: the object `recmart` read when it started (kept in
    the click context), or a new read for a command invoked on its own (a test's CliRunner)."""
    import click

    ctx = click.get_current_context(silent=True)
    settings = ctx.find_root().obj if ctx is not None else None
    return settings if isinstance(settings, Settings) else load_settings()
