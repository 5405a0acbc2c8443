"""Interaction scores of a trailing window -> each product's top-K related products.

Item-to-item co-interaction, cosine-normalised:

    sim(i, j) = sum_u s(u,i) * s(u,j) / (|s(., i)| * |s(., j)|)  *  co(i,j) / (co(i,j) + shrinkage)

where s(u,i) is the user's (time-decayed, positive) interaction score for product i from
`interaction_scores`, |s(., i)| the product's norm over users and co(i,j) the number of users
who interacted with both. Dividing by the norms damps popularity: a best-seller co-occurs
with everything, but its norm is large too, so it is related only to what its own users
favour. The shrinkage term discounts pairs seen through very few users.

Bounded cost: each user contributes only their `max_items_per_user` (N) best products by
score, so a user yields at most N(N-1)/2 unordered pairs, and the number of pairs is at most
(N-1)/2 times the number of (user, product) rows: linear in the events however heavy the
heaviest users (a bot that touches 10,000 products counts as a user with N). The pairs are
generated within each user's list, once per unordered pair (i < j), with no self-join, and
mirrored after aggregation; both top-N (per user) and top-K (per product) are bounded
aggregates, so no list is ever longer than N or K and nothing is sorted globally.

The step the assets run is declared in `recmart.steps.item_neighbours` (the same definitions
in portable SQL, on DuckDB or Spark); this transform is the reference the parity suite
compares it with.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from recmart.steps.item_neighbours import NeighbourSettings  # noqa: F401  (declared with the step)
from recmart.tables import CURATED_ITEM_NEIGHBOURS


def product_index(scores: DataFrame) -> DataFrame:
    """`product_id` -> dense int `idx`: pairs are keyed by two ints, not two strings."""
    products = scores.select("product_id").distinct()
    return products.select("product_id", (F.row_number().over(Window.orderBy("product_id")) - 1).cast("int").alias("idx"))


def user_top_items(scores: DataFrame, settings: NeighbourSettings, index: DataFrame | None = None) -> DataFrame:
    """(user_id, items): each user's best `max_items_per_user` products with a positive score,
    as an array of (idx, w) sorted by idx.

    A bounded top-N aggregate (`max_by` with k): no user's list ever grows past N, however
    many products they touched, and no global sort is needed. Ties go to the smaller id.
    """
    index = index if index is not None else product_index(scores)
    positive = scores.where(F.col("score") > 0).join(F.broadcast(index), "product_id")
    best = F.max_by(
        F.struct(F.col("idx"), F.col("score").alias("w")),
        F.struct(F.col("score"), (-F.col("idx")).alias("tie")),
        settings.max_items_per_user,
    )
    return positive.groupBy("user_id").agg(F.array_sort(best).alias("items"))


def pair_counts(user_items: DataFrame, settings: NeighbourSettings) -> dict:
    """How many pairs the bounded items make, and the bound they obey (one small aggregate)."""
    n = F.size("items")
    row = user_items.agg(
        F.count(F.lit(1)).alias("users"),
        F.coalesce(F.sum(n), F.lit(0)).alias("rows"),
        F.coalesce(F.sum(n * (n - 1) / 2), F.lit(0)).cast("bigint").alias("pairs"),
        F.coalesce(F.max(n), F.lit(0)).alias("max_items"),
    ).first()
    if row is None:  # a global aggregate has one row, even over no input
        raise RuntimeError("pair_counts: the aggregate of user_items returned no row")
    cap = settings.max_items_per_user
    return {
        "users": int(row["users"]),
        "user_items_kept": int(row["rows"]),
        "max_items_of_a_user": int(row["max_items"]),
        "candidate_pairs": int(row["pairs"]),
        # sum_u n_u(n_u-1)/2 <= (N-1)/2 * sum_u n_u
        "pair_bound": int(row["rows"]) * (cap - 1) // 2,
    }


def neighbours_from_items(user_items: DataFrame, index: DataFrame, settings: NeighbourSettings) -> DataFrame:
    """Top-K neighbours of every product from bounded user items (see `user_top_items`)."""
    # Each unordered pair once: an item with every later item of the same (idx-sorted) list.
    pairs = (
        user_items.select(F.posexplode("items").alias("p", "a"), "items")
        .select("a", F.explode(F.slice("items", F.col("p") + 2, settings.max_items_per_user)).alias("b"))
        .groupBy(F.col("a.idx").alias("i"), F.col("b.idx").alias("j"))
        .agg(F.sum(F.col("a.w") * F.col("b.w")).alias("dot"), F.count(F.lit(1)).alias("co_users"))
        .where(F.col("co_users") >= settings.min_co_users)
    )
    norms = (
        user_items.select(F.explode("items").alias("x"))
        .groupBy(F.col("x.idx").alias("idx"))
        .agg(F.sqrt(F.sum(F.col("x.w") * F.col("x.w"))).alias("norm"))
    )
    ni = norms.select(F.col("idx").alias("i"), F.col("norm").alias("ni"))
    nj = norms.select(F.col("idx").alias("j"), F.col("norm").alias("nj"))
    shrink = F.col("co_users") / (F.col("co_users") + F.lit(settings.shrinkage))
    sims = (
        pairs.join(F.broadcast(ni), "i").join(F.broadcast(nj), "j")
        .select("i", "j", "co_users", (F.col("dot") / (F.col("ni") * F.col("nj")) * shrink).alias("score"))
    )
    both = sims.unionByName(sims.select(F.col("j").alias("i"), F.col("i").alias("j"), "co_users", "score"))
    # A bounded top-K aggregate per product, best first (ties: more co-users, then the smaller id).
    top = both.groupBy("i").agg(
        F.max_by(
            F.struct("j", "co_users", "score"),
            F.struct(F.col("score"), F.col("co_users"), (-F.col("j")).alias("tie")),
            settings.top_k,
        ).alias("best")
    ).select("i", F.posexplode("best").alias("p", "n"))
    pid = index.select(F.col("idx").alias("i"), F.col("product_id"))
    nid = index.select(F.col("idx").alias("j"), F.col("product_id").alias("neighbour_id"))
    return (
        top.select("i", F.col("n.j").alias("j"), (F.col("p") + 1).cast("int").alias("rank"),
                   F.col("n.score").alias("score"), F.col("n.co_users").cast("bigint").alias("co_users"))
        .join(F.broadcast(pid), "i").join(F.broadcast(nid), "j")
        .select(*CURATED_ITEM_NEIGHBOURS.column_names)
    )


def item_neighbours(scores: DataFrame, settings: NeighbourSettings) -> DataFrame:
    """Top-K related products per product from a window's interaction scores."""
    index = product_index(scores)
    return neighbours_from_items(user_top_items(scores, settings, index), index, settings)
