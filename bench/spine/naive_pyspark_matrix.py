"""The same day's interaction matrix the way a first Glue job is often written.

JSON schema inference over every file, `pivot` on the event type, default shuffle settings
(200 partitions). Kept as the baseline that bench/spine/run_bench.py compares against.
Usage: naive_pyspark_matrix.py LANDING_DAY_DIR... --source-db sqlite:///... --day D --out DIR
"""

import argparse
import sqlite3

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

p = argparse.ArgumentParser()
p.add_argument("landing", nargs="+")
p.add_argument("--source-db", required=True)
p.add_argument("--day", required=True)
p.add_argument("--out", required=True)
args = p.parse_args()

spark = SparkSession.builder.master("local[*]").config("spark.driver.memory", "2g").getOrCreate()
spark.conf.set("spark.sql.session.timeZone", "UTC")

# Infers the schema: a full extra pass over the data. Firehose's hour folders sit below the
# day folders, hence the recursive lookup.
events = spark.read.option("recursiveFileLookup", "true").json(args.landing)
events = (
    events.where(F.col("_corrupt_record").isNull() if "_corrupt_record" in events.columns else F.lit(True))
    .where(F.col("event_id").isNotNull() & F.col("user_id").isNotNull())
    .withColumn("ts", F.expr("try_cast(event_time as timestamp)"))
    .where(F.to_date("ts") == F.lit(args.day))
    .dropDuplicates(["event_id"])
)
# The pivot values are named: left to itself, pivot would also make columns of the stray
# types ("VIEW", "purchase", ...) and "VIEW" collides with "view" (names are case-insensitive).
counts = (events.groupBy("user_id", "product_id")
          .pivot("event_type", ["view", "add_to_cart", "remove_from_cart"]).count().na.fill(0))
times = events.groupBy("user_id", "product_id").agg(F.min("ts").alias("first"), F.max("ts").alias("last"))

con = sqlite3.connect(args.source_db.removeprefix("sqlite:///"))
rows = con.execute(
    "SELECT o.order_id, o.user_id, i.product_id, i.quantity, CAST(i.unit_price AS TEXT) "
    "FROM orders o JOIN order_items i USING (order_id) "
    "WHERE o.created_at >= ? AND o.created_at < date(?, '+1 day') AND o.status <> 'cancelled' "
    "AND o.user_id IS NOT NULL", (args.day, args.day)).fetchall()
orders = spark.createDataFrame(rows or [("", "", "", 0, "0")], "order_id string, user_id string, product_id string, quantity int, unit_price string")
bought = orders.where(F.col("order_id") != "").groupBy("user_id", "product_id").agg(
    F.countDistinct("order_id").alias("purchases"), F.sum("quantity").alias("units"),
    F.sum(F.col("quantity") * F.col("unit_price").cast("decimal(10,2)")).alias("revenue"))

matrix = counts.join(times, ["user_id", "product_id"]).join(bought, ["user_id", "product_id"], "full_outer")
matrix.write.mode("overwrite").parquet(args.out)
print("rows", spark.read.parquet(args.out).count())
