"""The handler's configuration, from environment variables (it is a Lambda), checked at start.

A bad value fails the cold start with a message naming the variable, rather than
failing every record later.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from recmart.realtime.history import HistoryLimits
from recmart.realtime.scoring import ScoringSettings
from recmart.realtime.store.factory import DEFAULT_STORE_URL, STORE_ENV

DEAD_LETTERS_ENV = "RECMART_RT_DEAD_LETTERS"


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names it."""


@dataclass(frozen=True)
class _Setting:
    env: str
    default: object
    parse: Callable[[str], Any]  # int, float or str.upper: the value of HandlerConfig's field
    low: float | None = None
    high: float | None = None
    doc: str = ""


# (field name -> setting). The names are those of the Lambda's environment (deploy/terraform).
SETTINGS: dict[str, _Setting] = {
    "top_n": _Setting("RECMART_RT_TOP_N", 20, int, 1, 100, "recommendations kept per user"),
    "seed_events": _Setting("RECMART_RT_SEED_EVENTS", 20, int, 1, 500, "newest events that seed candidates"),
    "candidate_budget": _Setting("RECMART_RT_CANDIDATE_BUDGET", 200, int, 10, 100_000,
                                 "neighbour entries scored per user, shared among the seeds"),
    "half_life_hours": _Setting("RECMART_RT_HALF_LIFE_HOURS", 24.0, float, 0.01, 8760, "recency half-life"),
    "history_max_events": _Setting("RECMART_RT_HISTORY_MAX_EVENTS", 50, int, 1, 500, "events kept per user"),
    "history_days": _Setting("RECMART_RT_HISTORY_DAYS", 30.0, float, 0.01, 365, "age of the oldest event kept"),
    "purchase_window_days": _Setting("RECMART_RT_PURCHASE_WINDOW_DAYS", 30.0, float, 0.01, 365,
                                     "a product bought this recently is not recommended"),
    "recs_ttl_days": _Setting("RECMART_RT_RECS_TTL_DAYS", 30.0, float, 0.01, 3650,
                              "recommendations expire this long after their newest event, and never "
                              "sooner than this long after they are written"),
    "snapshot_refresh_seconds": _Setting("RECMART_RT_SNAPSHOT_REFRESH_SECONDS", 60.0, float, 0, 3600,
                                         "how long a warm Lambda trusts its cached snapshot pointer"),
    "item_cache_size": _Setting("RECMART_RT_ITEM_CACHE_SIZE", 200_000, int, 0, 10_000_000,
                                "products whose neighbours a warm Lambda keeps in memory (0: none)"),
    "log_level": _Setting("RECMART_RT_LOG_LEVEL", "INFO", str.upper, doc="DEBUG, INFO, WARNING or ERROR"),
}
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class HandlerConfig:
    store_url: str = DEFAULT_STORE_URL
    dead_letters_url: str = ""  # empty: beside the store (SQLite table, or SQS for DynamoDB)
    top_n: int = 20
    seed_events: int = 20
    candidate_budget: int = 200
    half_life_hours: float = 24.0
    history_max_events: int = 50
    history_days: float = 30.0
    purchase_window_days: float = 30.0
    recs_ttl_days: float = 30.0
    snapshot_refresh_seconds: float = 60.0
    item_cache_size: int = 200_000
    log_level: str = "INFO"

    # Cached: the handler asks for these for every user of every batch.
    @functools.cached_property
    def scoring(self) -> ScoringSettings:
        return ScoringSettings(self.top_n, self.seed_events, self.candidate_budget, self.half_life_hours,
                               self.purchase_window_days)

    @functools.cached_property
    def history_limits(self) -> HistoryLimits:
        return HistoryLimits(self.history_max_events, self.history_days, purchase_window_days=self.purchase_window_days)

    @property
    def resolved_dead_letters_url(self) -> str:
        if self.dead_letters_url:
            return self.dead_letters_url
        if self.store_url.startswith("dynamodb:"):
            return "sqs://"
        path = self.store_url[len("sqlite:///"):] if self.store_url.startswith("sqlite:///") else self.store_url
        return f"sqlite:///{path}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HandlerConfig:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}  # HandlerConfig's keyword arguments, each of its field's type
        for name, s in SETTINGS.items():
            raw = env.get(s.env, "").strip()
            if not raw:
                continue
            try:
                value = s.parse(raw)
            except ValueError:
                raise ConfigError(f"{s.env}={raw!r} is not {'an integer' if s.parse is int else 'a number'} "
                                  f"({s.doc})") from None
            if s.low is not None and not (s.low <= value <= s.high):
                raise ConfigError(f"{s.env}={raw!r} is out of range: expected {s.low:g} to {s.high:g} ({s.doc})")
            values[name] = value
        if values.get("log_level", "INFO") not in _LOG_LEVELS:
            raise ConfigError(f"RECMART_RT_LOG_LEVEL={env.get('RECMART_RT_LOG_LEVEL')!r}: expected one of {_LOG_LEVELS}")
        # In Lambda the store is DynamoDB unless told otherwise; on a laptop, the SQLite file.
        in_lambda = bool(env.get("AWS_LAMBDA_FUNCTION_NAME"))
        store_url = env.get(STORE_ENV, "").strip() or ("dynamodb://" if in_lambda else DEFAULT_STORE_URL)
        return cls(store_url=store_url, dead_letters_url=env.get(DEAD_LETTERS_ENV, "").strip(), **values)
