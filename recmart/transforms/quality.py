"""Offline quality of the recommenders: trained on days up to D-1, judged on day D.

Who is judged, what each recommender gives and what a hit is: see the step's definitions in
`recmart.steps.recommendation_quality`, which this transform follows.

Reading the report (one row per recommender and day):
- hr_at_10 / hr_at_20: share of judged users with at least one hit in their top 10 / 20.
- mrr_at_20: mean of 1 / rank of the first hit (0 without one); rewards hits near the top.
- coverage: share of the catalogue recommended to anyone: popularity and trending are
  near 0 by construction; neighbours should reach far more of the catalogue.
- avg_list_length: neighbours can give fewer than 20 products to a user whose seeds have few
  neighbours; a falling value means the neighbour table is thinning.
The neighbours should beat popularity on hr_at_20 while covering much more of the catalogue.
When they stop beating it (the non-blocking check warns), suspect the neighbours' inputs
(a short or broken score window, few co-interactions) before the users' tastes.

The step the assets run is declared in `recmart.steps.recommendation_quality` (the same
definitions in portable SQL, on DuckDB or Spark); this transform is the reference the parity
suite compares it with.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

# Declared with the step (`recmart.steps.recommendation_quality`), the one the assets run.
from recmart.steps.recommendation_quality import LIST_LENGTH, RECOMMENDERS, QualitySettings  # noqa: F401
from recmart.tables import RECOMMENDATION_QUALITY


def _top(candidates: DataFrame, bought: DataFrame) -> DataFrame:
    """(user_id, product_id, rank) best first, purchases removed, at most LIST_LENGTH per user."""
    kept = candidates.join(bought, ["user_id", "product_id"], "left_anti")
    order = Window.partitionBy("user_id").orderBy(F.desc("rec_score"), F.asc("product_id"))
    return (
        kept.withColumn("rank", F.row_number().over(order))
        .where(F.col("rank") <= LIST_LENGTH)
        .select("user_id", "product_id", "rank")
    )


def neighbour_recommendations(history: DataFrame, neighbours: DataFrame, users: DataFrame,
                              settings: QualitySettings) -> DataFrame:
    best = Window.partitionBy("user_id").orderBy(F.desc("score"), F.asc("product_id"))
    seeds = (
        history.join(users, "user_id", "left_semi").where(F.col("score") > 0)
        .withColumn("_r", F.row_number().over(best)).where(F.col("_r") <= settings.seed_items)
        .select("user_id", F.col("product_id").alias("seed"), F.col("score").alias("seed_score"))
    )
    nb = neighbours.select(F.col("product_id").alias("seed"), F.col("neighbour_id").alias("product_id"),
                           F.col("score").alias("sim"))
    return (
        seeds.join(nb, "seed")
        .groupBy("user_id", "product_id").agg(F.sum(F.col("seed_score") * F.col("sim")).alias("rec_score"))
    )


def global_recommendations(ranked: DataFrame, users: DataFrame, settings: QualitySettings) -> DataFrame:
    """Every user gets the same list (product_id, rec_score), cut at 20 + slack."""
    cut = ranked.orderBy(F.desc("rec_score"), F.asc("product_id")).limit(LIST_LENGTH + settings.global_list_slack)
    return users.crossJoin(F.broadcast(cut))


def popularity_ranking(history: DataFrame) -> DataFrame:
    return history.where(F.col("score") > 0).groupBy("product_id").agg(
        F.countDistinct("user_id").cast("double").alias("rec_score")
    )


def evaluate(recs: DataFrame, targets: DataFrame, n_users: int) -> dict:
    """HR@10, HR@20, MRR@20, list length and distinct products of recommendation lists."""
    hits = recs.join(targets, ["user_id", "product_id"]).groupBy("user_id").agg(F.min("rank").alias("first"))
    h = hits.agg(
        F.count(F.when(F.col("first") <= 10, 1)).alias("h10"),
        F.count(F.when(F.col("first") <= 20, 1)).alias("h20"),
        F.coalesce(F.sum(1.0 / F.col("first")), F.lit(0.0)).alias("rr"),
    ).first()
    r = recs.agg(F.count(F.lit(1)).alias("n"), F.countDistinct("product_id").alias("products")).first()
    per_user = (lambda v: v / n_users) if n_users else (lambda v: None)
    return {
        "hits_at_10": int(h["h10"]), "hits_at_20": int(h["h20"]),
        "hr_at_10": per_user(h["h10"]), "hr_at_20": per_user(h["h20"]), "mrr_at_20": per_user(float(h["rr"])),
        "avg_list_length": per_user(float(r["n"])), "recommended_products": int(r["products"]),
    }


def recommendation_quality(
    targets: DataFrame, history: DataFrame, neighbours: DataFrame, trending: DataFrame, catalogue: DataFrame,
    settings: QualitySettings = QualitySettings(),
) -> DataFrame:
    """The report: one row per recommender (see the module docstring).

    targets: interaction-matrix rows of D; history: interaction scores of D-1; neighbours:
    item neighbours of D-1; trending: trending products of D-1; catalogue: raw products.
    """
    spark = targets.sparkSession
    targets = targets.select("user_id", "product_id").distinct()
    active = targets.select("user_id").distinct()
    known = history.select("user_id").distinct()
    users = active.join(known, "user_id", "left_semi").persist()
    n_users = users.count()
    cold = active.count() - n_users
    bought = history.where(F.col("purchases") > 0).select("user_id", "product_id")
    judged_targets = targets.join(users, "user_id", "left_semi")
    catalogue_products = catalogue.select("product_id").distinct().count()

    candidates = {
        "item_neighbours": neighbour_recommendations(history, neighbours, users, settings),
        "trending": global_recommendations(
            trending.where(F.col("scope") == "all").select("product_id", (-F.col("rank")).cast("double").alias("rec_score")),
            users, settings),
        "popularity": global_recommendations(popularity_ranking(history), users, settings),
    }
    rows = []
    for name in RECOMMENDERS:
        m = evaluate(_top(candidates[name], bought), judged_targets, n_users)
        coverage = m["recommended_products"] / catalogue_products if catalogue_products else None
        rows.append({"recommender": name, "users": n_users, "cold_users": cold, **m,
                     "catalogue_products": catalogue_products, "coverage": coverage})
    users.unpersist()
    data = [tuple(r[c] for c in RECOMMENDATION_QUALITY.column_names) for r in rows]
    return spark.createDataFrame(data, RECOMMENDATION_QUALITY.spark_schema())


def report_rows(df: DataFrame) -> dict[str, dict]:
    """{recommender: row as a dict} of a quality report."""
    return {r["recommender"]: r.asDict() for r in df.collect()}
