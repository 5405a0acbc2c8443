"""What a fresh JVM costs the first Spark job of a run: the raw step's Spark job, three times.

In one Spark session (the spine's local settings): start the session; run the raw step's
job (`recmart.engine.spark_ingest.run`) on one landed file (loads and compiles the classes the step
needs); then on the whole landing day twice. The first full pass is slower than the second by the JIT warm-up the
hot paths (gzip, line splitting, JSON parsing, Parquet writing) still need: a cost every
run pays once, whatever its size.

    .venv/bin/python bench/spine/jvm_warmup.py bench/out/n1000000/lake/landing/clickstream/2026/11/20
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from pyspark.sql import SparkSession
from spark_start import landed_files, timed_session

from recmart.engine import spark_ingest
from recmart.transforms.events import FUTURE_SKEW_MINUTES, MAX_LATE_DAYS


def derive_raw(spark: SparkSession, files: list[str], out: str) -> float:
    """Seconds the raw step's own Spark job takes on `files`."""
    spec = {
        "inputs": {"landing_files": files},
        "outputs": {"raw_clickstream": out},
        "params": {"max_late_days": MAX_LATE_DAYS, "future_skew_minutes": FUTURE_SKEW_MINUTES},
        "input_bytes": sum(Path(f).stat().st_size for f in files),
    }
    return spark_ingest.run(spark, spec)["job_seconds"]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("landing_day", help="one landing day's folder of a seeded lake")
    args = p.parse_args()
    files = landed_files(args.landing_day)
    spark, session = timed_session()
    out = tempfile.mkdtemp(prefix="recmart-warmup-")
    try:
        print(json.dumps({
            "files": len(files),
            "session_start_s": round(session, 1),
            "one_file_s": derive_raw(spark, files[:1], out),
            "whole_day_first_s": derive_raw(spark, files, out),
            "whole_day_second_s": derive_raw(spark, files, out),
        }))
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
