"""Spark driver script of the interaction_scores step (Pipes: spark-submit, Glue, EMR)."""

from recmart.steps import spark_job


def run(spark, spec: dict) -> dict:
    return spark_job.run(spark, {**spec, "step": "interaction_scores"})


if __name__ == "__main__":
    from recmart.pipes_entry import main

    main(run)
