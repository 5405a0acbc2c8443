# The AWS names the code uses, as recmart/names.py spells them. The code reaches these
# resources by name, so they are fixed here rather than derived from variables;
# recmart_tests/deploy checks that every name in recmart/names.py is the name of a resource
# of the right type below.
locals {
  project = "recmart"

  click_stream_name     = "recmart-clicks"
  firehose_name         = "recmart-clicks-to-lake"
  realtime_lambda_name  = "recmart-realtime-recommendations"
  realtime_handler      = "recmart.realtime.handler.handle"
  realtime_dlq_name     = "recmart-realtime-dead-letters"
  glue_database_name    = "recmart"
  athena_workgroup_name = "recmart"
  alerts_topic_name     = "recmart-alerts"
  metrics_namespace     = "Recmart"

  # DynamoDB tables of the recommendation store (key design: dynamodb.tf).
  dynamodb_tables = {
    recommendations = "recmart-recommendations"
    recent_history  = "recmart-recent-history"
    item_neighbours = "recmart-item-neighbours"
    trending        = "recmart-trending"
    store_meta      = "recmart-store-meta"
  }

  # SageMaker Feature Store groups (feature_store.tf).
  feature_groups = {
    users        = "recmart-user-features"
    items        = "recmart-item-features"
    interactions = "recmart-interaction-features"
  }

  # Names of the project's other resources (not read by the code).
  glue_job_prefix        = "recmart-"
  emr_application_name   = "recmart-spark"
  ecr_repository_name    = "recmart-dagster"
  code_server_log_group  = "/recmart/dagster"
  glue_security_config   = "recmart-glue"
  access_log_bucket_name = "${local.lake_bucket}-access-logs"
}

# Where things live in the lake bucket.
locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  lake_bucket     = coalesce(var.lake_bucket_name, "recmart-lake-${local.account_id}-${local.region}")
  lake_bucket_arn = "arn:${local.partition}:s3:::${local.lake_bucket}"

  # RECMART_LAKE=s3://<lake_bucket>/<lake_prefix>: the lake's landing/, raw/, curated/,
  # features/ and quarantine/ folders are under this prefix (DESIGN.md, "Lake layout").
  lake_uri = "s3://${local.lake_bucket}/${var.lake_prefix}"

  # Firehose writes landing/clickstream/YYYY/MM/DD/HH/<stream>-<version>-<time>-<uuid>.gz.
  landing_prefix = "${var.lake_prefix}/landing/"
  click_landing  = "${var.lake_prefix}/landing/clickstream/"
  # Records Firehose could not deliver: under landing/ (same lifecycle), but not under
  # landing/clickstream/, so that the landing sensor never lists them.
  click_errors = "${var.lake_prefix}/landing/firehose-errors/clickstream/"

  # Outside the lake: query results, Dagster compute logs, deploy artefacts, scratch space.
  athena_results_prefix = "athena-results/"
  compute_logs_prefix   = "dagster/compute-logs/"
  artifacts_prefix      = "${var.artifacts_prefix}/"
  tmp_prefix            = "tmp/"

  package_zip_uri    = "s3://${local.lake_bucket}/${var.artifacts_prefix}/recmart.zip"
  job_scripts_uri    = "s3://${local.lake_bucket}/${var.artifacts_prefix}/jobs"
  feature_store_uri  = "${local.lake_uri}/features/sagemaker"
  athena_results_uri = "s3://${local.lake_bucket}/${local.athena_results_prefix}"
}
