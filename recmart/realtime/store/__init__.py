"""The recommendation store: `RecommendationStore` and its SQLite and DynamoDB implementations.

Open one with `open_store(url)`; the implementations are imported only when used, so the
Lambda never loads the SQLite one and a laptop never needs boto3 for the local one.
"""

from recmart.realtime.store.base import (
    HistoryConflict,
    ItemInfo,
    LoadInProgress,
    ProductInfo,
    RecommendationStore,
    Snapshot,
    StoreError,
    category_scope,
)
from recmart.realtime.store.factory import DEFAULT_STORE_URL, STORE_ENV, open_store

__all__ = [
    "DEFAULT_STORE_URL", "STORE_ENV", "HistoryConflict", "ItemInfo", "LoadInProgress", "ProductInfo",
    "RecommendationStore", "Snapshot", "StoreError", "category_scope", "open_store",
]
