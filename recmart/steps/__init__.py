"""Steps declared once: inputs with their partition windows, outputs, transform, metrics.

Every heavy step of the flow is a `Step` in `REGISTRY`; engines run its transform, and the
parity suite runs every registered step on both engines.
"""

from recmart.steps.step import REGISTRY, Input, Step

__all__ = ["REGISTRY", "Input", "Step"]

# Importing a step's module registers it.
# (recommendation_quality is a Python step, not a registered SQL step: its asset imports it.)
from recmart.steps import (  # noqa: E402,F401
    cleaned_events,
    daily_sales,
    feature_rows,
    interaction_matrix,
    interaction_scores,
    item_neighbours,
    trends,
)
