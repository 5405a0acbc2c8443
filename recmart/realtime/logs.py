"""Structured logs: one JSON object per line on stdout, which Lambda ships to CloudWatch as is.

CloudWatch metric filters and Logs Insights read fields such as `malformed` or `reason`
straight from these lines.
"""

from __future__ import annotations

import json
import logging
import sys

_logger = logging.getLogger("recmart.realtime")


class _JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"level": record.levelname, "logger": record.name, "message": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        return json.dumps(line, separators=(",", ":"), default=str)


class _Stdout(logging.StreamHandler):
    """Writes to whatever sys.stdout is at the time (test runners swap it)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure(level: str = "INFO") -> None:
    """Send this package's log lines to stdout as JSON, once."""
    if not any(isinstance(h.formatter, _JsonLines) for h in _logger.handlers):
        handler = _Stdout()
        handler.setFormatter(_JsonLines())
        _logger.addHandler(handler)
        _logger.propagate = False  # the Lambda runtime's root handler would wrap it in plain text
    _logger.setLevel(level)


def log(level: int, message: str, **fields) -> None:
    if _logger.isEnabledFor(level):
        _logger.log(level, message, extra={"fields": fields})


def info(message: str, **fields) -> None:
    log(logging.INFO, message, **fields)


def warning(message: str, **fields) -> None:
    log(logging.WARNING, message, **fields)


def error(message: str, **fields) -> None:
    log(logging.ERROR, message, **fields)
