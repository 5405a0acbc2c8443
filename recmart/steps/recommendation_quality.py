"""recommendation_quality[D]: offline quality of the recommenders, trained on days up to D-1,
judged on day D.

Judged users are those who interacted with a product on D and had interaction scores on
D-1 (a history to recommend from); users new on D are counted as `cold_users` and not
judged. Each recommender gives every judged user up to 20 products, never one the user
bought in the score window (the serving rule); a *hit* is a recommended product the user
interacted with on D.

- item_neighbours: the user's best `seed_items` products of D-1 by score are the seeds; a
  candidate scores sum(seed score x neighbour score) over the item_neighbours of D-1 (what
  the real-time path does with recent clicks).
- trending: the trending products of D-1 (scope 'all'), the same list for everyone.
- popularity: the products with the most users in the interaction scores of D-1.

Lists are best first, ties to the smaller product id; a global list (trending, popularity)
is cut at 20 + `global_list_slack` before each user's purchases are removed.

Reading the report (one row per recommender and day):
- hr_at_10 / hr_at_20: share of judged users with at least one hit in their top 10 / 20.
- mrr_at_20: mean of 1 / rank of the first hit (0 without one); rewards hits near the top.
- coverage: share of the catalogue (the newest snapshot up to D-1) recommended to anyone:
  popularity and trending are near 0 by construction; neighbours should reach far more of
  the catalogue.
- avg_list_length: neighbours can give fewer than 20 products to a user whose seeds have few
  neighbours; a falling value means the neighbour table is thinning.
The rates are null on a day without judged users, coverage without a catalogue.
The neighbours should beat popularity on hr_at_20 while covering much more of the catalogue.
When they stop beating it (the non-blocking check warns), suspect the neighbours' inputs
(a short or broken score window, few co-interactions) before the users' tastes.

The same definitions as the PySpark transform `recmart.transforms.quality`; the parity
suite compares them.
"""

from __future__ import annotations

from dataclasses import dataclass

from recmart.engine.portable import Transform
from recmart.steps.step import CATALOGUE_LOOKBACK_DAYS, Input, Step, register
from recmart.tables import (
    INTERACTION_MATRIX, INTERACTION_SCORES, ITEM_NEIGHBOURS, RAW_PRODUCTS, RECOMMENDATION_QUALITY, TRENDING_PRODUCTS,
)

LIST_LENGTH = 20
RECOMMENDERS = ("item_neighbours", "trending", "popularity")
# The report's figures a materialisation carries per recommender (`<recommender>/<figure>`).
METRIC_FIGURES = ("users", "cold_users", "hr_at_10", "hr_at_20", "mrr_at_20", "coverage", "avg_list_length")


@dataclass(frozen=True)
class QualitySettings:
    seed_items: int = 20  # a user's best products of D-1 that seed the neighbour recommender
    # A global list is cut at 20 + this many before each user's purchases are removed.
    global_list_slack: int = 40


def _global(ranked: str) -> str:
    """Every judged user with the same list (product_id, rec_score) of `ranked`, cut at 20 + slack."""
    return f"""
                SELECT u.user_id, g.product_id, g.rec_score
                FROM users u CROSS JOIN (
                    SELECT product_id, rec_score FROM (
                        SELECT product_id, rec_score,
                               row_number() OVER (ORDER BY rec_score DESC, product_id) AS r
                        FROM ({ranked}) x
                    ) y
                    WHERE r <= {LIST_LENGTH} + :global_list_slack
                ) g"""


_RECOMMENDERS_SQL = " UNION ALL ".join(f"SELECT '{r}' AS recommender" for r in RECOMMENDERS)

TRANSFORM = Transform(
    name="recommendation_quality",
    outputs=("recommendation_quality",),
    params=("seed_items", "global_list_slack"),
    statements={
        "targets": "SELECT DISTINCT user_id, product_id FROM interaction_matrix",
        # Active on D with a history on D-1.
        "users": """
            SELECT DISTINCT user_id FROM targets
            WHERE user_id IN (SELECT user_id FROM interaction_scores)""",
        # Counted as rows of distinct values (a NULL is a value, as PySpark's distinct() counts).
        "counts": """
            SELECT u.users, a.active - u.users AS cold_users, c.catalogue_products
            FROM (SELECT count(*) AS users FROM users) u
            CROSS JOIN (SELECT count(*) AS active FROM (SELECT DISTINCT user_id FROM targets) t) a
            CROSS JOIN (SELECT count(*) AS catalogue_products
                        FROM (SELECT DISTINCT product_id FROM catalogue) p) c""",
        "bought": "SELECT DISTINCT user_id, product_id FROM interaction_scores WHERE purchases > 0",
        "seeds": """
            SELECT user_id, product_id AS seed, score AS seed_score FROM (
                SELECT user_id, product_id, score,
                       row_number() OVER (PARTITION BY user_id ORDER BY score DESC, product_id) AS r
                FROM interaction_scores
                WHERE score > 0 AND user_id IN (SELECT user_id FROM users)
            ) s
            WHERE r <= :seed_items""",
        "candidates": f"""
            SELECT 'item_neighbours' AS recommender, s.user_id, n.neighbour_id AS product_id,
                   sum(s.seed_score * n.score) AS rec_score
            FROM seeds s JOIN item_neighbours n ON s.seed = n.product_id
            GROUP BY s.user_id, n.neighbour_id
            UNION ALL
            SELECT 'trending' AS recommender, user_id, product_id, rec_score FROM ({_global(
                "SELECT product_id, cast(-rank AS double) AS rec_score FROM trending_products WHERE scope = 'all'"
            )}) t
            UNION ALL
            SELECT 'popularity' AS recommender, user_id, product_id, rec_score FROM ({_global(
                "SELECT product_id, cast(count(DISTINCT user_id) AS double) AS rec_score "
                "FROM interaction_scores WHERE score > 0 GROUP BY product_id"
            )}) p""",
        # Each user's list: purchases removed, best first, at most LIST_LENGTH.
        "lists": f"""
            SELECT recommender, user_id, product_id, rank FROM (
                SELECT c.recommender, c.user_id, c.product_id,
                       row_number() OVER (PARTITION BY c.recommender, c.user_id
                                          ORDER BY c.rec_score DESC, c.product_id) AS rank
                FROM candidates c
                LEFT JOIN bought b ON c.user_id = b.user_id AND c.product_id = b.product_id
                WHERE b.user_id IS NULL
            ) r
            WHERE rank <= {LIST_LENGTH}""",
        "first_hits": """
            SELECT l.recommender, l.user_id, min(l.rank) AS first_rank
            FROM lists l JOIN targets t ON l.user_id = t.user_id AND l.product_id = t.product_id
            GROUP BY l.recommender, l.user_id""",
        "hit_counts": """
            SELECT recommender, count(CASE WHEN first_rank <= 10 THEN 1 END) AS h10,
                   count(CASE WHEN first_rank <= 20 THEN 1 END) AS h20,
                   sum(1 / first_rank) AS rr
            FROM first_hits GROUP BY recommender""",
        "list_counts": """
            SELECT recommender, count(*) AS n, count(DISTINCT product_id) AS products
            FROM lists GROUP BY recommender""",
        # Rates per judged user (null without one), coverage of the catalogue (null without one).
        "recommendation_quality": f"""
            SELECT r.recommender, c.users, c.cold_users,
                   coalesce(h.h10, 0) AS hits_at_10, coalesce(h.h20, 0) AS hits_at_20,
                   CASE WHEN c.users > 0 THEN coalesce(h.h10, 0) / c.users END AS hr_at_10,
                   CASE WHEN c.users > 0 THEN coalesce(h.h20, 0) / c.users END AS hr_at_20,
                   CASE WHEN c.users > 0 THEN coalesce(h.rr, cast(0 AS double)) / c.users END AS mrr_at_20,
                   CASE WHEN c.users > 0 THEN coalesce(l.n, 0) / c.users END AS avg_list_length,
                   coalesce(l.products, 0) AS recommended_products,
                   c.catalogue_products,
                   CASE WHEN c.catalogue_products > 0
                        THEN coalesce(l.products, 0) / c.catalogue_products END AS coverage
            FROM ({_RECOMMENDERS_SQL}) r
            CROSS JOIN counts c
            LEFT JOIN hit_counts h ON r.recommender = h.recommender
            LEFT JOIN list_counts l ON r.recommender = l.recommender""",
    },
)

# What was known the day before: D-1's scores, neighbours and trends, and the catalogue
# snapshot of D-1 (or the newest of the days before it).
_DAY_BEFORE = -1

STEP = register(
    Step(
        name="recommendation_quality",
        transform=TRANSFORM,
        inputs={
            "interaction_matrix": Input(INTERACTION_MATRIX),  # the day judged
            "interaction_scores": Input(INTERACTION_SCORES, end_offset=_DAY_BEFORE),
            "item_neighbours": Input(ITEM_NEIGHBOURS, end_offset=_DAY_BEFORE),
            "trending_products": Input(TRENDING_PRODUCTS, end_offset=_DAY_BEFORE),
            "catalogue": Input(RAW_PRODUCTS, days=CATALOGUE_LOOKBACK_DAYS + 1, end_offset=_DAY_BEFORE,
                               asset="raw_products", newest_only=True),
        },
        outputs={"recommendation_quality": RECOMMENDATION_QUALITY},
        settings=QualitySettings,
        doc=__doc__,
        # Per recommender, the figures the materialisation plots (one row each: always three).
        metrics={
            r: f"""
                SELECT {", ".join(METRIC_FIGURES)} FROM recommendation_quality WHERE recommender = '{r}'"""
            for r in RECOMMENDERS
        },
    )
)
