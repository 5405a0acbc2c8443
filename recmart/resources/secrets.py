"""Secret settings as resource values, without showing them in the Dagster UI."""

from __future__ import annotations

import dagster as dg

from recmart.config import Settings, env_name


def secret(settings: Settings, field: str):
    """A secret setting (RECMART_PII_SALT, RECMART_SOURCE_DB) for a resource: a Dagster `EnvVar`
    when the settings read it from the process environment (the UI shows its name, never its
    value; the run resolves it from that same environment, whose value the load validated),
    else the value that was read (a given mapping, a default)."""
    return dg.EnvVar(env_name(field)) if settings.from_process_environment(field) else getattr(settings, field)
