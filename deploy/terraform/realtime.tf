# The real-time path: Kinesis batch -> recmart.realtime.handler.handle -> DynamoDB.
# The handler answers {"batchItemFailures": [...]}; a failing batch is split in two until the
# bad record is alone, retried a bounded number of times, and then described in the
# dead-letter queue (the record itself stays in the stream, and reaches the lake anyway).

resource "aws_lambda_function" "realtime" {
  function_name    = local.realtime_lambda_name
  description      = "recmart: refreshes a user's recommendations on every click"
  role             = aws_iam_role.realtime_lambda.arn
  runtime          = "python3.11"
  handler          = local.realtime_handler
  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  architectures    = [var.lambda_architecture]
  memory_size      = var.lambda_memory_mb
  timeout          = var.lambda_timeout_seconds
  kms_key_arn      = aws_kms_key.recmart.arn

  reserved_concurrent_executions = var.lambda_reserved_concurrency

  environment {
    variables = merge(var.lambda_environment, { RECMART_DEPLOYMENT = "aws" })
  }

  tracing_config {
    mode = "Active"
  }

  # Text: the handler already writes one JSON object per line (recmart/realtime/logs.py),
  # which CloudWatch keeps as is for metric filters and Logs Insights.
  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.realtime_lambda.name
  }

  depends_on = [aws_iam_role_policy.realtime_lambda]

  #checkov:skip=CKV_AWS_116:The function is only invoked synchronously by the Kinesis event source mapping, for which a function DLQ never applies; failed batches go to the mapping's on-failure destination (the SQS dead-letter queue below).
  #checkov:skip=CKV_AWS_117:The function calls only AWS APIs (DynamoDB, CloudWatch) and no resource inside a VPC; a VPC would add NAT/endpoint cost and cold-start latency for no isolation gain.
  #checkov:skip=CKV_AWS_272:The artefact is built by CI from the repository and pinned by source_code_hash; code signing would need an AWS Signer profile outside this stack.
}

resource "aws_cloudwatch_log_group" "realtime_lambda" {
  name              = "/aws/lambda/${local.realtime_lambda_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.recmart.arn
}

resource "aws_lambda_event_source_mapping" "clicks" {
  function_name     = aws_lambda_function.realtime.arn
  event_source_arn  = aws_kinesis_stream.clicks.arn
  starting_position = var.esm_starting_position

  batch_size                         = var.esm_batch_size
  maximum_batching_window_in_seconds = var.esm_batching_window_seconds
  parallelization_factor             = var.esm_parallelization_factor

  function_response_types        = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error = true
  maximum_retry_attempts         = var.esm_maximum_retry_attempts
  maximum_record_age_in_seconds  = var.esm_maximum_record_age_seconds

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.realtime_dlq.arn
    }
  }
}

resource "aws_sqs_queue" "realtime_dlq" {
  name                      = local.realtime_dlq_name
  message_retention_seconds = var.dlq_retention_seconds
  kms_master_key_id         = aws_kms_key.recmart.arn

  kms_data_key_reuse_period_seconds = 3600
}
