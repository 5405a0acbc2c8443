"""The aws deployment's resource implementations: S3 lake, Spark on Glue / EMR Serverless /
spark-submit through Dagster Pipes, the Glue catalog, Athena, and the deploy artefacts.

Nothing here is imported by the local deployment; `recmart.deployments` imports
`recmart.aws.deployment` only when RECMART_DEPLOYMENT=aws.
"""
