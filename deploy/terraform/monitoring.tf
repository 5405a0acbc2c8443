# Alerts: every alarm notifies the (KMS-encrypted) alerts topic, on alarm and on recovery.
# The code publishes its own metrics (rows quarantined, batch failures, ...) under the
# CloudWatch namespace local.metrics_namespace ("Recmart"); the dashboard shows them all.

resource "aws_sns_topic" "alerts" {
  name              = local.alerts_topic_name
  kms_master_key_id = aws_kms_key.recmart.arn
}

resource "aws_sns_topic_subscription" "alert_email" {
  for_each = toset(var.alert_emails)

  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = each.value
}

locals {
  alarm_actions = [aws_sns_topic.alerts.arn]
}

resource "aws_cloudwatch_metric_alarm" "realtime_lambda_errors" {
  alarm_name          = "${local.realtime_lambda_name}-errors"
  alarm_description   = "The real-time Lambda failed (an error or timeout, not a reported item failure): recommendations lag behind clicks."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.realtime.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "realtime_lambda_iterator_age" {
  alarm_name          = "${local.realtime_lambda_name}-iterator-age"
  alarm_description   = "The real-time Lambda is behind the click stream."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = aws_lambda_function.realtime.function_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.iterator_age_alarm_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "click_stream_iterator_age" {
  alarm_name          = "${local.click_stream_name}-iterator-age"
  alarm_description   = "A consumer of the click stream (Lambda or Firehose) is falling behind; records expire after the stream's retention."
  namespace           = "AWS/Kinesis"
  metric_name         = "GetRecords.IteratorAgeMilliseconds"
  dimensions          = { StreamName = aws_kinesis_stream.clicks.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.iterator_age_alarm_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "firehose_delivery_failures" {
  alarm_name          = "${local.firehose_name}-delivery-failures"
  alarm_description   = "Firehose failed to deliver some records to the lake (DeliveryToS3.Success below 1)."
  namespace           = "AWS/Firehose"
  metric_name         = "DeliveryToS3.Success"
  dimensions          = { DeliveryStreamName = aws_kinesis_firehose_delivery_stream.clicks_to_lake.name }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "firehose_data_freshness" {
  alarm_name          = "${local.firehose_name}-data-freshness"
  alarm_description   = "Records wait too long in Firehose before reaching the lake."
  namespace           = "AWS/Firehose"
  metric_name         = "DeliveryToS3.DataFreshness"
  dimensions          = { DeliveryStreamName = aws_kinesis_firehose_delivery_stream.clicks_to_lake.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.firehose_freshness_alarm_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "realtime_dlq_depth" {
  alarm_name          = "${local.realtime_dlq_name}-not-empty"
  alarm_description   = "Batches of clicks the real-time Lambda gave up on are waiting in the dead-letter queue."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.realtime_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_dashboard" "recmart" {
  dashboard_name = local.project
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title  = "Click stream"
          region = local.region
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "StreamName", local.click_stream_name],
            ["AWS/Lambda", "IteratorAge", "FunctionName", local.realtime_lambda_name],
            ["AWS/Firehose", "DeliveryToS3.DataFreshness", "DeliveryStreamName", local.firehose_name],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title  = "Real-time Lambda"
          region = local.region
          stat   = "Sum"
          period = 300
          metrics = [
            ["AWS/Lambda", "Invocations", "FunctionName", local.realtime_lambda_name],
            ["AWS/Lambda", "Errors", "FunctionName", local.realtime_lambda_name],
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", local.realtime_dlq_name],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 24, height = 6
        properties = {
          title  = "recmart metrics (namespace ${local.metrics_namespace})"
          region = local.region
          period = 300
          metrics = [
            [{ expression = "SEARCH('Namespace=\"${local.metrics_namespace}\"', 'Sum', 300)", id = "recmart" }],
          ]
        }
      },
    ]
  })
}
