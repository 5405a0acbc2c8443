"""Peak memory and time of the session-source tables (the `build_sources` equivalent of
bench_tables.py) with the module before the speed-up or the current one, in this process:

    .venv/bin/python bench/quality/tables_memory.py before 2000000
    .venv/bin/python bench/quality/tables_memory.py after 2000000

Prints the peak RSS (ru_maxrss) after building, the RSS once the synthetic clicks are made,
and the build's seconds. Run each in a fresh process.
"""

import importlib
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_tables as bt  # noqa: E402

from recmart.recsources.snapshot import SourceSettings  # noqa: E402

which, n = sys.argv[1], int(sys.argv[2])
clicks = bt.synthetic_clicks(n)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
module = importlib.import_module("tables_before" if which == "before" else "recmart.recsources.tables")
times, _ = bt.build(module, clicks, SourceSettings())
print(which, n, "peak MiB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
      "after clicks", base // 1024, "total s", round(times["total"], 1))
