"""Spark job: interaction scores of the day (a trailing window) -> item neighbours of the day."""

from __future__ import annotations

from pyspark import StorageLevel
from pyspark.sql import SparkSession

from recmart.tables import INTERACTION_SCORES, ITEM_NEIGHBOURS
from recmart.transforms.io import read_partitions, write_partition
from recmart.transforms.neighbours import (
    NeighbourSettings, neighbours_from_items, pair_counts, product_index, user_top_items,
)


def run(spark: SparkSession, spec: dict) -> dict:
    settings = NeighbourSettings(**spec["params"])
    scores = read_partitions(spark, INTERACTION_SCORES, spec["inputs"]["interaction_scores"])
    index = product_index(scores).persist(StorageLevel.MEMORY_AND_DISK)
    items = user_top_items(scores, settings, index).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        rows = write_partition(
            neighbours_from_items(items, index, settings), ITEM_NEIGHBOURS, spec["outputs"]["item_neighbours"]
        )
        pairs = pair_counts(items, settings)
        products = index.count()
    finally:
        items.unpersist()
        index.unpersist()
    return {"rows": rows, "products_with_scores": products, **pairs}


if __name__ == "__main__":
    from recmart.pipes_entry import main

    main(run)
