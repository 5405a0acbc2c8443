"""The landing sensor's memory of what it has seen, and what changed since.

dagster-aws's `get_objects(since_last_modified=...)` compares with a strict `>` and
`since_key` misses rewritten or deleted keys, so either can lose a file that lands in the
same second as the last one seen. Instead the cursor keeps every key (with size and
modification time) of the landing days within the late-arrival window, and the set of older
days already seen; a tick lists those recent days plus any day folder it has not seen, and
compares.

The window is MAX_LATE_DAYS days before the newest landed day, and that day: a file put late
into any of those folders (a producer's retry, a restore) still holds events the cleaning
accepts, so it must be noticed like one Firehose just wrote, not only the newest folders.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from recmart.resources.lake import Lake
from recmart.steps.cleaned_events import MAX_LATE_DAYS


@dataclass
class LandingCursor:
    files: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # day -> key -> [size, mtime_ns]
    settled_days: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, raw: str | None) -> LandingCursor | None:
        if not raw:
            return None
        data = json.loads(raw)
        return cls(files=data["files"], settled_days=data["settled_days"])

    def forget(self, day: str, previous: LandingCursor | None) -> None:
        """Undo this scan's view of `day`, so the next scan reports its changes again."""
        if previous is not None and day in previous.files:
            self.files[day] = previous.files[day]
        else:
            self.files.pop(day, None)
        if day in self.settled_days and (previous is None or day not in previous.settled_days):
            self.settled_days.remove(day)

    def serialize(self) -> str:
        return json.dumps({"files": self.files, "settled_days": self.settled_days}, sort_keys=True)


def scan(lake: Lake, previous: LandingCursor | None) -> tuple[dict[str, str], LandingCursor]:
    """({changed day: digest of its files}, new cursor). The first scan reports no change."""
    days = lake.landed_days()
    settled = set(previous.settled_days) if previous else set()
    recent = set(recent_days(days))
    to_list = [d for d in days if d in recent or d not in settled]
    now: dict[str, dict[str, list[int]]] = {
        d: {f.key: [f.size, f.mtime_ns] for f in lake.landed_files(d)} for d in to_list
    }
    changed = {}
    if previous is not None:
        for day, files in now.items():
            if files != previous.files.get(day, {}) or (day not in previous.files and day not in settled):
                changed[day] = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]
        # A recent day that vanished entirely is a change too: its raw partition must be cleared.
        for day in set(previous.files) - set(days):
            changed[day] = "vanished"
    cursor = LandingCursor(
        files={d: f for d, f in now.items() if d in recent},
        settled_days=sorted((settled | set(now)) - recent),
    )
    return changed, cursor


def recent_days(days: list[str], late_days: int = MAX_LATE_DAYS) -> list[str]:
    """The landed days (sorted) within `late_days` calendar days before the newest one, and it."""
    if not days:
        return []
    first = (dt.date.fromisoformat(days[-1]) - dt.timedelta(days=late_days)).isoformat()
    return [d for d in days if d >= first]
