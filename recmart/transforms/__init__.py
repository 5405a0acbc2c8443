"""Pure Spark transforms: DataFrames and settings in, DataFrames out.

Nothing here imports dagster or boto3, so the same code runs in the Dagster process,
under spark-submit and on Glue/EMR.
"""
