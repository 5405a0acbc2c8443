"""Spark job: interaction matrices of the trailing window -> interaction scores of the day."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession

from recmart.tables import INTERACTION_MATRIX, INTERACTION_SCORES
from recmart.transforms.io import read_partitions, write_partition
from recmart.transforms.scores import ScoreSettings, interaction_scores


def run(spark: SparkSession, spec: dict) -> dict:
    day = dt.date.fromisoformat(spec["partition"])
    settings = ScoreSettings(**spec["params"])
    matrices = read_partitions(spark, INTERACTION_MATRIX, spec["inputs"]["interaction_matrix"])
    rows = write_partition(
        interaction_scores(matrices, day, settings), INTERACTION_SCORES, spec["outputs"]["interaction_scores"]
    )
    return {"rows": rows, "window_days_present": len(spec["inputs"]["interaction_matrix"])}


if __name__ == "__main__":
    from recmart.pipes_entry import main

    main(run)
