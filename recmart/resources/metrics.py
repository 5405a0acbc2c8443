"""Run metrics: numbers about each run (duration, rows written, records quarantined, checks
failed) for dashboards and alarms.

Locally they are log lines and JSON lines appended to `./.recmart/metrics/metrics.jsonl`;
on AWS `recmart.aws.monitoring.CloudWatchRunMetrics` puts them in CloudWatch under the
`Recmart` namespace, with the job (and the asset, where the number is about one) as
dimensions.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from pydantic import Field

from recmart.config import LOCAL_STATE

# CloudWatch's units, the ones recmart uses.
UNITS = ("Count", "Seconds", "Milliseconds", "Bytes", "Percent", "Count/Second", "None")


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str = "Count"
    dimensions: Mapping[str, str] = field(default_factory=dict)
    timestamp: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"metric {self.name}: unit {self.unit!r} is not one of {UNITS}")
        if not isinstance(self.value, (int, float)) or isinstance(self.value, bool) or not math.isfinite(self.value):
            raise ValueError(f"metric {self.name}: value {self.value!r} is not a finite number")
        if any(not str(v) for v in self.dimensions.values()):
            raise ValueError(f"metric {self.name}: empty dimension value in {dict(self.dimensions)}")

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "dimensions": dict(self.dimensions),
            "timestamp": (self.timestamp or dt.datetime.now(dt.timezone.utc)).isoformat(),
        }


class RunMetrics(dg.ConfigurableResource, ABC):
    """Publishes metrics about runs."""

    @abstractmethod
    def put(self, metrics: Sequence[Metric], run_id: str | None = None) -> None:
        """Publish the metrics (of the run `run_id`, when they are about one), or raise."""


_WRITE_LOCK = threading.Lock()


class LocalRunMetrics(RunMetrics):
    """The local deployment's metrics: a log line each, and a JSON line each in a file."""

    folder: str = Field(
        default=str(LOCAL_STATE / "metrics"), description="Folder of metrics.jsonl (default ./.recmart/metrics)."
    )
    logger_name: str = Field(default="recmart.metrics")

    @property
    def path(self) -> Path:
        return Path(self.folder) / "metrics.jsonl"

    def put(self, metrics: Sequence[Metric], run_id: str | None = None) -> None:
        if not metrics:
            return
        log = dg.get_dagster_logger(self.logger_name)
        lines = []
        for metric in metrics:
            record = metric.as_dict() | ({"run_id": run_id} if run_id else {})
            lines.append(json.dumps(record, sort_keys=True))
            dims = ", ".join(f"{k}={v}" for k, v in metric.dimensions.items())
            log.info(f"METRIC {metric.name}={metric.value:g} {metric.unit} [{dims}]" + (f" run {run_id}" if run_id else ""))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _WRITE_LOCK, self.path.open("a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    def read(self) -> list[dict]:
        """Every metric written so far (for tests and the CLI)."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]
