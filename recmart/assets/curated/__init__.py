"""Curated layer: cleaned events (and the quarantine beside them), the daily interaction
matrix and its scores; the curated tables read by people and the website are in `marts`."""

from recmart.assets.curated.checks import CHECKS as _CHECKS
from recmart.assets.curated.checks import FRESHNESS_CHECKS
from recmart.assets.curated.cleaned_events import cleaned_events
from recmart.assets.curated.interaction_matrix import curated_interaction_matrix
from recmart.assets.curated.interaction_scores import curated_interaction_scores
from recmart.assets.table_checks import table_checks

ASSETS = [cleaned_events, curated_interaction_matrix, curated_interaction_scores]
CHECKS = [*_CHECKS, *FRESHNESS_CHECKS, *table_checks(ASSETS)]
SENSORS: list = []
