# One customer-managed key encrypts everything of the project at rest: the lake, the
# stream, Firehose's output, the dead-letter queue, the DynamoDB tables, the alerts topic,
# the log groups, Athena results, the Glue catalog and jobs, and the feature store.
# IAM policies (iam.tf) grant each role the use of it; the key policy below delegates to
# IAM and lets the services that act without a role (CloudWatch Logs, CloudWatch alarms
# publishing to the encrypted topic) use it.
resource "aws_kms_key" "recmart" {
  description             = "recmart: encryption at rest of the lake, stream, stores and logs"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 30

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersKeyThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncryptsLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"
          }
        }
      },
      {
        Sid       = "CloudWatchAlarmsPublishToEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
    ]
  })
}

resource "aws_kms_alias" "recmart" {
  name          = "alias/recmart"
  target_key_id = aws_kms_key.recmart.key_id
}
