"""interaction_scores[D]: time-decayed implicit-feedback scores over the trailing window.

score = sum over the window's days d of weight(d) * 0.5 ** ((D - d) / half_life_days).
"""

from recmart.engine.portable import Transform
from recmart.steps.step import Input, Step, register
from recmart.tables import CURATED_INTERACTION_MATRIX, CURATED_INTERACTION_SCORES
from recmart.transforms.scores import ScoreSettings

TRANSFORM = Transform(
    name="interaction_scores",
    outputs=("interaction_scores",),
    params=("day", "window_days", "half_life_days", "view_weight", "add_to_cart_weight",
            "remove_from_cart_weight", "purchase_weight"),
    statements={
        # Rows outside (D - window_days, D] are ignored, so the engine may pass more days.
        "interaction_scores": """
            SELECT user_id, product_id,
                   sum((views * :view_weight + add_to_carts * :add_to_cart_weight
                        + remove_from_carts * :remove_from_cart_weight + purchases * :purchase_weight)
                       * pow(0.5, datediff(:day, event_date) / :half_life_days)) AS score,
                   sum(views) AS views, sum(add_to_carts) AS add_to_carts,
                   sum(remove_from_carts) AS remove_from_carts, sum(purchases) AS purchases,
                   sum(units) AS units, cast(sum(revenue) AS decimal(18, 2)) AS revenue,
                   count(DISTINCT event_date) AS active_days, max(last_event_time) AS last_event_time
            FROM interaction_matrix
            WHERE datediff(:day, event_date) >= 0 AND datediff(:day, event_date) < :window_days
            GROUP BY user_id, product_id""",
    },
)

STEP = register(
    Step(
        name="interaction_scores",
        transform=TRANSFORM,
        # The window the lineage states follows the run config's window_days.
        inputs={"interaction_matrix": Input(CURATED_INTERACTION_MATRIX, days="window_days")},
        outputs={"interaction_scores": CURATED_INTERACTION_SCORES},
        settings=ScoreSettings,
        doc=CURATED_INTERACTION_SCORES.doc,
    )
)
