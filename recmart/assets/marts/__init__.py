"""Marts: item neighbours, trending products, fashion trends, daily sales, recommendation quality."""

from recmart.assets.marts.checks import (
    bind,
    fashion_trends_well_formed,
    neighbours_well_formed,
    sales_reconcile,
    served_blend_beats_popularity,
    trending_well_formed,
)
from recmart.assets.marts.daily_sales import daily_sales
from recmart.assets.marts.item_neighbours import item_neighbours
from recmart.assets.marts.recommendation_quality import recommendation_quality
from recmart.assets.marts.trends import trend_marts

ASSETS = [item_neighbours, trend_marts, daily_sales, recommendation_quality]
CHECKS = [
    bind(item_neighbours, neighbours_well_formed, "no self pairs, unique pairs, ranks 1..n, scores in (0, 1]"),
    bind("trending_products", trending_well_formed, "unique (scope, product), every product rising, ranks 1..n"),
    bind("fashion_trends", fashion_trends_well_formed, "unique (scope, attribute, value)"),
    bind(daily_sales, sales_reconcile, "the day's figures = raw transactions exactly; dimensions add up"),
    bind(recommendation_quality, served_blend_beats_popularity,
         "warns when the served blend's HR@20 is not above popularity's, or nothing was judged", blocking=False),
]
SENSORS: list = []
