"""daily_sales[D]: the day's transactions + catalogue -> sales by dimension, for marketing.

One row per (dimension, value): dimension `all` (value `all`) and each of master_category,
article_type, gender and base_colour. Figures count the items of orders that are not
cancelled (orders without items are not sales); `cancelled_orders` counts the cancelled
ones. A product missing from the catalogue counts under value `unknown`, so every
dimension's revenue and units add up to those of `all`, exactly.
"""

from recmart.engine.portable import Transform
from recmart.steps.step import Input, Step, catalogue_input, register
from recmart.tables import CURATED_DAILY_SALES, RAW_TRANSACTIONS

DIMENSIONS = ("master_category", "article_type", "gender", "base_colour")

_BY_DIMENSION = "\n            UNION ALL ".join(
    ["SELECT 'all' AS dimension, 'all' AS value, * FROM items"]
    + [f"SELECT '{d}' AS dimension, coalesce({d}, 'unknown') AS value, * FROM items" for d in DIMENSIONS]
)

TRANSFORM = Transform(
    name="daily_sales",
    outputs=("daily_sales",),
    statements={
        "items": f"""
            SELECT t.order_id, t.user_id, t.product_id, t.quantity, t.unit_price,
                   t.status = 'cancelled' AS cancelled, {", ".join(f"c.{d}" for d in DIMENSIONS)}
            FROM transactions t LEFT JOIN catalogue c ON t.product_id = c.product_id
            WHERE t.product_id IS NOT NULL""",
        "figures": f"""
            SELECT dimension, value,
                   count(DISTINCT CASE WHEN NOT cancelled THEN order_id END) AS orders,
                   coalesce(sum(CASE WHEN NOT cancelled THEN quantity END), 0) AS units,
                   coalesce(sum(CASE WHEN NOT cancelled THEN quantity * unit_price END),
                            cast(0 AS decimal(18, 2))) AS revenue,
                   count(DISTINCT CASE WHEN NOT cancelled THEN user_id END) AS buyers,
                   count(DISTINCT CASE WHEN NOT cancelled AND user_id IS NULL THEN order_id END) AS guest_orders,
                   count(DISTINCT CASE WHEN NOT cancelled THEN product_id END) AS products,
                   count(DISTINCT CASE WHEN cancelled THEN order_id END) AS cancelled_orders
            FROM ({_BY_DIMENSION}) d
            GROUP BY dimension, value""",
        # The average basket in whole cents, rounded half up with integer arithmetic: a decimal
        # divided by an integer is a double in DuckDB and a decimal in Spark.
        "daily_sales": """
            SELECT dimension, value, orders, units, revenue, buyers, guest_orders, products, cancelled_orders,
                   CASE WHEN orders > 0 THEN
                        cast((cast(revenue * 100 AS bigint) * 2 + orders) DIV (2 * orders) AS decimal(18, 2)) / 100
                   END AS avg_basket
            FROM figures""",
    },
)

STEP = register(
    Step(
        name="daily_sales",
        transform=TRANSFORM,
        inputs={
            "transactions": Input(RAW_TRANSACTIONS),
            "catalogue": catalogue_input(),
        },
        outputs={"daily_sales": CURATED_DAILY_SALES},
        doc=CURATED_DAILY_SALES.doc,
        metrics={
            "headline": """
                SELECT coalesce(max(orders), 0) AS orders, coalesce(max(units), 0) AS units,
                       coalesce(max(cast(revenue AS double)), 0.0) AS revenue, coalesce(max(buyers), 0) AS buyers,
                       coalesce(max(cast(avg_basket AS double)), 0.0) AS avg_basket,
                       coalesce(max(cancelled_orders), 0) AS cancelled_orders
                FROM daily_sales WHERE dimension = 'all'""",
        },
    )
)
