"""Feature layer: the day's feature-store rows (user, item and interaction groups)."""

from recmart.assets.features.checks import CHECKS as _CHECKS
from recmart.assets.features.feature_rows import feature_rows
from recmart.assets.table_checks import table_checks

ASSETS = [feature_rows]
CHECKS = [*_CHECKS, *table_checks(ASSETS)]
SENSORS: list = []
