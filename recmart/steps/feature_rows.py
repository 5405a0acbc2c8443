"""user_features[D], item_features[D], interaction_features[D]: the feature-store rows of day D.

Point in time: a row of day D uses only the interaction matrices of days D-29..D (rows of
other days are ignored, so an engine may pass more), the interaction scores of D and the
newest catalogue snapshot of a day up to D; its `event_time` is D+1 00:00 UTC, the first
instant at which all of that is known. Horizons count whole UTC days ending with D: `_1d`
is D itself, `_7d` D-6..D, `_30d` D-29..D. Every count is a sum of interaction-matrix
counts, so each reconciles with the matrices exactly (the asset checks do that).

- user_features: one row per user of the window; favourites are the catalogue values
  (master category, article type, base colour) with the most weighted interactions over
  the window, ties to the smallest value (byte order), null when none weighs more than 0.
- item_features: one row per product of the catalogue snapshot or of the window; the
  trend score is that of `recmart.steps.trends` (the day against the mean of the baseline
  days present), 1 without interactions on the day or in its baseline.
- interaction_features: one row per (user, product) of the window, with the pair's score
  of the day and its rank among the user's scores (ties to the smaller product id).

The PySpark transform this replaces (`recmart.transforms.feature_rows`) is kept as the parity
reference; it takes its constants from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from recmart.engine.portable import Transform
from recmart.steps.step import Input, Step, catalogue_input, register
from recmart.tables import (
    CURATED_INTERACTION_MATRIX,
    CURATED_INTERACTION_SCORES,
    FEATURES_INTERACTIONS,
    FEATURES_ITEMS,
    FEATURES_USERS,
)

WINDOW_DAYS = 30
HORIZONS = (1, 7, 30)
CATALOGUE_ATTRIBUTES = (
    "gender", "master_category", "sub_category", "article_type", "base_colour", "season", "year", "usage", "price",
)
FAVOURITES = {"master_category": "favourite_master_category", "article_type": "favourite_article_type",
              "base_colour": "favourite_colour"}


@dataclass(frozen=True)
class FeatureSettings:
    """The trend score's settings and the interaction weights (the trend score's and the
    favourites'). The defaults are `recmart.transforms.trends.TrendSettings`'s (a test holds
    them equal; that module imports pyspark, this one does not)."""

    baseline_days: int = 7
    prior: float = 10.0
    view_weight: float = 1.0
    add_to_cart_weight: float = 4.0
    purchase_weight: float = 10.0

    def __post_init__(self) -> None:
        if not 1 <= self.baseline_days < WINDOW_DAYS:
            raise ValueError(f"baseline_days must be 1..{WINDOW_DAYS - 1} (within the window), got {self.baseline_days}")
        if self.prior <= 0:
            raise ValueError("the prior must be positive (it keeps tiny counts off the top)")
        if min(self.view_weight, self.add_to_cart_weight, self.purchase_weight) < 0:
            raise ValueError("interaction weights cannot be negative")


# D+1 00:00 UTC (the engines run with the session time zone UTC).
_EVENT_TIME = "cast(:day AS timestamp) + INTERVAL 1 DAY"


def _sums(cols: tuple[str, ...]) -> str:
    """`<col>_<h>d` for each horizon: the sum over the rows of the last h days, 0 without any."""
    return ",\n                   ".join(
        f"coalesce(sum(CASE WHEN age < {h} THEN {c} END), 0) AS {c}_{h}d" for c in cols for h in HORIZONS
    )


def _distinct(col: str, alias: str) -> str:
    return ",\n                   ".join(
        f"count(DISTINCT CASE WHEN age < {h} THEN {col} END) AS {alias}_{h}d" for h in HORIZONS
    )


_FAVOURITE_VALUES = "\n                  UNION ALL ".join(
    f"SELECT product_id, '{a}' AS attribute, {a} AS value FROM catalogue_of_day WHERE {a} IS NOT NULL"
    for a in FAVOURITES
)
_ITEM_COUNTS = [f"{c}_{h}d" for c in ("views", "add_to_carts", "purchases", "users") for h in HORIZONS] + ["units_30d"]

TRANSFORM = Transform(
    name="feature_rows",
    outputs=("user_features", "item_features", "interaction_features"),
    params=("day", "baseline_days", "prior", "view_weight", "add_to_cart_weight", "purchase_weight"),
    statements={
        # The window's matrix rows with their age in days (0 = D) and weighted interactions;
        # every output reads them.
        "recent": f"""
            SELECT user_id, product_id, views, add_to_carts, remove_from_carts, purchases, units, revenue,
                   last_event_time, event_date, datediff(:day, event_date) AS age,
                   cast(views * :view_weight + add_to_carts * :add_to_cart_weight
                        + purchases * :purchase_weight AS double) AS w
            FROM interaction_matrix
            WHERE datediff(:day, event_date) >= 0 AND datediff(:day, event_date) < {WINDOW_DAYS}""",
        # The newest snapshot up to D (the engine is normally given that one only).
        "catalogue_of_day": f"""
            SELECT product_id, {", ".join(CATALOGUE_ATTRIBUTES)}
            FROM catalogue
            WHERE event_date = (SELECT max(event_date) FROM catalogue WHERE datediff(:day, event_date) >= 0)""",
        # Per user and favourite attribute, the value with the most weight; ties to the smallest.
        "favourites": f"""
            SELECT user_id, {", ".join(f"max(CASE WHEN attribute = '{a}' THEN value END) AS {name}"
                                       for a, name in FAVOURITES.items())}
            FROM (
                SELECT user_id, attribute, value,
                       row_number() OVER (PARTITION BY user_id, attribute ORDER BY w DESC, value) AS pick
                FROM (
                    SELECT r.user_id, a.attribute, a.value, sum(r.w) AS w
                    FROM recent r
                    JOIN ({_FAVOURITE_VALUES}) a ON r.product_id = a.product_id
                    GROUP BY r.user_id, a.attribute, a.value
                ) interest
                WHERE w > 0
            ) ranked
            WHERE pick = 1
            GROUP BY user_id""",
        "user_features": f"""
            SELECT u.user_id, {_EVENT_TIME} AS event_time,
                   {", ".join(f"u.{c}_{h}d" for c in ("views", "add_to_carts", "purchases") for h in HORIZONS)},
                   u.units_30d, u.revenue_7d, u.revenue_30d, u.distinct_products_7d, u.distinct_products_30d,
                   u.active_days_30d, {", ".join(f"f.{name}" for name in FAVOURITES.values())},
                   u.days_since_last_purchase, u.days_since_last_event, u.last_event_time
            FROM (
                SELECT user_id,
                   {_sums(("views", "add_to_carts", "purchases"))},
                   sum(units) AS units_30d,
                   coalesce(sum(CASE WHEN age < 7 THEN revenue END), cast(0 AS decimal(18, 2))) AS revenue_7d,
                   sum(revenue) AS revenue_30d,
                   count(DISTINCT CASE WHEN age < 7 THEN product_id END) AS distinct_products_7d,
                   count(DISTINCT product_id) AS distinct_products_30d,
                   count(DISTINCT event_date) AS active_days_30d,
                   min(CASE WHEN purchases > 0 THEN age END) AS days_since_last_purchase,
                   min(age) AS days_since_last_event,
                   max(last_event_time) AS last_event_time
                FROM recent
                GROUP BY user_id
            ) u
            LEFT JOIN favourites f ON u.user_id = f.user_id""",
        # Days of the baseline range that have any matrix row: the mean's denominator.
        "baseline_days_present": """
            SELECT greatest(count(DISTINCT event_date), 1) AS n FROM recent
            WHERE age >= 1 AND age <= :baseline_days""",
        "product_trends": """
            SELECT p.product_id,
                   (p.x + :prior) / (p.baseline_total / n.n + :prior) AS trend_score
            FROM (SELECT product_id, sum(CASE WHEN age = 0 THEN w ELSE 0.0 END) AS x,
                         sum(CASE WHEN age = 0 THEN 0.0 ELSE w END) AS baseline_total
                  FROM recent WHERE age <= :baseline_days GROUP BY product_id) p
            CROSS JOIN baseline_days_present n""",
        "item_features": f"""
            SELECT coalesce(i.product_id, c.product_id) AS product_id, {_EVENT_TIME} AS event_time,
                   {", ".join(f"coalesce(i.{c}, 0) AS {c}" for c in _ITEM_COUNTS)},
                   coalesce(i.revenue_30d, cast(0 AS decimal(18, 2))) AS revenue_30d,
                   CASE WHEN i.views_30d > 0 THEN i.add_to_carts_30d / i.views_30d END AS cart_rate_30d,
                   CASE WHEN i.views_30d > 0 THEN i.purchases_30d / i.views_30d END AS purchase_rate_30d,
                   CASE WHEN i.users_30d > 0 THEN i.buyers / i.users_30d END AS buyer_share_30d,
                   coalesce(t.trend_score, cast(1 AS double)) AS trend_score,
                   CASE WHEN c.product_id IS NULL THEN 0 ELSE 1 END AS in_catalogue,
                   {", ".join(f"c.{a}" for a in CATALOGUE_ATTRIBUTES)}
            FROM (
                SELECT product_id,
                   {_sums(("views", "add_to_carts", "purchases"))},
                   {_distinct("user_id", "users")},
                   sum(units) AS units_30d,
                   sum(revenue) AS revenue_30d,
                   count(DISTINCT CASE WHEN purchases > 0 THEN user_id END) AS buyers
                FROM recent
                GROUP BY product_id
            ) i
            FULL OUTER JOIN catalogue_of_day c ON i.product_id = c.product_id
            LEFT JOIN product_trends t ON coalesce(i.product_id, c.product_id) = t.product_id""",
        # The ranks are those among all the user's scores of the day.
        "scores_of_day": """
            SELECT user_id, product_id, score,
                   row_number() OVER (PARTITION BY user_id ORDER BY score DESC, product_id) AS score_rank
            FROM interaction_scores
            WHERE event_date = :day""",
        "interaction_features": f"""
            SELECT concat_ws('#', p.user_id, p.product_id) AS record_id, p.user_id, p.product_id,
                   {_EVENT_TIME} AS event_time, s.score, s.score_rank,
                   p.views_1d, p.views_7d, p.views_30d, p.add_to_carts_30d, p.remove_from_carts_30d,
                   p.purchases_30d, p.units_30d, p.revenue_30d, p.active_days_30d,
                   p.days_since_last_interaction, p.last_event_time
            FROM (
                SELECT user_id, product_id,
                   {_sums(("views",))},
                   sum(add_to_carts) AS add_to_carts_30d, sum(remove_from_carts) AS remove_from_carts_30d,
                   sum(purchases) AS purchases_30d, sum(units) AS units_30d, sum(revenue) AS revenue_30d,
                   count(DISTINCT event_date) AS active_days_30d,
                   min(age) AS days_since_last_interaction,
                   max(last_event_time) AS last_event_time
                FROM recent
                GROUP BY user_id, product_id
            ) p
            LEFT JOIN scores_of_day s ON p.user_id = s.user_id AND p.product_id = s.product_id""",
    },
)

STEP = register(
    Step(
        name="feature_rows",
        transform=TRANSFORM,
        inputs={
            "interaction_matrix": Input(CURATED_INTERACTION_MATRIX, days=WINDOW_DAYS),
            "interaction_scores": Input(CURATED_INTERACTION_SCORES),
            "catalogue": catalogue_input(),
        },
        outputs={
            "user_features": FEATURES_USERS,
            "item_features": FEATURES_ITEMS,
            "interaction_features": FEATURES_INTERACTIONS,
        },
        settings=FeatureSettings,
        doc=__doc__,
    )
)
