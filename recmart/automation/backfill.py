"""What a backfill of event days runs, in order.

An event day's records sit in the raw partitions of several landing days (the step
cleaned_events reads landing days D-1 .. D+MAX_LATE_DAYS), so landing only the range itself
would leave out the events of its last days that arrived after it. The landing days come from the step's own
input window, so the backfill and the step cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable

from recmart.steps.cleaned_events import STEP as CLEANED_EVENTS_STEP


def landing_days_read(event_days: Iterable[str]) -> set[str]:
    """Every landing day whose raw records the step cleaned_events reads for these event days."""
    window = CLEANED_EVENTS_STEP.inputs["raw_clickstream"]
    settings = CLEANED_EVENTS_STEP.default_settings()
    return {key for day in event_days for key in window.keys(day, settings)}


def backfill_phases(
    event_days: list[str], landed_days: Iterable[str], partitions: Iterable[str]
) -> list[tuple[str, list[str]]]:
    """[(job, partition keys)] in order: the raw layer of every event day; the landing of every
    other day that exists, is a partition and can hold their events; then the event days."""
    others = (landing_days_read(event_days) & set(landed_days) & set(partitions)) - set(event_days)
    phases = [("land_raw", list(event_days))]
    if others:
        phases.append(("ingest_clickstream", sorted(others)))
    return phases + [("refresh_event_day", list(event_days))]
