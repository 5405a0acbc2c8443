"""interaction_matrix[D]: cleaned events + the day's transactions -> one row per (user, product)."""

from recmart.engine.portable import Transform
from recmart.steps.step import Input, Step, register
from recmart.tables import CURATED_CLEANED_EVENTS, CURATED_INTERACTION_MATRIX, RAW_TRANSACTIONS

# Counts come from distinct events (cleaning made event_id unique); purchases are distinct
# orders of any status but `cancelled`, units and revenue their items. A conditional count
# per event type, not a pivot: one pass.
TRANSFORM = Transform(
    name="interaction_matrix",
    outputs=("interaction_matrix",),
    statements={
        "clicks": """
            SELECT user_id, product_id,
                   count(CASE WHEN event_type = 'view' THEN 1 END) AS views,
                   count(CASE WHEN event_type = 'add_to_cart' THEN 1 END) AS add_to_carts,
                   count(CASE WHEN event_type = 'remove_from_cart' THEN 1 END) AS remove_from_carts,
                   min(event_time) AS first_click, max(event_time) AS last_click
            FROM cleaned_events
            WHERE user_id IS NOT NULL
            GROUP BY user_id, product_id""",
        "bought": """
            SELECT user_id, product_id,
                   count(DISTINCT order_id) AS purchases,
                   cast(sum(quantity) AS bigint) AS units,
                   cast(sum(quantity * unit_price) AS decimal(18, 2)) AS revenue,
                   min(created_at) AS first_order, max(created_at) AS last_order
            FROM transactions
            WHERE status <> 'cancelled' AND user_id IS NOT NULL AND product_id IS NOT NULL
            GROUP BY user_id, product_id""",
        # The keys are coalesced by hand: a full outer join's USING keys are not portable.
        "interaction_matrix": """
            SELECT coalesce(c.user_id, b.user_id) AS user_id,
                   coalesce(c.product_id, b.product_id) AS product_id,
                   coalesce(c.views, 0) AS views,
                   coalesce(c.add_to_carts, 0) AS add_to_carts,
                   coalesce(c.remove_from_carts, 0) AS remove_from_carts,
                   coalesce(b.purchases, 0) AS purchases,
                   coalesce(b.units, 0) AS units,
                   coalesce(b.revenue, cast(0 AS decimal(18, 2))) AS revenue,
                   least(c.first_click, b.first_order) AS first_event_time,
                   greatest(c.last_click, b.last_order) AS last_event_time
            FROM clicks c
            FULL OUTER JOIN bought b ON c.user_id = b.user_id AND c.product_id = b.product_id""",
    },
)

STEP = register(
    Step(
        name="interaction_matrix",
        transform=TRANSFORM,
        inputs={"cleaned_events": Input(CURATED_CLEANED_EVENTS), "transactions": Input(RAW_TRANSACTIONS)},
        outputs={"interaction_matrix": CURATED_INTERACTION_MATRIX},
        doc=CURATED_INTERACTION_MATRIX.doc,
        metrics={
            "totals": """
                SELECT count(*) AS rows, coalesce(sum(views), 0) AS views,
                       coalesce(sum(add_to_carts), 0) AS add_to_carts,
                       coalesce(sum(remove_from_carts), 0) AS remove_from_carts,
                       coalesce(sum(purchases), 0) AS purchases, coalesce(sum(units), 0) AS units,
                       count(DISTINCT user_id) AS users, count(DISTINCT product_id) AS products
                FROM interaction_matrix""",
        },
    )
)
