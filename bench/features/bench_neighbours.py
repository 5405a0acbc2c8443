"""Benchmark: item neighbours over a 30-day window, and feature rows for many users (not a test).

    .venv/bin/python bench/features/bench_neighbours.py neighbours --scale 0.05 --scale 0.1
    .venv/bin/python bench/features/bench_neighbours.py features --users 100000

Inputs are synthesised directly with Spark (deterministic: every draw is a hash of ids and
the seed), written to Parquet first, and the timed part is the step's own job file
(`recmart.steps.spark_job.run` of item_neighbours and feature_rows) reading them, as the asset runs it.

The size of a 30-day interaction_scores input at 10 M events/day (derivation in
RESULTS.md): 100 M (user, product) rows from 6.6 M users (mean 15 products each, a
heavy tail up to 5,000), over a catalogue of 50,000 products in 200 taste groups. `--scale`
takes a fraction of the users (and so of the rows); the catalogue stays the same.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peak_memory import timed  # noqa: E402

FULL_USERS = 6_600_000
MEAN_ITEMS = 15  # per user over the window (Pareto, shape 1.5, capped)
MAX_ITEMS = 5_000  # the heaviest synthetic users (bots) touch this many products
PRODUCTS = 50_000
GROUPS = 200
IN_GROUP = 0.8  # share of a user's products from their taste group (the sample store's 0.8)
DAY = dt.date(2026, 11, 30)


def spark_session(driver_memory: str, shuffle_partitions: int):
    from recmart.resources.spark import local_spark_session

    spark = local_spark_session({"spark.local.dir": tempfile.gettempdir()},
                                driver_memory=driver_memory, shuffle_partitions=shuffle_partitions)
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _u(col, salt: int):
    """A uniform in [0, 1) from a hash of a long column and a salt."""
    from pyspark.sql import functions as F

    return (F.abs(F.xxhash64(col, F.lit(salt))) % F.lit(1 << 30)) / F.lit(float(1 << 30))


def _log_uniform(u, n: int):
    """An index in [0, n) with P(k) ~ 1/(k+1): popular items first."""
    from pyspark.sql import functions as F

    return (F.floor(F.exp(u * F.lit(math.log(n + 1)))) - 1).cast("long")


def synth_scores(spark, users: int, seed: int):
    """A 30-day interaction_scores partition: unique (user, product) rows with positive scores."""
    from pyspark.sql import functions as F

    from recmart.tables import CURATED_INTERACTION_SCORES

    xm = MEAN_ITEMS / 3.0  # Pareto shape 1.5: mean = 3 xm
    per_group = PRODUCTS // GROUPS
    u = spark.range(users).select(F.col("id").alias("user"))
    u = u.select(
        "user",
        F.least(F.ceil(F.lit(xm) / F.pow(1.0 - _u(F.col("user"), seed), F.lit(1 / 1.5))), F.lit(MAX_ITEMS)).alias("n"),
        (F.abs(F.xxhash64("user", F.lit(seed + 1))) % GROUPS).alias("group"),
    )
    events = u.select("user", "group", F.explode(F.sequence(F.lit(1), F.col("n").cast("int"))).alias("k"))
    key = F.col("user") * F.lit(10_000) + F.col("k")
    in_group = _u(key, seed + 2) < IN_GROUP
    pick = _u(key, seed + 3)
    product = F.when(in_group, F.col("group") * per_group + _log_uniform(pick, per_group)).otherwise(
        _log_uniform(pick, PRODUCTS))
    pairs = events.select("user", product.alias("product"), key.alias("key")).dropDuplicates(["user", "product"])
    views = (F.floor(-F.log(1.0 - _u(F.col("key"), seed + 4)) * 2) + 1).cast("bigint")
    purchases = (_u(F.col("key"), seed + 5) < 0.02).cast("bigint")
    carts = (_u(F.col("key"), seed + 6) < 0.05).cast("bigint") + purchases
    age = F.floor(_u(F.col("key"), seed + 7) * 30)
    decay = F.pow(F.lit(0.5), age / 7.0)
    return pairs.select(
        F.format_string("U%08d", "user").alias("user_id"),
        F.format_string("P%06d", "product").alias("product_id"),
        ((views + carts * 4 + purchases * 10) * decay).alias("score"),
        views.alias("views"), carts.alias("add_to_carts"), F.lit(0).cast("bigint").alias("remove_from_carts"),
        purchases.alias("purchases"), purchases.alias("units"),
        (purchases * 29.99).cast("decimal(18,2)").alias("revenue"),
        (age.cast("int") % 5 + 1).alias("active_days"),
        F.to_timestamp(F.lit(f"{DAY} 12:00:00")).alias("last_event_time"),
    ).select(*CURATED_INTERACTION_SCORES.column_names)


def run_neighbours(spark, scale: float, work: Path, seed: int, params: dict) -> dict:
    from recmart.steps import spark_job
    from recmart.tables import CURATED_INTERACTION_SCORES
    from recmart.transforms.io import write_partition

    users = int(FULL_USERS * scale)
    src = work / f"scores_{users}"
    if not src.exists():
        t = time.perf_counter()
        rows = write_partition(synth_scores(spark, users, seed), CURATED_INTERACTION_SCORES, str(src))
        print(f"  synthesised {rows:,} score rows for {users:,} users in {time.perf_counter() - t:.0f} s", flush=True)
    out = work / f"neighbours_{users}_{time.time_ns()}"
    spec = {"step": "item_neighbours", "partition": DAY.isoformat(), "inputs": {"interaction_scores": {DAY.isoformat(): str(src)}},
            "outputs": {"item_neighbours": str(out)}, "params": params}
    metrics, seconds, peak = timed(spark_job.run, spark, spec)
    rows_in = spark.read.parquet(str(src)).count()
    shutil.rmtree(out, ignore_errors=True)
    return {"scale": scale, "users": users, "score_rows": rows_in, "seconds": round(seconds, 1),
            "peak_rss_gib": round(peak / 2**30, 2), **metrics}


def synth_feature_inputs(spark, users: int, work: Path, seed: int) -> dict:
    """30 days of matrices, the day's scores and a catalogue for `users` users."""
    from pyspark.sql import functions as F

    from recmart.tables import CURATED_INTERACTION_MATRIX, CURATED_INTERACTION_SCORES, RAW_PRODUCTS
    from recmart.transforms.io import write_partition
    from recmart.transforms.scores import ScoreSettings, interaction_scores

    root = work / f"features_{users}"
    matrices = {}
    # Per user and day: active with probability 0.15 (about 4.5 active days in 30), ~5 products.
    base = spark.range(users).select(F.col("id").alias("user"))
    for k in range(30):
        d = DAY - dt.timedelta(days=k)
        loc = root / f"matrix/{d}"
        matrices[d.isoformat()] = str(loc)
        if loc.exists():
            continue
        active = base.where(_u(F.col("user") * 31 + k, seed) < 0.15)
        rows = active.select("user", F.explode(F.sequence(F.lit(1), F.lit(5))).alias("j"))
        key = F.col("user") * 1000 + F.lit(k) * 10 + F.col("j")
        group = F.abs(F.xxhash64("user", F.lit(seed))) % GROUPS
        product = group * (PRODUCTS // GROUPS) + _log_uniform(_u(key, seed + 1), PRODUCTS // GROUPS)
        m = rows.select(F.format_string("U%08d", "user").alias("user_id"),
                        F.format_string("P%06d", product).alias("product_id"), key.alias("key"))
        m = m.dropDuplicates(["user_id", "product_id"])
        buy = (_u(F.col("key"), seed + 2) < 0.02).cast("bigint")
        t = F.to_timestamp(F.lit(f"{d} 12:00:00"))
        m = m.select("user_id", "product_id",
                     (F.floor(_u(F.col("key"), seed + 3) * 3) + 1).cast("bigint").alias("views"),
                     (_u(F.col("key"), seed + 4) < 0.05).cast("bigint").alias("add_to_carts"),
                     F.lit(0).cast("bigint").alias("remove_from_carts"), buy.alias("purchases"), buy.alias("units"),
                     (buy * 29.99).cast("decimal(18,2)").alias("revenue"),
                     t.alias("first_event_time"), t.alias("last_event_time"))
        write_partition(m, CURATED_INTERACTION_MATRIX, str(loc))
    scores_loc, catalogue_loc = root / "scores", root / "catalogue"
    if not scores_loc.exists():
        from recmart.transforms.io import read_partitions

        write_partition(interaction_scores(read_partitions(spark, CURATED_INTERACTION_MATRIX, matrices), DAY, ScoreSettings()),
                        CURATED_INTERACTION_SCORES, str(scores_loc))
    if not catalogue_loc.exists():
        p = spark.range(PRODUCTS).select(
            F.format_string("P%06d", "id").alias("product_id"), F.lit("a product").alias("name"),
            F.element_at(F.array(*map(F.lit, ("Men", "Women", "Unisex"))),
                         (F.col("id") % 3 + 1).cast("int")).alias("gender"),
            F.concat(F.lit("MC"), (F.col("id") % 4).cast("string")).alias("master_category"),
            F.lit("Sub").alias("sub_category"),
            F.concat(F.lit("AT"), (F.col("id") / (PRODUCTS // GROUPS)).cast("int").cast("string"))
            .alias("article_type"),
            F.concat(F.lit("C"), (F.col("id") % 20).cast("string")).alias("base_colour"),
            F.lit("Fall").alias("season"), F.lit(2024).alias("year"), F.lit("Casual").alias("usage"),
            F.lit(29.99).cast("decimal(18,2)").alias("price"))
        write_partition(p, RAW_PRODUCTS, str(catalogue_loc))
    return {"interaction_matrix": matrices, "interaction_scores": {DAY.isoformat(): str(scores_loc)},
            "catalogue": {DAY.isoformat(): str(catalogue_loc)}}


def run_features(spark, users: int, work: Path, seed: int) -> dict:
    from recmart.steps import spark_job

    t = time.perf_counter()
    inputs = synth_feature_inputs(spark, users, work, seed)
    print(f"  inputs ready in {time.perf_counter() - t:.0f} s", flush=True)
    matrix_rows = spark.read.parquet(*inputs["interaction_matrix"].values()).count()
    out = work / f"feature_out_{time.time_ns()}"
    spec = {"step": "feature_rows", "partition": DAY.isoformat(), "inputs": inputs, "params": {},
            "outputs": {k: str(out / k) for k in ("user_features", "item_features", "interaction_features")}}
    metrics, seconds, peak = timed(spark_job.run, spark, spec)
    shutil.rmtree(out, ignore_errors=True)
    return {"users": users, "matrix_rows_30d": matrix_rows, "seconds": round(seconds, 1),
            "peak_rss_gib": round(peak / 2**30, 2), **metrics}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["neighbours", "features"])
    ap.add_argument("--scale", type=float, action="append", help="fraction of the 10 M events/day input (repeat)")
    ap.add_argument("--users", type=int, default=100_000, help="users of the feature-rows benchmark")
    ap.add_argument("--max-items-per-user", type=int, default=50)
    ap.add_argument("--top-k", type=int, default=50)
    ap.add_argument("--driver-memory", default="6g")
    ap.add_argument("--shuffle-partitions", type=int, default=32)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "recmart-bench-features"))
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    spark = spark_session(args.driver_memory, args.shuffle_partitions)
    print(f"cores: {os.cpu_count()}, driver memory {args.driver_memory}, "
          f"shuffle partitions {args.shuffle_partitions}", flush=True)
    if args.what == "neighbours":
        params = {"top_k": args.top_k, "max_items_per_user": args.max_items_per_user}
        for scale in args.scale or [0.05, 0.1]:
            print(json.dumps(run_neighbours(spark, scale, work, args.seed, params)), flush=True)
    else:
        print(json.dumps(run_features(spark, args.users, work, args.seed)), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
