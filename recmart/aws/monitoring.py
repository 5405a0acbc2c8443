"""Alerts to SNS and run metrics to CloudWatch (aws deployment).

`SnsAlerts` publishes each alert to the alerts topic (names.ALERTS_TOPIC, created by
deploy/terraform/monitoring.tf with the e-mail subscriptions and the CloudWatch alarms);
`CloudWatchRunMetrics` puts run metrics under names.METRICS_NAMESPACE, where the dashboard's
SEARCH widget shows them and alarms can watch them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from pydantic import Field, PrivateAttr

from recmart import names
from recmart.resources.alerts import Alerts, check_severity, render
from recmart.resources.metrics import Metric, RunMetrics

SUBJECT_MAX = 100  # SNS: Subject is at most 100 printable ASCII characters, one line
MESSAGE_MAX = 200_000  # below SNS's 256 KiB, leaving room for attributes
PUT_METRIC_DATA_MAX = 1000  # metrics per PutMetricData call
DIMENSION_VALUE_MAX = 1024


class _AwsClients:
    """Cached boto3 clients for a resource with `region_name`, `endpoint_url` and `_clients`."""

    if TYPE_CHECKING:  # declared by each resource (fields, a private attribute), not at runtime here
        region_name: str | None
        endpoint_url: str | None
        _clients: dict

    def _client(self, service: str):
        if service not in self._clients:
            session = boto3.session.Session(region_name=self.region_name)
            self._clients[service] = session.client(
                service,
                endpoint_url=self.endpoint_url if service != "sts" else None,
                config=Config(retries={"max_attempts": 8, "mode": "standard"}),
            )
        return self._clients[service]


def sns_subject(text: str) -> str:
    """A valid SNS subject: one line of printable ASCII, at most 100 characters."""
    flat = " ".join(text.split())
    ascii_only = "".join(c if 32 <= ord(c) < 127 else "?" for c in flat)
    return ascii_only if len(ascii_only) <= SUBJECT_MAX else ascii_only[: SUBJECT_MAX - 3] + "..."


class SnsAlerts(_AwsClients, Alerts):
    """Alerts published to the SNS alerts topic (subject, text message, severity attribute)."""

    topic_arn: str | None = Field(
        default=None, description="ARN of the alerts topic; default: the topic named topic_name in this account and region."
    )
    topic_name: str = Field(default=names.ALERTS_TOPIC, description="Name of the alerts topic.")
    region_name: str | None = Field(default=None, description="AWS region (default: the environment's).")
    endpoint_url: str | None = Field(default=None, description="SNS endpoint override.")

    _clients: dict = PrivateAttr(default_factory=dict)

    def resolved_topic_arn(self) -> str:
        if self.topic_arn:
            return self.topic_arn
        if "topic_arn" not in self._clients:
            sns = self._client("sns")
            region = sns.meta.region_name
            partition = boto3.session.Session().get_partition_for_region(region)
            account = self._client("sts").get_caller_identity()["Account"]
            self._clients["topic_arn"] = f"arn:{partition}:sns:{region}:{account}:{self.topic_name}"
        return self._clients["topic_arn"]

    def send(
        self, subject: str, message: str, severity: str = "error", details: Mapping[str, Any] | None = None
    ) -> None:
        check_severity(severity)
        body = render(subject, message, details)
        if len(body) > MESSAGE_MAX:
            body = body[:MESSAGE_MAX] + "\n[truncated]"
        self._client("sns").publish(
            TopicArn=self.resolved_topic_arn(),
            Subject=sns_subject(f"[recmart {severity}] {subject}"),
            Message=body,
            MessageAttributes={"severity": {"DataType": "String", "StringValue": severity}},
        )


def metric_datum(metric: Metric) -> dict:
    datum: dict[str, Any] = {
        "MetricName": metric.name,
        "Value": float(metric.value),
        "Unit": metric.unit,
        "Dimensions": [
            {"Name": str(k), "Value": str(v)[:DIMENSION_VALUE_MAX]} for k, v in sorted(metric.dimensions.items())
        ],
    }
    if metric.timestamp is not None:
        datum["Timestamp"] = metric.timestamp
    return datum


class CloudWatchRunMetrics(_AwsClients, RunMetrics):
    """Run metrics put in CloudWatch (PutMetricData) under the recmart namespace."""

    namespace: str = Field(default=names.METRICS_NAMESPACE, description="CloudWatch namespace of the metrics.")
    region_name: str | None = Field(default=None, description="AWS region (default: the environment's).")
    endpoint_url: str | None = Field(default=None, description="CloudWatch endpoint override.")

    _clients: dict = PrivateAttr(default_factory=dict)

    def put(self, metrics: Sequence[Metric], run_id: str | None = None) -> None:
        data = [metric_datum(m) for m in metrics]
        client = self._client("cloudwatch")
        for i in range(0, len(data), PUT_METRIC_DATA_MAX):
            client.put_metric_data(Namespace=self.namespace, MetricData=data[i : i + PUT_METRIC_DATA_MAX])

