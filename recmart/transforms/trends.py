"""Interaction matrices + catalogue -> what is rising, in PySpark: the definitions and
formulas are those of `recmart.steps.trends` (the declared step, run by both engines); item
features still use `product_trends` here, and the parity suite compares the step with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from recmart.tables import CURATED_FASHION_TRENDS, CURATED_TRENDING_PRODUCTS

SCOPE_ALL = "all"
FASHION_ATTRIBUTES = ("article_type", "base_colour", "season", "gender", "usage")


def category_scope(column: Column) -> Column:
    """The scope of a master category as the trending tables (and the real-time path) spell it."""
    return F.concat(F.lit("master_category="), column)


@dataclass(frozen=True)
class TrendSettings:
    baseline_days: int = 7
    prior: float = 10.0  # weighted interactions added to day and baseline of a product
    attribute_prior: float = 100.0  # the same for an attribute value, whose volumes are larger
    top_n: int = 100  # trending products kept per scope
    view_weight: float = 1.0
    add_to_cart_weight: float = 4.0
    purchase_weight: float = 10.0

    def __post_init__(self) -> None:
        if self.baseline_days < 1:
            raise ValueError(f"baseline_days must be at least 1, got {self.baseline_days}")
        if self.prior <= 0 or self.attribute_prior <= 0:
            raise ValueError("the priors must be positive (they keep tiny counts off the top)")
        if self.top_n < 1:
            raise ValueError(f"top_n must be at least 1, got {self.top_n}")
        if min(self.view_weight, self.add_to_cart_weight, self.purchase_weight) < 0:
            raise ValueError("interaction weights cannot be negative")


def weighted_interactions(settings: TrendSettings) -> Column:
    """Interest of a matrix row: views, add-to-carts and purchases, weighted."""
    return (
        F.col("views") * settings.view_weight
        + F.col("add_to_carts") * settings.add_to_cart_weight
        + F.col("purchases") * settings.purchase_weight
    ).cast("double")


def trend_score(x: Column, baseline: Column, prior: float) -> Column:
    return (x + F.lit(prior)) / (baseline + F.lit(prior))


def daily_weights(matrices: DataFrame, day: dt.date, settings: TrendSettings) -> DataFrame:
    """Per product: `x` (weighted interactions on the day) and `baseline` (mean over the baseline days).

    Rows of days outside [day - baseline_days, day] are ignored, so a caller may pass more.
    """
    first = day - dt.timedelta(days=settings.baseline_days)
    m = matrices.where((F.col("event_date") >= F.lit(first)) & (F.col("event_date") <= F.lit(day)))
    on_day = F.col("event_date") == F.lit(day)
    # Days of the baseline range that have any matrix row: the mean's denominator.
    present = (
        m.where(~on_day).agg(F.countDistinct("event_date").alias("n")).select(F.greatest("n", F.lit(1)).alias("n"))
    )
    w = weighted_interactions(settings)
    per_product = m.groupBy("product_id").agg(
        F.sum(F.when(on_day, w).otherwise(0.0)).alias("x"),
        F.sum(F.when(~on_day, w).otherwise(0.0)).alias("baseline_total"),
    )
    return per_product.crossJoin(F.broadcast(present)).select(
        "product_id", "x", (F.col("baseline_total") / F.col("n")).alias("baseline")
    )


def product_trends(matrices: DataFrame, day: dt.date, settings: TrendSettings) -> DataFrame:
    """Every product with interactions on the day or in its baseline: x, baseline, trend_score."""
    d = daily_weights(matrices, day, settings)
    score = trend_score(F.col("x"), F.col("baseline"), settings.prior)
    return d.select("product_id", "x", "baseline", score.alias("trend_score"))


def _ranked(df: DataFrame, partition: list[str], top: int | None) -> DataFrame:
    ties = [F.asc(c) for c in ("product_id", "value") if c in df.columns]
    order = Window.partitionBy(*partition).orderBy(F.desc("trend_score"), F.desc("weighted_interactions"), *ties)
    ranked = df.withColumn("rank", F.row_number().over(order).cast("int"))
    return ranked.where(F.col("rank") <= top) if top else ranked


def trending_products(trends: DataFrame, catalogue: DataFrame, settings: TrendSettings) -> DataFrame:
    """Rising products (x > baseline), top `top_n` per scope: 'all' and each master category."""
    rising = trends.where(F.col("x") > F.col("baseline")).select(
        "product_id", F.col("x").alias("weighted_interactions"), "baseline", "trend_score"
    )
    categories = catalogue.where(F.col("master_category").isNotNull()).select("product_id", "master_category")
    scoped = rising.join(F.broadcast(categories), "product_id", "left").select(
        F.explode(
            F.when(
                F.col("master_category").isNull(), F.array(F.lit(SCOPE_ALL))
            ).otherwise(F.array(F.lit(SCOPE_ALL), category_scope(F.col("master_category"))))
        ).alias("scope"),
        "product_id", "weighted_interactions", "baseline", "trend_score",
    )
    return _ranked(scoped, ["scope"], settings.top_n).select(*CURATED_TRENDING_PRODUCTS.column_names)


def fashion_trends(trends: DataFrame, catalogue: DataFrame, settings: TrendSettings) -> DataFrame:
    """Every attribute value with interactions on the day or in its baseline, per scope, rising first.

    A value's x and baseline are the sums of its products' (both are linear), so the
    attribute level needs no second pass over the matrices.
    """
    values = [F.struct(F.lit(a).alias("attribute"), F.col(a).alias("value")) for a in FASHION_ATTRIBUTES]
    attrs = catalogue.select(
        "product_id", "master_category", F.explode(F.array(*values)).alias("a"),
    ).select("product_id", "master_category", "a.attribute", "a.value").where(F.col("value").isNotNull())
    joined = trends.join(attrs, "product_id")
    scoped = joined.select(
        F.explode(
            F.when(F.col("master_category").isNull(), F.array(F.lit(SCOPE_ALL)))
            .otherwise(F.array(F.lit(SCOPE_ALL), category_scope(F.col("master_category"))))
        ).alias("scope"),
        "attribute", "value", "product_id", "x", "baseline",
    )
    per_value = scoped.groupBy("scope", "attribute", "value").agg(
        F.sum("x").alias("weighted_interactions"),
        F.sum("baseline").alias("baseline"),
        F.count(F.when(F.col("x") > 0, 1)).cast("bigint").alias("products"),
    )
    scored = per_value.withColumn(
        "trend_score", trend_score(F.col("weighted_interactions"), F.col("baseline"), settings.attribute_prior)
    )
    return _ranked(scored, ["scope", "attribute"], None).select(*CURATED_FASHION_TRENDS.column_names)
