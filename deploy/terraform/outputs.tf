# What the Dagster deployment and the release steps need (docs/deploy.md).

output "recmart_lake" {
  description = "Value of RECMART_LAKE for the aws deployment."
  value       = local.lake_uri
}

output "lake_bucket" {
  description = "Name of the lake bucket."
  value       = aws_s3_bucket.lake.id
}

output "landing_prefix" {
  description = "Key prefix Firehose writes the click files under (followed by YYYY/MM/DD/HH/)."
  value       = local.click_landing
}

output "kms_key_arn" {
  description = "ARN of the recmart customer-managed KMS key."
  value       = aws_kms_key.recmart.arn
}

output "click_stream_arn" {
  description = "ARN of the Kinesis click stream the website writes to."
  value       = aws_kinesis_stream.clicks.arn
}

output "firehose_name" {
  description = "Name of the Firehose delivery stream (the prefix of every landed file's name)."
  value       = aws_kinesis_firehose_delivery_stream.clicks_to_lake.name
}

output "realtime_lambda_name" {
  description = "Name of the real-time Lambda."
  value       = aws_lambda_function.realtime.function_name
}

output "realtime_dlq_url" {
  description = "URL of the real-time dead-letter queue (descriptions of batches the Lambda gave up on)."
  value       = aws_sqs_queue.realtime_dlq.url
}

output "dynamodb_tables" {
  description = "DynamoDB tables of the recommendation store, by role."
  value       = { for role, table in aws_dynamodb_table.store : role => table.name }
}

output "glue_database" {
  description = "Glue database of the lake tables."
  value       = aws_glue_catalog_database.recmart.name
}

output "glue_jobs" {
  description = "Glue job of each Spark step."
  value       = { for step, job in aws_glue_job.spark_step : step => job.name }
}

output "glue_job_log_groups" {
  description = "CloudWatch log groups of the Glue jobs' driver output and errors (encrypted logs are under the security configuration's name)."
  value = {
    output = "/aws-glue/jobs/${aws_glue_security_configuration.recmart.name}-role/${aws_iam_role.spark.name}/output"
    error  = "/aws-glue/jobs/${aws_glue_security_configuration.recmart.name}-role/${aws_iam_role.spark.name}/error"
  }
}

output "spark_artifacts" {
  description = "Where the release uploads the recmart package zip and the Spark job scripts."
  value = {
    package_zip = local.package_zip_uri
    job_scripts = local.job_scripts_uri
  }
}

output "emr_serverless_application_id" {
  description = "ID of the EMR Serverless Spark application."
  value       = aws_emrserverless_application.spark.id
}

output "emr_serverless_job_role_arn" {
  description = "Execution role of EMR Serverless job runs."
  value       = aws_iam_role.spark_emr.arn
}

output "athena_workgroup" {
  description = "Athena workgroup for queries over the lake."
  value       = aws_athena_workgroup.recmart.name
}

output "athena_results" {
  description = "Where Athena writes query results (enforced by the workgroup)."
  value       = local.athena_results_uri
}

output "feature_groups" {
  description = "SageMaker feature groups, by kind of row."
  value       = { for kind, group in aws_sagemaker_feature_group.recmart : kind => group.feature_group_name }
}

output "feature_store_role_arn" {
  description = "Role SageMaker writes the offline store with: RECMART_FEATURE_STORE_ROLE_ARN."
  value       = aws_iam_role.feature_store.arn
}

output "alerts_topic_arn" {
  description = "SNS topic of the alarms (and of the code's own alerts)."
  value       = aws_sns_topic.alerts.arn
}

output "ecr_repository_url" {
  description = "ECR repository of the Dagster code location image."
  value       = aws_ecr_repository.dagster.repository_url
}

output "dagster_task_role_arn" {
  description = "ECS task role of the Dagster code location and run workers."
  value       = aws_iam_role.dagster_task.arn
}

output "dagster_execution_role_arn" {
  description = "ECS task execution role of the Dagster tasks."
  value       = aws_iam_role.dagster_execution.arn
}

output "dagster_log_group" {
  description = "CloudWatch log group for the Dagster containers."
  value       = aws_cloudwatch_log_group.dagster.name
}

output "dagster_compute_logs" {
  description = "DAGSTER_COMPUTE_LOG_BUCKET and DAGSTER_COMPUTE_LOG_PREFIX for deploy/dagster/dagster.yaml."
  value = {
    bucket = aws_s3_bucket.lake.id
    prefix = trimsuffix(local.compute_logs_prefix, "/")
  }
}

output "click_producer_policy_arn" {
  description = "IAM policy to attach to the website's role so that it can put clicks into the stream."
  value       = aws_iam_policy.click_producer.arn
}

output "recommendation_reader_policy_arn" {
  description = "IAM policy to attach to the website's role so that it can read recommendations."
  value       = aws_iam_policy.recommendation_reader.arn
}
