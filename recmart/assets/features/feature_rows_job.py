"""Spark job: 30 days of interaction matrices, the day's scores and catalogue -> the three feature groups' rows."""

from __future__ import annotations

import datetime as dt

from pyspark import StorageLevel
from pyspark.sql import SparkSession

from recmart.tables import (
    INTERACTION_FEATURES, INTERACTION_MATRIX, INTERACTION_SCORES, ITEM_FEATURES, RAW_PRODUCTS, USER_FEATURES,
)
from recmart.transforms.features import interaction_features, item_features, user_features, window_rows
from recmart.transforms.io import read_partitions, write_partition


def run(spark: SparkSession, spec: dict) -> dict:
    day = dt.date.fromisoformat(spec["partition"])
    inputs, outputs = spec["inputs"], spec["outputs"]
    matrices = read_partitions(spark, INTERACTION_MATRIX, inputs["interaction_matrix"])
    # The window's matrices feed all three groups: read them once.
    window = window_rows(matrices, day).drop("age").persist(StorageLevel.MEMORY_AND_DISK)
    scores = read_partitions(spark, INTERACTION_SCORES, inputs["interaction_scores"]).drop("event_date")
    catalogue = read_partitions(spark, RAW_PRODUCTS, inputs["catalogue"]).drop("event_date")
    try:
        users = write_partition(user_features(window, catalogue, day), USER_FEATURES, outputs["user_features"])
        items = write_partition(item_features(window, catalogue, day), ITEM_FEATURES, outputs["item_features"])
        pairs = write_partition(
            interaction_features(window, scores, day), INTERACTION_FEATURES, outputs["interaction_features"]
        )
    finally:
        window.unpersist()
    return {
        "user_rows": users,
        "item_rows": items,
        "interaction_rows": pairs,
        "window_days_present": len(inputs["interaction_matrix"]),
    }


if __name__ == "__main__":
    from recmart.pipes_entry import main

    main(run)
