"""The curated layer's marts: item neighbours, trending products, fashion trends, daily sales,
recommendation quality (curated tables, read by people, the website and the snapshot load)."""

from recmart.assets.check_results import bind
from recmart.assets.curated.marts.checks import (
    neighbours_well_formed,
    sales_reconcile,
    served_blend_beats_popularity,
    trending_well_formed,
)
from recmart.assets.curated.marts.daily_sales import curated_daily_sales
from recmart.assets.curated.marts.item_neighbours import curated_item_neighbours
from recmart.assets.curated.marts.recommendation_quality import curated_recommendation_quality
from recmart.assets.curated.marts.trends import trends
from recmart.assets.table_checks import table_checks
from recmart.tables import CURATED_TRENDING_PRODUCTS

ASSETS = [curated_item_neighbours, trends, curated_daily_sales, curated_recommendation_quality]
CHECKS = [
    bind(curated_item_neighbours, neighbours_well_formed, "no self pairs, ranks 1..n, scores in (0, 1]"),
    bind(CURATED_TRENDING_PRODUCTS.asset_key, trending_well_formed, "every product rising, ranks 1..n"),
    bind(curated_daily_sales, sales_reconcile, "the day's figures = raw transactions exactly; dimensions add up"),
    bind(curated_recommendation_quality, served_blend_beats_popularity,
         "warns when the served blend's HR@20 is not above popularity's, or nothing was judged", blocking=False),
    *table_checks(ASSETS),
]
SENSORS: list = []
