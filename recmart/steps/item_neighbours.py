"""item_neighbours[D]: each product's top-K related products from the day's interaction scores.

Item-to-item co-interaction, cosine-normalised:

    sim(i, j) = sum_u s(u,i) * s(u,j) / (|s(., i)| * |s(., j)|)  *  co(i,j) / (co(i,j) + shrinkage)

where s(u,i) is the user's (time-decayed, positive) interaction score for product i from
`interaction_scores` (whose day already covers the trailing window), |s(., i)| the product's
norm over the users whose lists hold it and co(i,j) the number of users who interacted with
both. Dividing by the norms damps popularity: a best-seller co-occurs with everything, but
its norm is large too, so it is related only to what its own users favour. The shrinkage
term discounts pairs seen through very few users; pairs seen through fewer than
`min_co_users` users are dropped.

Bounded cost: each user contributes only their `max_items_per_user` (N) best products by
score (ties to the smaller product id), so a user yields at most N(N-1)/2 unordered pairs and
the number of pairs is at most (N-1)/2 times the number of kept (user, product) rows: linear
in the events however heavy the heaviest users. Each unordered pair is generated once
(i < j) within a user's list and mirrored after aggregation. Every product keeps its `top_k`
neighbours, best first (ties: more co-users, then the smaller id), ranked from 1.

The same definitions as the PySpark transform `recmart.transforms.neighbours` (bounded
`max_by` aggregates there, `row_number()` windows here); the parity suite compares them.
"""

from __future__ import annotations

from dataclasses import dataclass

from recmart.engine.portable import Transform
from recmart.steps.step import Input, Step, register
from recmart.tables import CURATED_INTERACTION_SCORES, CURATED_ITEM_NEIGHBOURS


@dataclass(frozen=True)
class NeighbourSettings:
    top_k: int = 50  # neighbours kept per product
    max_items_per_user: int = 50  # N: a user's best N products take part; pairs per user <= N(N-1)/2
    # sim x co_users / (co_users + shrinkage): higher raises hit rate and lowers catalogue
    # coverage; 20 keeps most of the gain (bench/features/RESULTS.md, "Neighbour shrinkage").
    shrinkage: float = 20.0
    min_co_users: int = 1

    def __post_init__(self) -> None:
        if self.top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {self.top_k}")
        if self.max_items_per_user < 2:
            raise ValueError(f"max_items_per_user must be at least 2 (a pair), got {self.max_items_per_user}")
        if self.shrinkage < 0:
            raise ValueError(f"shrinkage cannot be negative, got {self.shrinkage}")
        if self.min_co_users < 1:
            raise ValueError(f"min_co_users must be at least 1, got {self.min_co_users}")


TRANSFORM = Transform(
    name="item_neighbours",
    outputs=("item_neighbours",),
    params=("top_k", "max_items_per_user", "shrinkage", "min_co_users"),
    statements={
        # Each user's best N products with a positive score (ties: the smaller id).
        "user_items": """
            SELECT user_id, product_id, w FROM (
                SELECT user_id, product_id, score AS w,
                       row_number() OVER (PARTITION BY user_id ORDER BY score DESC, product_id) AS r
                FROM interaction_scores
                WHERE score > 0
            ) s
            WHERE r <= :max_items_per_user""",
        # Each unordered pair of a user's list once (i < j): at most N(N-1)/2 rows per user.
        "pairs": """
            SELECT a.product_id AS i, b.product_id AS j, sum(a.w * b.w) AS dot, count(*) AS co_users
            FROM user_items a JOIN user_items b ON a.user_id = b.user_id AND a.product_id < b.product_id
            GROUP BY a.product_id, b.product_id
            HAVING count(*) >= :min_co_users""",
        "norms": """
            SELECT product_id, sqrt(sum(w * w)) AS norm FROM user_items GROUP BY product_id""",
        "similarities": """
            SELECT p.i, p.j, p.co_users,
                   p.dot / (ni.norm * nj.norm) * (p.co_users / (p.co_users + :shrinkage)) AS score
            FROM pairs p
            JOIN norms ni ON p.i = ni.product_id
            JOIN norms nj ON p.j = nj.product_id""",
        # Both directions of each pair; every product's best top_k (ties: more co-users, smaller id).
        "item_neighbours": """
            SELECT product_id, neighbour_id, rank, score, co_users FROM (
                SELECT product_id, neighbour_id, score, co_users,
                       row_number() OVER (PARTITION BY product_id
                                          ORDER BY score DESC, co_users DESC, neighbour_id) AS rank
                FROM (SELECT i AS product_id, j AS neighbour_id, score, co_users FROM similarities
                      UNION ALL
                      SELECT j AS product_id, i AS neighbour_id, score, co_users FROM similarities) b
            ) r
            WHERE rank <= :top_k""",
    },
)

STEP = register(
    Step(
        name="item_neighbours",
        transform=TRANSFORM,
        # The scores of D already cover the trailing window, so the neighbours of D need only them.
        inputs={"interaction_scores": Input(CURATED_INTERACTION_SCORES)},
        outputs={"item_neighbours": CURATED_ITEM_NEIGHBOURS},
        settings=NeighbourSettings,
        doc=__doc__,
        # The pair counts are those of the PySpark job, from the step's input (a user keeps
        # min(positive products, N) products): both engines keep the input relations until the
        # metrics have run, and intermediate statements are not for metrics to read.
        metrics={
            "pairs": """
                SELECT count(*) AS users, coalesce(sum(n), 0) AS user_items_kept,
                       coalesce(max(n), 0) AS max_items_of_a_user,
                       coalesce(sum(n * (n - 1) DIV 2), 0) AS candidate_pairs,
                       coalesce(sum(n), 0) * (:max_items_per_user - 1) DIV 2 AS pair_bound
                FROM (SELECT least(count(*), :max_items_per_user) AS n
                      FROM interaction_scores WHERE score > 0 GROUP BY user_id) u""",
            "products": "SELECT count(DISTINCT product_id) AS products_with_scores FROM interaction_scores",
            "neighbours": """
                SELECT count(DISTINCT product_id) AS products_with_neighbours,
                       coalesce(max(rank), 0) AS max_neighbours_of_a_product
                FROM item_neighbours""",
        },
    )
)
