"""Loading snapshots: rows grouped, capped and checked before they reach the store."""

from __future__ import annotations

import pytest

from recmart.realtime.loader import group_neighbours, group_trending, load_snapshot

from .factories import trending_rows


def test_rows_are_grouped_best_first_capped_and_cleaned():
    rows = [{"product_id": "A", "neighbour_id": "C", "rank": 2, "score": 0.5},
            {"product_id": "A", "neighbour_id": "B", "rank": 1, "score": 0.9},
            {"product_id": "A", "neighbour_id": "A", "rank": 1, "score": 1.0},  # itself: dropped
            {"product_id": "A", "neighbour_id": "C", "rank": 5, "score": 0.1},  # duplicate: best rank wins
            {"product_id": "A", "neighbour_id": "D", "rank": 3, "score": 0.2}]
    assert group_neighbours(rows, limit=2) == {"A": [("B", 0.9), ("C", 0.5)]}
    assert group_trending(trending_rows("all", ["X", "Y"])) == {"all": [("X", 100.0), ("Y", 99.0)]}
    with pytest.raises(ValueError, match="item_neighbours row without neighbour_id"):
        group_neighbours([{"product_id": "A", "rank": 1, "score": 1.0}])


def test_load_snapshot_needs_a_version(sqlite_store):
    with pytest.raises(ValueError, match="version"):
        load_snapshot(sqlite_store, [], [], "")
