"""Spark driver script of the cleaned_events step (Pipes: spark-submit, Glue, EMR)."""

from recmart.steps import spark_job


def run(spark, spec: dict) -> dict:
    return spark_job.run(spark, {**spec, "step": "cleaned_events"})


if __name__ == "__main__":
    from recmart.pipes_entry import main

    main(run)
