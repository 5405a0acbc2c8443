"""SageMaker Feature Store (aws deployment): feature groups from the code, online PutRecord.

- `ensure_groups` creates each group of `recmart.feature_groups.groups` that does not exist yet
  with the code's own CreateFeatureGroup request (online store, and the offline store in the
  lake bucket under `features/sagemaker/`), then waits until every group is `Created`. An
  existing group that lacks a feature the code defines is an error naming the features
  (PutRecord would refuse every record): Terraform, fed by the same definitions, changes it.
- `put_records` puts a day's rows through sagemaker-featurestore-runtime PutRecord. Records
  are sent in chunks by a small thread pool (PutRecord takes one record a call; a few
  concurrent callers reach the throughput a day's rows need without tripping throttling on
  every call). A call throttled or failed by the service (ThrottlingException, 5xx,
  connection errors) is retried by tenacity, with exponential backoff and full jitter;
  anything else (ValidationError, AccessForbidden, ...) fails at once. Retries are this
  class's, not botocore's (one attempt per call there), so that each is counted in the
  report. Every failure is counted by error code, and `FeatureIngestionError` is raised when
  any record remains unwritten: a record is never dropped silently.
- PutRecord without TargetStores writes the online store and SageMaker replicates the
  record to the offline store in S3 itself.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import boto3
import tenacity
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from pydantic import Field, PrivateAttr

from recmart.feature_groups.groups import FeatureGroupDef
from recmart.resources.feature_store import (
    FeatureIngestionError,
    FeatureStore,
    FeatureStoreError,
    IngestionReport,
    identifier_of,
)

RETRYABLE_CODES = frozenset({
    "ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "ProvisionedThroughputExceededException",
    "ServiceUnavailable", "InternalFailure", "InternalServerError", "InternalFailureException",
})

# Module-level so tests can replace it and look at the delays.
sleep = time.sleep


def _sleep(seconds: float) -> None:
    sleep(seconds)  # looked up at each call: tenacity keeps the function it was given


def backoff(base: float, cap: float) -> tenacity.wait.wait_base:
    """Full-jitter exponential backoff: the n-th retry waits uniform in [0, min(cap, base * 2**(n-1))]."""
    return tenacity.wait_random_exponential(multiplier=base, max=cap)


def error_code(exc: BaseException) -> tuple[str, bool]:
    """(error code, retryable) of a failed call."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "") or "ClientError"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code, code in RETRYABLE_CODES or status >= 500
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return type(exc).__name__, True
    return type(exc).__name__, False


class SageMakerFeatureStore(FeatureStore):
    """Feature groups in SageMaker Feature Store; records put to the online store."""

    role_arn: str = Field(description="IAM role SageMaker uses to write the offline store (Terraform's feature_store role).")
    offline_store_uri: str = Field(description="s3:// folder of the offline store, in the lake bucket (<lake>/features/sagemaker).")
    online: bool = Field(default=True, description="Give new groups an online store.")
    kms_key_id: str | None = Field(default=None, description="KMS key for the online and offline stores of new groups.")
    region_name: str | None = Field(default=None, description="AWS region (default: the environment's).")
    max_workers: int = Field(default=4, ge=1, le=64, description="Concurrent PutRecord callers.")
    chunk_records: int = Field(default=250, ge=1, description="Records one worker puts per task.")
    max_attempts: int = Field(default=8, ge=1, description="Calls per record before it counts as failed.")
    backoff_base_seconds: float = Field(default=0.1, ge=0)
    backoff_max_seconds: float = Field(default=20.0, ge=0)
    create_timeout_seconds: float = Field(default=1200.0, description="Longest wait for a new group to be Created.")
    poll_seconds: float = Field(default=10.0, ge=0)

    _clients: dict = PrivateAttr(default_factory=dict)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    # ---- clients ------------------------------------------------------------------------------
    def _client(self, service: str):
        with self._lock:
            if service not in self._clients:
                session = boto3.session.Session(region_name=self.region_name)
                if service == "sagemaker-featurestore-runtime":
                    # One attempt per call: this class retries itself, so it can count and back off.
                    config = Config(retries={"max_attempts": 1, "mode": "standard"},
                                    max_pool_connections=self.max_workers + 2)
                else:
                    config = Config(retries={"max_attempts": 8, "mode": "standard"})
                self._clients[service] = session.client(service, config=config)
            return self._clients[service]

    # ---- groups -------------------------------------------------------------------------------
    def create_request(self, group: FeatureGroupDef) -> dict:
        request = group.create_request(self.role_arn, self.offline_store_uri, online=self.online)
        if self.kms_key_id:
            request["OfflineStoreConfig"]["S3StorageConfig"]["KmsKeyId"] = self.kms_key_id
            if "OnlineStoreConfig" in request:
                request["OnlineStoreConfig"]["SecurityConfig"] = {"KmsKeyId": self.kms_key_id}
        return request

    def _describe(self, name: str) -> dict | None:
        try:
            return self._client("sagemaker").describe_feature_group(FeatureGroupName=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("ResourceNotFound", "ResourceNotFoundException"):
                return None
            raise

    def ensure_groups(self, groups: Sequence[FeatureGroupDef]) -> None:
        sm = self._client("sagemaker")
        waiting = []
        for group in groups:
            found = self._describe(group.name)
            if found is None:
                try:
                    sm.create_feature_group(**self.create_request(group))
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "ResourceInUse":  # created meanwhile
                        raise FeatureStoreError(f"cannot create feature group {group.name}: {exc}") from exc
                waiting.append(group)
                continue
            self._check_definition(group, found)
            if found.get("FeatureGroupStatus") != "Created":
                waiting.append(group)
        for group in waiting:
            self._wait_created(group)

    @staticmethod
    def _check_definition(group: FeatureGroupDef, found: dict) -> None:
        have = {f["FeatureName"]: f["FeatureType"] for f in found.get("FeatureDefinitions", [])}
        missing = [f"{f.name} ({f.type})" for f in group.features if f.name not in have]
        wrong = [f"{f.name}: {have[f.name]}, code says {f.type}" for f in group.features
                 if f.name in have and have[f.name] != f.type]
        if missing or wrong:
            raise FeatureStoreError(
                f"feature group {group.name} differs from its definition in recmart.feature_groups.groups: "
                + "; ".join(filter(None, [
                    f"missing features {', '.join(missing)}" if missing else "",
                    f"other types {', '.join(wrong)}" if wrong else "",
                ]))
                + ". Apply deploy/terraform with the code's feature definitions."
            )

    def _wait_created(self, group: FeatureGroupDef) -> None:
        creating = tenacity.Retrying(
            retry=tenacity.retry_if_result(lambda found: (found or {}).get("FeatureGroupStatus") == "Creating"),
            stop=tenacity.stop_after_delay(self.create_timeout_seconds),
            wait=tenacity.wait_fixed(self.poll_seconds),
            sleep=_sleep,
        )
        try:
            found = creating(self._describe, group.name)
        except tenacity.RetryError:
            raise FeatureStoreError(
                f"feature group {group.name} still Creating after {self.create_timeout_seconds:g}s"
            ) from None
        status = (found or {}).get("FeatureGroupStatus", "missing")
        if status != "Created":
            reason = (found or {}).get("FailureReason") or "no reason given"
            raise FeatureStoreError(f"feature group {group.name} is {status}: {reason}")

    # ---- records ------------------------------------------------------------------------------
    def put_records(self, group: FeatureGroupDef, rows: Iterable[dict]) -> IngestionReport:
        report = IngestionReport(group.name)
        started = time.monotonic()
        runtime = self._client("sagemaker-featurestore-runtime")
        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="put-record") as pool:
            in_flight: deque[Future] = deque()
            for chunk in self._chunks(group, rows, report):
                in_flight.append(pool.submit(self._put_chunk, runtime, group.name, chunk))
                # Bounded memory: at most two chunks per worker wait or run at any time.
                while len(in_flight) >= 2 * self.max_workers:
                    done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                    for future in done:
                        in_flight.remove(future)
                        report.merge(future.result())
            for future in in_flight:
                report.merge(future.result())
        report.seconds = time.monotonic() - started
        if report.failed:
            raise FeatureIngestionError(report)
        return report

    def _chunks(
        self, group: FeatureGroupDef, rows: Iterable[dict], report: IngestionReport
    ) -> Iterator[list[tuple[str, list[dict]]]]:
        chunk: list[tuple[str, list[dict]]] = []
        for row in rows:
            identifier = identifier_of(group, row)
            try:
                record = group.record(row)
            except ValueError:  # no identifier or event time: PutRecord would refuse it
                report.records += 1
                report.fail("ValidationError", identifier)
                continue
            chunk.append((identifier or "", record))
            if len(chunk) >= self.chunk_records:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _put_chunk(self, runtime, group_name: str, chunk: list[tuple[str, list[dict]]]) -> IngestionReport:
        report = IngestionReport(group_name)

        def count_retry(_state: tenacity.RetryCallState) -> None:
            report.retries += 1

        put = tenacity.Retrying(
            retry=tenacity.retry_if_exception(lambda exc: error_code(exc)[1]),
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=backoff(self.backoff_base_seconds, self.backoff_max_seconds),
            sleep=_sleep,
            before_sleep=count_retry,
            reraise=True,  # the last call's own error, to be counted by its code
        )
        for identifier, record in chunk:
            report.records += 1
            try:
                put(runtime.put_record, FeatureGroupName=group_name, Record=record)
            except Exception as exc:  # noqa: BLE001 - every failure is classified and counted
                report.fail(error_code(exc)[0], identifier)
                continue
            report.written += 1
        return report

    def get_record(self, group: FeatureGroupDef, record_identifier: str) -> dict[str, str] | None:
        answer = self._client("sagemaker-featurestore-runtime").get_record(
            FeatureGroupName=group.name, RecordIdentifierValueAsString=str(record_identifier)
        )
        record = answer.get("Record")
        return {f["FeatureName"]: f["ValueAsString"] for f in record} if record else None
