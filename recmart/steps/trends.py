"""trending_products[D] and fashion_trends[D]: what rises against its own trailing baseline.

For each product (or catalogue attribute value) and day D:

    x        = weighted interactions on D        (views x 1 + add-to-carts x 4 + purchases x 10)
    baseline = mean daily weighted interactions over the `baseline_days` days before D
               (over the days of that range that have a matrix, so a young store is not
               compared with days it never had)
    trend    = (x + prior) / (baseline + prior)

The prior pulls small counts towards 1 (flat), so a product going from 0 to 2 views does not
outrank one going from 200 to 400. Trending products are those with x > baseline, best
first, overall (scope 'all') and per master category (scope 'master_category=<value>');
fashion trends rank every attribute value with interactions on D or in its baseline, rising
first, so a falling value is visible too. Removals from the cart are left out: they say less
interest, not a trend.
"""

from recmart.engine.portable import Transform
from recmart.steps.step import Input, Step, catalogue_input, register
from recmart.tables import (
    CURATED_FASHION_TRENDS,
    CURATED_INTERACTION_MATRIX,
    CURATED_TRENDING_PRODUCTS,
)
from recmart.transforms.trends import FASHION_ATTRIBUTES, TrendSettings

_SCOPED = """SELECT 'all' AS scope, {cols} FROM {rel}
            UNION ALL
            SELECT concat('master_category=', master_category) AS scope, {cols} FROM {rel}
            WHERE master_category IS NOT NULL"""

_ATTRIBUTES = "\n            UNION ALL ".join(
    f"SELECT product_id, master_category, '{a}' AS attribute, {a} AS value FROM catalogue WHERE {a} IS NOT NULL"
    for a in FASHION_ATTRIBUTES
)

TRANSFORM = Transform(
    name="trends",
    outputs=("trending_products", "fashion_trends"),
    params=("day", "baseline_days", "prior", "attribute_prior", "top_n", "view_weight", "add_to_cart_weight",
            "purchase_weight"),
    statements={
        "weights": """
            SELECT product_id, event_date = :day AS on_day,
                   cast(views * :view_weight + add_to_carts * :add_to_cart_weight
                        + purchases * :purchase_weight AS double) AS w
            FROM interaction_matrix
            WHERE datediff(:day, event_date) >= 0 AND datediff(:day, event_date) <= :baseline_days""",
        # Days of the baseline range that have any matrix row: the mean's denominator.
        "baseline_days_present": """
            SELECT greatest(count(DISTINCT event_date), 1) AS n FROM interaction_matrix
            WHERE datediff(:day, event_date) >= 1 AND datediff(:day, event_date) <= :baseline_days""",
        # Totals, not means, are summed upwards (attribute values): exact for whole weights.
        "product_trends": """
            SELECT p.product_id, p.x, p.baseline_total, n.n, p.baseline_total / n.n AS baseline,
                   (p.x + :prior) / (p.baseline_total / n.n + :prior) AS trend_score
            FROM (SELECT product_id, sum(CASE WHEN on_day THEN w ELSE 0.0 END) AS x,
                         sum(CASE WHEN on_day THEN 0.0 ELSE w END) AS baseline_total
                  FROM weights GROUP BY product_id) p
            CROSS JOIN baseline_days_present n""",
        "rising": """
            SELECT t.product_id, t.x AS weighted_interactions, t.baseline, t.trend_score, c.master_category
            FROM product_trends t LEFT JOIN catalogue c ON t.product_id = c.product_id
            WHERE t.x > t.baseline""",
        "trending_products": f"""
            SELECT * FROM (
                SELECT scope, product_id,
                       row_number() OVER (PARTITION BY scope ORDER BY trend_score DESC,
                                          weighted_interactions DESC, product_id) AS rank,
                       trend_score, weighted_interactions, baseline
                FROM ({_SCOPED.format(cols="product_id, weighted_interactions, baseline, trend_score",
                                      rel="rising")}) s
            ) r
            WHERE rank <= :top_n""",
        "attribute_trends": f"""
            SELECT a.product_id, a.master_category, a.attribute, a.value, t.x, t.baseline_total, t.n
            FROM ({_ATTRIBUTES}) a JOIN product_trends t ON a.product_id = t.product_id""",
        "fashion_trends": f"""
            SELECT scope, attribute, value,
                   row_number() OVER (PARTITION BY scope, attribute ORDER BY trend_score DESC,
                                      weighted_interactions DESC, value) AS rank,
                   trend_score, weighted_interactions, baseline, products
            FROM (
                SELECT scope, attribute, value, sum(x) AS weighted_interactions,
                       sum(baseline_total) / max(n) AS baseline,
                       (sum(x) + :attribute_prior) / (sum(baseline_total) / max(n) + :attribute_prior) AS trend_score,
                       count(CASE WHEN x > 0 THEN 1 END) AS products
                FROM ({_SCOPED.format(cols="attribute, value, x, baseline_total, n", rel="attribute_trends")}) s
                GROUP BY scope, attribute, value
            ) v""",
    },
)

STEP = register(
    Step(
        name="trends",
        transform=TRANSFORM,
        inputs={
            "interaction_matrix": Input(CURATED_INTERACTION_MATRIX, days="baseline_days", plus_days=1),
            "catalogue": catalogue_input(),
        },
        outputs={"trending_products": CURATED_TRENDING_PRODUCTS, "fashion_trends": CURATED_FASHION_TRENDS},
        settings=TrendSettings,
        doc=__doc__,
        metrics={
            "scopes": "SELECT count(DISTINCT scope) AS category_scopes FROM trending_products WHERE scope <> 'all'",
        },
    )
)
