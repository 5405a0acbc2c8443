"""Peak memory of the process running the checks' heaviest DuckDB query, with and without
the checks' memory limit: the distinct count of a day's event ids (what the check
`event_ids_unique` ran when bench/spine/RESULTS.md was measured; its successor, the generated
`event_id_key_unique` of `recmart.assets.table_checks`, groups the day's rows by event id).

Each setting runs in a fresh process; prints the query's time and the process's peak RSS.

    .venv/bin/python bench/spine/check_query_memory.py bench/out/n10000000/lake 2026-11-20
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

QUERY = "SELECT count(*), count(DISTINCT event_id) FROM curated_cleaned_events WHERE event_date = DATE '{day}'"


def one(lake: str, day: str, limit: str) -> None:
    from recmart.engine.lake_views import duckdb_connection

    con = duckdb_connection(lake, memory_limit=limit or None)
    started = time.perf_counter()
    rows, ids = con.execute(QUERY.format(day=day)).fetchone()
    print(json.dumps({"memory_limit": limit or "none", "rows": rows, "distinct_event_ids": ids,
                      "seconds": round(time.perf_counter() - started, 2),
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))


def main() -> None:
    if sys.argv[1] == "--one":
        one(*sys.argv[2:5])
        return
    from recmart.resources.sql import CHECK_QUERY_MEMORY

    for limit in ("", CHECK_QUERY_MEMORY):
        subprocess.run([sys.executable, __file__, "--one", sys.argv[1], sys.argv[2], limit], check=True)


if __name__ == "__main__":
    main()
