"""Spark driver script of the recommendation_quality step (Pipes: spark-submit, Glue, EMR)."""

from recmart.steps import spark_job


def run(spark, spec: dict) -> dict:
    return spark_job.run(spark, {**spec, "step": "recommendation_quality"})


if __name__ == "__main__":
    from recmart.pipes_entry import main

    main(run)
