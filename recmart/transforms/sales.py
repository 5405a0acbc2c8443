"""The day's transactions + catalogue -> sales by dimension, for marketing.

One row per (dimension, value): dimension `all` (value `all`) and each of master_category,
article_type, gender and base_colour. Figures count the order items of orders that are not
cancelled (orders without items are not sales); `cancelled_orders` counts the cancelled
ones. A product missing from the catalogue counts under value `unknown`, so every
dimension's revenue and units add up to those of `all`, exactly.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from recmart.tables import CURATED_DAILY_SALES

DIMENSIONS = ("master_category", "article_type", "gender", "base_colour")
UNKNOWN = "unknown"
CANCELLED = "cancelled"
_MONEY = "decimal(18,2)"


def daily_sales(transactions: DataFrame, catalogue: DataFrame) -> DataFrame:
    items = transactions.where(F.col("product_id").isNotNull())
    dims = catalogue.select("product_id", *DIMENSIONS)
    joined = items.join(F.broadcast(dims), "product_id", "left")
    pairs = F.array(
        F.struct(F.lit("all").alias("dimension"), F.lit("all").alias("value")),
        *(F.struct(F.lit(d).alias("dimension"), F.coalesce(F.col(d), F.lit(UNKNOWN)).alias("value")) for d in DIMENSIONS),
    )
    rows = joined.select(
        "order_id", "user_id", "product_id", "quantity", "unit_price",
        (F.col("status") == CANCELLED).alias("cancelled"),
        F.explode(pairs).alias("d"),
    ).select("*", "d.dimension", "d.value")
    sold = ~F.col("cancelled")
    agg = rows.groupBy("dimension", "value").agg(
        F.countDistinct(F.when(sold, F.col("order_id"))).cast("bigint").alias("orders"),
        F.coalesce(F.sum(F.when(sold, F.col("quantity"))), F.lit(0)).cast("bigint").alias("units"),
        F.coalesce(F.sum(F.when(sold, F.col("quantity") * F.col("unit_price"))), F.lit(0)).cast(_MONEY).alias("revenue"),
        F.countDistinct(F.when(sold, F.col("user_id"))).cast("bigint").alias("buyers"),
        F.countDistinct(F.when(sold & F.col("user_id").isNull(), F.col("order_id"))).cast("bigint").alias("guest_orders"),
        F.countDistinct(F.when(sold, F.col("product_id"))).cast("bigint").alias("products"),
        F.countDistinct(F.when(F.col("cancelled"), F.col("order_id"))).cast("bigint").alias("cancelled_orders"),
    )
    avg = F.when(F.col("orders") > 0, (F.col("revenue") / F.col("orders")).cast(_MONEY))
    return agg.withColumn("avg_basket", avg).select(*CURATED_DAILY_SALES.column_names)
