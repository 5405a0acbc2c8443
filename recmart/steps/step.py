"""What a step is: the one declaration the assets, checks and Spark job list derive from."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from recmart.engine.portable import Transform
from recmart.schema import Table
from recmart.tables import RAW_PRODUCTS


@dataclass(frozen=True)
class Input:
    """A table read by a step: the partitions of the `days` days ending `end_offset` days
    after the step's own day. `days` may name a setting of the step (a configurable window),
    so the window the step reads and the one its lineage states are the same number."""

    table: Table
    days: int | str = 1
    end_offset: int = 0
    # Only the newest partition of the window that exists (a snapshot such as the catalogue).
    newest_only: bool = False

    plus_days: int = 0  # a window of setting `days` plus these (the day itself and its baseline)
    # Of each partition, only its sub-partition named by the step's day (the raw records of
    # every landing day that were assigned to the event day).
    subpartition: bool = False

    def window_days(self, settings: Any) -> int:
        return (getattr(settings, self.days) if isinstance(self.days, str) else self.days) + self.plus_days

    def keys(self, day: str, settings: Any) -> list[str]:
        """Partition keys read for `day`, newest first."""
        last = dt.date.fromisoformat(day) + dt.timedelta(days=self.end_offset)
        return [(last - dt.timedelta(days=k)).isoformat() for k in range(self.window_days(settings))]


@dataclass(frozen=True)
class Step:
    name: str
    transform: Transform
    inputs: Mapping[str, Input]
    outputs: Mapping[str, Table]  # transform statement -> the table it is written to
    settings: type | None = None  # a frozen dataclass; its fields are the transform's parameters
    doc: str = ""
    metrics: Mapping[str, str] = field(default_factory=dict)  # name -> one-row SQL over the outputs

    def __post_init__(self) -> None:
        if set(self.outputs) != set(self.transform.outputs):
            raise ValueError(f"step {self.name}: outputs {sorted(self.outputs)} are not the transform's")
        declared = {f.name for f in dataclasses.fields(self.settings)} if self.settings else set()
        missing = set(self.transform.params) - declared - {"day"}
        if missing:
            raise ValueError(f"step {self.name}: parameters {sorted(missing)} are not settings of the step")
        for name, inp in self.inputs.items():
            if isinstance(inp.days, str) and inp.days not in declared:
                raise ValueError(f"step {self.name}: input {name} window {inp.days!r} is not a setting")

    def params(self, day: str, settings: Any = None) -> dict[str, Any]:
        settings = settings if settings is not None else self.default_settings()
        values = dataclasses.asdict(settings) if settings is not None else {}
        return {k: v for k, v in {**values, "day": dt.date.fromisoformat(day)}.items() if k in self.transform.params}

    @property
    def metric_queries(self) -> Transform | None:
        """The metrics as a transform of one-row statements over the outputs."""
        if not self.metrics:
            return None
        return Transform(f"{self.name}.metrics", self.metrics, tuple(self.metrics), params=self.transform.params)

    def default_settings(self) -> Any:
        return self.settings() if self.settings else None


# A day without its own catalogue snapshot uses the newest one of up to this many days before.
CATALOGUE_LOOKBACK_DAYS = 30


def catalogue_input() -> Input:
    """The catalogue as the steps read it: the newest snapshot of the day or the days before."""
    return Input(RAW_PRODUCTS, days=CATALOGUE_LOOKBACK_DAYS + 1, newest_only=True)


REGISTRY: dict[str, Step] = {}


def register(step: Step) -> Step:
    if step.name in REGISTRY:
        raise ValueError(f"step {step.name} is declared twice")
    REGISTRY[step.name] = step
    return step
