"""Interaction matrices, scores and the catalogue -> feature-store rows of day D.

Point in time: a row of day D uses only matrices of days D-29..D (rows of later days are
ignored, so a caller may pass more) and the scores and catalogue of day D; its
`event_time` is D+1 00:00 UTC, the first instant at which all of that is known. Horizons
count whole UTC days ending with D: `_1d` is D itself, `_7d` D-6..D, `_30d` D-29..D.
Every count is a sum of interaction-matrix counts, so each reconciles with the matrices
exactly (the asset checks do that).
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

# The constants are the declared step's (pyspark-free), still importable from here.
from recmart.steps.feature_rows import CATALOGUE_ATTRIBUTES, FAVOURITES, HORIZONS, WINDOW_DAYS  # noqa: F401
from recmart.tables import FEATURES_INTERACTIONS, FEATURES_ITEMS, FEATURES_USERS
from recmart.transforms.trends import TrendSettings, product_trends, weighted_interactions

_MONEY = "decimal(18,2)"


def event_time(day: dt.date) -> Column:
    """D+1 00:00 UTC as a timestamp (the session time zone is UTC)."""
    return F.to_timestamp(F.lit(f"{day + dt.timedelta(days=1)} 00:00:00"))


def window_rows(matrices: DataFrame, day: dt.date) -> DataFrame:
    """Matrix rows of D-29..D with `age` in days (0 = D)."""
    first = day - dt.timedelta(days=WINDOW_DAYS - 1)
    return matrices.where((F.col("event_date") >= F.lit(first)) & (F.col("event_date") <= F.lit(day))).withColumn(
        "age", F.datediff(F.lit(day), F.col("event_date"))
    )


def _within(h: int) -> Column:
    return F.col("age") < h


def _sum_within(col: str, h: int) -> Column:
    return F.coalesce(F.sum(F.when(_within(h), F.col(col))), F.lit(0)).cast("bigint").alias(f"{col}_{h}d")


def _distinct_within(col: str, h: int, alias: str) -> Column:
    return F.countDistinct(F.when(_within(h), F.col(col))).cast("bigint").alias(alias)


def user_features(matrices: DataFrame, catalogue: DataFrame, day: dt.date,
                  weights: TrendSettings = TrendSettings()) -> DataFrame:
    m = window_rows(matrices, day)
    per_user = m.groupBy("user_id").agg(
        *(_sum_within(c, h) for c in ("views", "add_to_carts", "purchases") for h in HORIZONS),
        F.sum("units").cast("bigint").alias("units_30d"),
        F.coalesce(F.sum(F.when(_within(7), F.col("revenue"))), F.lit(0)).cast(_MONEY).alias("revenue_7d"),
        F.sum("revenue").cast(_MONEY).alias("revenue_30d"),
        _distinct_within("product_id", 7, "distinct_products_7d"),
        F.countDistinct("product_id").cast("bigint").alias("distinct_products_30d"),
        F.countDistinct("event_date").cast("int").alias("active_days_30d"),
        F.min(F.when(F.col("purchases") > 0, F.col("age"))).cast("int").alias("days_since_last_purchase"),
        F.min("age").cast("int").alias("days_since_last_event"),
        F.max("last_event_time").alias("last_event_time"),
    )
    return (
        per_user.join(favourites(m, catalogue, weights), "user_id", "left")
        .withColumn("event_time", event_time(day))
        .select(*FEATURES_USERS.column_names)
    )


def favourites(window: DataFrame, catalogue: DataFrame, weights: TrendSettings) -> DataFrame:
    """Per user, the catalogue value with the most weighted interactions, for each favourite attribute.

    Ties go to the smallest value, so the choice is deterministic.
    """
    attrs = catalogue.select(
        "product_id",
        F.explode(F.array(*(F.struct(F.lit(a).alias("attribute"), F.col(a).alias("value")) for a in FAVOURITES))).alias("a"),
    ).select("product_id", "a.attribute", "a.value").where(F.col("value").isNotNull())
    interest = (
        window.select("user_id", "product_id", weighted_interactions(weights).alias("w"))
        .join(F.broadcast(attrs), "product_id")
        .groupBy("user_id", "attribute", "value").agg(F.sum("w").alias("w"))
        .where(F.col("w") > 0)
    )
    best = Window.partitionBy("user_id", "attribute").orderBy(F.desc("w"), F.asc("value"))
    top = interest.withColumn("_r", F.row_number().over(best)).where(F.col("_r") == 1)
    return top.groupBy("user_id").agg(
        *(F.first(F.when(F.col("attribute") == a, F.col("value")), ignorenulls=True).alias(name)
          for a, name in FAVOURITES.items())
    )


def item_features(matrices: DataFrame, catalogue: DataFrame, day: dt.date,
                  trend_settings: TrendSettings = TrendSettings()) -> DataFrame:
    m = window_rows(matrices, day)
    per_item = m.groupBy("product_id").agg(
        *(_sum_within(c, h) for c in ("views", "add_to_carts", "purchases") for h in HORIZONS),
        *(_distinct_within("user_id", h, f"users_{h}d") for h in HORIZONS),
        F.sum("units").cast("bigint").alias("units_30d"),
        F.sum("revenue").cast(_MONEY).alias("revenue_30d"),
        F.countDistinct(F.when(F.col("purchases") > 0, F.col("user_id"))).alias("_buyers"),
    )
    trends = product_trends(matrices, day, trend_settings).select("product_id", "trend_score")
    cat = catalogue.select("product_id", *CATALOGUE_ATTRIBUTES, F.lit(1).alias("in_catalogue"))
    rows = per_item.join(cat, "product_id", "full_outer").join(trends, "product_id", "left")
    zero = F.lit(0).cast("bigint")
    counts = [f"{c}_{h}d" for c in ("views", "add_to_carts", "purchases", "users") for h in HORIZONS] + ["units_30d"]

    def ratio(num: str, den: str) -> Column:
        return F.when(F.col(den) > 0, F.col(num) / F.col(den))

    return (
        rows.select(
            "product_id",
            *(F.coalesce(F.col(c), zero).alias(c) for c in counts),
            F.coalesce(F.col("revenue_30d"), F.lit(0).cast(_MONEY)).alias("revenue_30d"),
            F.coalesce(F.col("_buyers"), zero).alias("_buyers"),
            F.coalesce(F.col("trend_score"), F.lit(1.0)).alias("trend_score"),
            F.coalesce(F.col("in_catalogue"), F.lit(0)).cast("int").alias("in_catalogue"),
            *CATALOGUE_ATTRIBUTES,
        )
        .withColumn("cart_rate_30d", ratio("add_to_carts_30d", "views_30d"))
        .withColumn("purchase_rate_30d", ratio("purchases_30d", "views_30d"))
        .withColumn("buyer_share_30d", ratio("_buyers", "users_30d"))
        .withColumn("event_time", event_time(day))
        .select(*FEATURES_ITEMS.column_names)
    )


def interaction_features(matrices: DataFrame, scores: DataFrame, day: dt.date) -> DataFrame:
    """One row per (user, product) of the window; `score` from the day's interaction scores."""
    m = window_rows(matrices, day)
    per_pair = m.groupBy("user_id", "product_id").agg(
        *(_sum_within("views", h) for h in HORIZONS),
        *(F.sum(c).cast("bigint").alias(f"{c}_30d")
          for c in ("add_to_carts", "remove_from_carts", "purchases", "units")),
        F.sum("revenue").cast(_MONEY).alias("revenue_30d"),
        F.countDistinct("event_date").cast("int").alias("active_days_30d"),
        F.min("age").cast("int").alias("days_since_last_interaction"),
        F.max("last_event_time").alias("last_event_time"),
    )
    by_score = Window.partitionBy("user_id").orderBy(F.desc("score"), F.asc("product_id"))
    ranked = scores.select(
        "user_id", "product_id", "score", F.row_number().over(by_score).cast("int").alias("score_rank")
    )
    return (
        per_pair.join(ranked, ["user_id", "product_id"], "left")
        .withColumn("record_id", F.concat_ws("#", "user_id", "product_id"))
        .withColumn("event_time", event_time(day))
        .select(*FEATURES_INTERACTIONS.column_names)
    )
