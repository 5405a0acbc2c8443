"""The aws deployment's resources (RECMART_DEPLOYMENT=aws), from the settings read at load.

| setting | default | meaning |
|---|---|---|
| RECMART_LAKE | (required, s3://bucket/prefix) | the lake; its bucket also holds artifacts/ and tmp/ |
| RECMART_PII_SALT | (required) | salt for hashing personal data, at least 8 characters |
| RECMART_SOURCE_DB | (required) | SQLAlchemy URL, or `secretsmanager:<secret id or ARN>` |
| RECMART_SPARK_RUNNER | glue | glue, emr-serverless or spark-submit |
| RECMART_ARTIFACTS | s3://<lake bucket>/artifacts | where the release uploads recmart.zip and jobs/ |
| RECMART_PIPES_PREFIX | s3://<lake bucket>/tmp/pipes | Pipes context and messages of Glue/EMR runs |
| RECMART_SPARK_UPLOAD_ARTIFACTS | false | upload this code's artefacts before each step |
| RECMART_GLUE_JOB_PREFIX | recmart- | Glue job of a step: <prefix><step> |
| RECMART_EMR_APPLICATION_ID | (required for emr-serverless) | Terraform output emr_serverless_application_id |
| RECMART_EMR_JOB_ROLE_ARN | (required for emr-serverless) | Terraform output emr_serverless_job_role_arn |
| RECMART_EMR_LOG_URI | none | s3:// prefix for EMR Serverless driver/executor logs |
| RECMART_SPARK_MASTER | (required for spark-submit) | spark://host:port of a standalone cluster |
| RECMART_SPARK_DRIVER_MEMORY, RECMART_SPARK_EXECUTOR_MEMORY | 1g | spark-submit memory |
| RECMART_SPARK_JARS | none | comma-separated local jars for spark-submit (hadoop-aws for s3a) |
| RECMART_FEATURE_STORE_ROLE_ARN | (required) | role SageMaker writes the offline store with |
| RECMART_RECS_STORE | dynamodb:// | the recommendation store (DynamoDB tables named as Terraform names them) |
| AWS_REGION, AWS_ENDPOINT_URL(_S3) | the AWS SDK's | region; endpoint override (S3-compatible stores, tests) |

Each is a field of `recmart.config.Settings`, read once with the others; what only this
deployment needs is checked here, when the code location loads (the salt with every setting
in recmart.config): a missing or wrong setting fails the load with a `SettingError` that names
it, instead of failing a run hours later. Secrets reach resources as `EnvVar`s (or are fetched
from Secrets Manager when used), so the Dagster UI never shows their values.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import sqlalchemy as sa
from pydantic import Field

from recmart import names
from recmart.aws.lake import S3Lake, split_s3_uri
from recmart.aws.spark_runners import EmrServerlessSparkRunner, GlueSparkRunner, SparkSubmitRunner
from recmart.config import SettingError, Settings, env_name
from recmart.resources.engine import StepEngine
from recmart.resources.privacy import PiiSalt
from recmart.resources.recommendation_store import RecommendationStoreResource
from recmart.resources.secrets import secret
from recmart.resources.source_db import SourceDatabase

SPARK_RUNNERS = ("glue", "emr-serverless", "spark-submit")
SECRETS_MANAGER = "secretsmanager:"
SECRET_TTL_SECONDS = 300.0  # a rotated database password is picked up within minutes


def _require(settings: Settings, field: str, why: str) -> str:
    value = getattr(settings, field)
    if value is None:
        raise SettingError(f"{env_name(field)} is not set: {why}")
    return value


def _flag(settings: Settings, field: str, default: bool) -> bool:
    value, name = getattr(settings, field), env_name(field)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingError(f"{name}={value!r} is not a boolean (true or false)")


def _s3_setting(settings: Settings, field: str, default: str | None) -> str | None:
    value, name = getattr(settings, field) or default, env_name(field)
    if value is None:
        return None
    try:
        split_s3_uri(value)
    except ValueError:
        raise SettingError(f"{name}={value!r} is not an s3://bucket/prefix URI") from None
    if not value.startswith("s3://"):
        raise SettingError(f"{name}={value!r}: spell S3 locations s3://")
    return value.rstrip("/")


# ---- the source database from Secrets Manager ------------------------------------------------
_SECRETS: dict[tuple, tuple[float, str]] = {}
_SECRETS_LOCK = threading.Lock()


def url_from_secret(secret: str, secret_id: str) -> str:
    """The SQLAlchemy URL in a secret: the URL itself, JSON with `url`, or an RDS-style JSON
    secret (engine, host, port, username, password, dbname). Errors never show the secret."""
    text = secret.strip()
    if "://" in text and not text.startswith("{"):
        return text
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("url"), str):
        return data["url"]
    if isinstance(data, dict) and {"host", "username", "password"} <= set(data):
        engine = str(data.get("engine", "postgres"))
        if not engine.startswith("postgres"):
            raise SettingError(f"RECMART_SOURCE_DB: secret {secret_id} is for engine {engine!r}; only postgres is supported")
        return sa.URL.create(
            "postgresql+psycopg2",
            username=str(data["username"]),
            password=str(data["password"]),
            host=str(data["host"]),
            port=int(data.get("port") or 5432),
            database=str(data.get("dbname") or data.get("database") or "postgres"),
        ).render_as_string(hide_password=False)
    raise SettingError(
        f"RECMART_SOURCE_DB: secret {secret_id} holds neither a SQLAlchemy URL, nor JSON with `url`, "
        "nor an RDS secret (host, port, username, password, dbname)"
    )


def resolve_secret_url(secret_id: str, region: str | None = None, endpoint_url: str | None = None) -> str:
    """The database URL in Secrets Manager secret `secret_id` (cached for a few minutes)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    key = (secret_id, region, endpoint_url)
    with _SECRETS_LOCK:
        cached = _SECRETS.get(key)
        if cached and time.monotonic() - cached[0] < SECRET_TTL_SECONDS:
            return cached[1]
    client = boto3.session.Session().client("secretsmanager", region_name=region, endpoint_url=endpoint_url)
    try:
        response = client.get_secret_value(SecretId=secret_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise SettingError(f"RECMART_SOURCE_DB: cannot read secret {secret_id} from Secrets Manager ({code})") from None
    except BotoCoreError as exc:
        raise SettingError(f"RECMART_SOURCE_DB: cannot read secret {secret_id} from Secrets Manager ({exc})") from None
    if "SecretString" not in response:
        raise SettingError(f"RECMART_SOURCE_DB: secret {secret_id} is binary; store the URL as a string")
    url = url_from_secret(response["SecretString"], secret_id)
    with _SECRETS_LOCK:
        _SECRETS[key] = (time.monotonic(), url)
    return url


class SecretsManagerSourceDatabase(SourceDatabase):
    """The source database whose URL (with its password) lives in Secrets Manager.

    `url` keeps the reference (`secretsmanager:<id>`), never the secret; the URL is fetched
    when an engine is made, so a rotated password is picked up."""

    region_name: str | None = Field(default=None, description="Region of the secret (default: the environment's).")
    endpoint_url: str | None = Field(default=None, description="Secrets Manager endpoint override.")

    @property
    def secret_id(self) -> str:
        return self.url.removeprefix(SECRETS_MANAGER)

    def resolved_url(self) -> str:
        return resolve_secret_url(self.secret_id, self.region_name, self.endpoint_url)

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.resolved_url(), pool_pre_ping=True)


def source_database(settings: Settings) -> SourceDatabase:
    if not settings.is_set("source_db"):  # the local default is no store of the aws deployment
        raise SettingError("RECMART_SOURCE_DB is not set: the aws deployment needs the store's database "
                           "(a postgresql+psycopg2:// URL, or secretsmanager:<secret id>)")
    value = settings.source_db
    if value.startswith(SECRETS_MANAGER):
        secret_id = value.removeprefix(SECRETS_MANAGER).strip()
        if not secret_id:
            raise SettingError("RECMART_SOURCE_DB=secretsmanager: names no secret (secretsmanager:<secret id or ARN>)")
        db = SecretsManagerSourceDatabase(url=f"{SECRETS_MANAGER}{secret_id}")
        from recmart.config import _check_source_db

        _check_source_db(db.resolved_url())  # fails now, naming the setting, if unusable
        return db
    return SourceDatabase(url=secret(settings, "source_db"))


# ---- Spark ------------------------------------------------------------------------------------
def spark_runner(settings: Settings, lake_bucket: str):
    kind = (settings.spark_runner or "glue").lower()
    if kind not in SPARK_RUNNERS:
        raise SettingError(f"RECMART_SPARK_RUNNER={kind!r} is not one of {', '.join(SPARK_RUNNERS)}")
    if kind == "spark-submit":
        master = _require(settings, "spark_master", "RECMART_SPARK_RUNNER=spark-submit needs the cluster's master URL")
        if not master.startswith(("spark://", "local", "yarn", "k8s://")):
            raise SettingError(f"RECMART_SPARK_MASTER={master!r} is not a Spark master URL (spark://host:port)")
        jars = [j.strip() for j in (settings.spark_jars or "").split(",") if j.strip()]
        return kind, SparkSubmitRunner(
            master=master,
            # RECMART_SPARK_DRIVER_MEMORY's default (2g) is the local driver's; a cluster's is 1g.
            driver_memory=settings.spark_driver_memory if settings.is_set("spark_driver_memory") else "1g",
            executor_memory=settings.spark_executor_memory or "1g",
            jars=jars,
            shuffle_partitions=None,  # a cluster's data, not a laptop's: its default and AQE
        )
    common: dict[str, Any] = dict(
        artifacts_uri=_s3_setting(settings, "artifacts", f"s3://{lake_bucket}/artifacts"),
        pipes_uri=_s3_setting(settings, "pipes_prefix", f"s3://{lake_bucket}/tmp/pipes"),
        upload_artifacts=_flag(settings, "spark_upload_artifacts", False),
    )
    if kind == "glue":
        return kind, GlueSparkRunner(job_name_prefix=settings.glue_job_prefix or "recmart-", **common)
    why = "RECMART_SPARK_RUNNER=emr-serverless needs it (Terraform output {})"
    application = _require(settings, "emr_application_id", why.format("emr_serverless_application_id"))
    role = _require(settings, "emr_job_role_arn", why.format("emr_serverless_job_role_arn"))
    if not role.startswith("arn:"):
        raise SettingError(f"RECMART_EMR_JOB_ROLE_ARN={role!r} is not a role ARN")
    log_uri = _s3_setting(settings, "emr_log_uri", None)
    return kind, EmrServerlessSparkRunner(
        application_id=application, execution_role_arn=role, log_uri=log_uri, **common
    )


# ---- everything --------------------------------------------------------------------------------
def aws_resources(settings: Settings) -> dict:
    """The resources of the aws deployment, every value from `settings` (the salt, the lake's
    scheme and the values both deployments share were checked when they were read); raises
    SettingError naming a bad setting."""
    if not settings.lake.startswith("s3://"):
        raise SettingError(f"RECMART_LAKE={settings.lake!r}: the aws deployment needs an s3://bucket/prefix lake")
    source_db = source_database(settings)
    lake_bucket, _ = split_s3_uri(settings.lake)
    kind, spark = spark_runner(settings, lake_bucket)

    # Other modules of the aws deployment; imported here so the local one never needs them.
    from recmart.aws.athena import AthenaLakeSql
    from recmart.aws.glue_catalog import GlueCatalog

    lake = S3Lake(
        root=settings.lake,
        endpoint_url=settings.aws_endpoint_url_s3 or settings.aws_endpoint_url,
        # Glue and EMR read and write s3:// with their own connector and committer.
        spark_scheme="s3a" if kind == "spark-submit" else "s3",
        catalog=GlueCatalog(lake_uri=settings.lake, database=names.GLUE_DATABASE),
    )
    return {
        "lake": lake,
        "spark": spark,
        # The lake is on S3: the steps run on the Spark of the runner (Glue, EMR, spark-submit).
        "engine": StepEngine(engine="spark"),
        "source_db": source_db,
        "lake_sql": AthenaLakeSql(database=names.GLUE_DATABASE, workgroup=names.ATHENA_WORKGROUP),
        "pii": PiiSalt(salt=secret(settings, "pii_salt")),
        # DynamoDB tables named as Terraform names them; RECMART_RECS_STORE overrides.
        "recommendation_store": RecommendationStoreResource(url=settings.recs_store or "dynamodb://"),
        **monitoring_and_feature_resources(settings),
    }


def monitoring_and_feature_resources(settings: Settings) -> dict:
    """Alerts, run metrics and the feature store of the aws deployment."""
    from recmart.aws.feature_store import SageMakerFeatureStore
    from recmart.aws.monitoring import CloudWatchRunMetrics, SnsAlerts

    role = _require(settings, "feature_store_role_arn",
                    "the role SageMaker Feature Store writes the offline store with (role recmart-feature-store)")
    return {
        "alerts": SnsAlerts(),
        "metrics": CloudWatchRunMetrics(),
        "feature_store": SageMakerFeatureStore(
            role_arn=role, offline_store_uri=f"{settings.lake}/features/sagemaker"
        ),
    }
