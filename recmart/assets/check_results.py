"""The verdict every layer's checks give when they had nothing to judge.

A check over an empty input proves nothing (0 landed = 0 raw holds for a day that never
arrived), so it is not a pass: it fails as a warning, which blocks nothing downstream, names
the empty input and says in its metadata that nothing was judged.
"""

import dagster as dg


def nothing_judged(empty: str, day: str, why: str, metadata: dict | None = None) -> dg.AssetCheckResult:
    """`empty`: the input without rows (a table, a landing prefix); `why`: what that means."""
    return dg.AssetCheckResult(
        passed=False, severity=dg.AssetCheckSeverity.WARN,
        metadata={"judged": 0, "empty_input": empty, **(metadata or {})},
        description=f"nothing judged: {empty} has no rows on {day} ({why})",
    )
