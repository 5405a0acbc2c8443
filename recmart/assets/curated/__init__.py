"""Curated layer: cleaned events, the daily interaction matrix and its scores."""

from recmart.assets.curated.checks import CHECKS as _CHECKS
from recmart.assets.curated.checks import FRESHNESS_CHECKS
from recmart.assets.curated.cleaned_events import cleaned_events
from recmart.assets.curated.interaction_matrix import interaction_matrix
from recmart.assets.curated.interaction_scores import interaction_scores

ASSETS = [cleaned_events, interaction_matrix, interaction_scores]
CHECKS = [*_CHECKS, *FRESHNESS_CHECKS]
SENSORS: list = []
