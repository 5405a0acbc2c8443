"""Alerts: telling people that something needs them (a failed run, a failed data check).

Locally an alert is a log record (the Dagster logger, so it shows in the daemon's and the
UI's logs, and Python logging under `recmart.alerts`); on AWS `recmart.aws.monitoring.SnsAlerts`
publishes it to the alerts topic, which e-mails its subscribers.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import dagster as dg
from pydantic import Field

SEVERITIES = {"critical": logging.CRITICAL, "error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO}


def check_severity(severity: str) -> str:
    if severity not in SEVERITIES:
        raise ValueError(f"alert severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    return severity


def render(subject: str, message: str, details: Mapping[str, Any] | None = None) -> str:
    """The alert as plain text: the message, then one `key: value` line per detail."""
    lines = [message.rstrip()]
    if details:
        lines.append("")
        lines += [f"{key}: {value}" for key, value in details.items()]
    return "\n".join(lines)


class Alerts(dg.ConfigurableResource, ABC):
    """Sends an alert: a short subject, a message, a severity and details (run id, job, ...)."""

    @abstractmethod
    def send(
        self, subject: str, message: str, severity: str = "error", details: Mapping[str, Any] | None = None
    ) -> None:
        """Deliver the alert, or raise: an alert that cannot be sent must not vanish silently."""


class LogAlerts(Alerts):
    """The local deployment's alerts: a log record at the alert's severity."""

    logger_name: str = Field(default="recmart.alerts", description="Logger the alerts are written to.")

    def send(
        self, subject: str, message: str, severity: str = "error", details: Mapping[str, Any] | None = None
    ) -> None:
        level = SEVERITIES[check_severity(severity)]
        dg.get_dagster_logger(self.logger_name).log(
            level, f"ALERT [{severity}] {subject}\n{render(subject, message, details)}"
        )
