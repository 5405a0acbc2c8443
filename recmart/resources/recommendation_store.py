"""The recommendation store the website reads, as a Dagster resource.

The store itself lives in `recmart.realtime.store` (the Lambda ships it without Dagster):
a SQLite file in the local deployment, DynamoDB tables in the aws one. This resource only
carries the URL that picks it (RECMART_RECS_STORE, checked when the code location loads,
in `recmart.config`) and opens the store for an asset.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import Field

from recmart.realtime.store.base import RecommendationStore
from recmart.realtime.store.factory import DEFAULT_STORE_URL, STORE_ENV, open_store


class RecommendationStoreResource(dg.ConfigurableResource):
    """Where the item neighbours and trending products are loaded for the real-time path."""

    url: str = Field(
        default=DEFAULT_STORE_URL,
        description=f"{STORE_ENV}: sqlite:///<path> (local) or dynamodb://[region][?table overrides] (aws).",
    )

    @contextmanager
    def open(self) -> Iterator[RecommendationStore]:
        store = open_store(self.url, STORE_ENV)
        try:
            yield store
        finally:
            store.close()
