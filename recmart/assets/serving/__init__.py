"""Serving: the day's batch results pushed to the stores that answer online
(the feature store's online store, the recommendation store the website reads)."""

from recmart.assets.serving.feature_store_ingestion import feature_store_ingestion
from recmart.assets.serving.recommendation_snapshot import recommendation_snapshot

ASSETS: list = [feature_store_ingestion, recommendation_snapshot]
CHECKS: list = []
SENSORS: list = []
