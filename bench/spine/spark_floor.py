"""The least any Spark spine can do: read a day's landed files and parse every line once.

No validation, no deduplication, no writes: gzip decompression, line splitting and one JSON
parse per line (the contract's fields, as the raw step parses them), summed so that Spark
cannot skip the work. In the same Spark local mode and settings as the spine. Whatever the
spine does beyond this is its own cost; this is the part no Spark implementation avoids.

    .venv/bin/python bench/spine/spark_floor.py bench/out/n10000000/lake/landing/clickstream
"""

from __future__ import annotations

import argparse
import json
import time

from pyspark.sql import functions as F
from pyspark.sql import types as T
from spark_start import landed_files, timed_session

from recmart.tables import CLICK_FIELDS


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("landing", help="the landing/clickstream folder of a seeded lake")
    args = p.parse_args()
    files = landed_files(args.landing)
    spark, session_s = timed_session()
    session = time.perf_counter()
    lines = spark.read.text(files)
    read = lines.agg(F.count(F.lit(1)), F.sum(F.length("value"))).first()
    text = time.perf_counter()
    schema = T.StructType([T.StructField(f, T.StringType()) for f in CLICK_FIELDS])
    parsed = lines.select(F.from_json("value", schema).alias("j")).agg(
        *(F.sum(F.length(f"j.{f}")) for f in CLICK_FIELDS)
    ).first()
    done = time.perf_counter()
    print(json.dumps({
        "files": len(files), "lines": read[0], "ndjson_bytes": read[1], "parsed_field_chars": sum(v or 0 for v in parsed),
        "session_start_s": round(session_s, 1),
        "read_and_split_s": round(text - session, 1),
        "read_split_and_parse_s": round(done - text, 1),
    }))


if __name__ == "__main__":
    main()
