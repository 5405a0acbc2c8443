# Least-privilege roles, one per actor, each scoped to the named resources it uses:
#   realtime_lambda   Kinesis -> handler -> DynamoDB (+ DLQ, metrics)
#   firehose          Kinesis -> lake landing/clickstream/
#   spark_glue        Glue Spark jobs: read the lake, write raw/curated/features/quarantine
#   spark_emr         EMR Serverless Spark jobs: the same rights as the Glue jobs
#   dagster_task      the Dagster code location / run workers (ECS task role)
#   dagster_execution ECS task execution role: pull the image, write logs, read secrets
#   feature_store     SageMaker writing the offline store
# No role but Firehose's may write under landing/: a landed file never changes (DESIGN.md).

locals {
  lake_objects         = "${local.lake_bucket_arn}/${var.lake_prefix}/*"
  landing_objects      = "${local.lake_bucket_arn}/${local.landing_prefix}*"
  artifact_objects     = "${local.lake_bucket_arn}/${local.artifacts_prefix}*"
  tmp_objects          = "${local.lake_bucket_arn}/${local.tmp_prefix}*"
  athena_objects       = "${local.lake_bucket_arn}/${local.athena_results_prefix}*"
  compute_log_objects  = "${local.lake_bucket_arn}/${local.compute_logs_prefix}*"
  feature_store_prefix = "${var.lake_prefix}/features/sagemaker/"

  glue_catalog_arns = [
    "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog",
    "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${local.glue_database_name}",
    "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${local.glue_database_name}/*",
  ]
  glue_job_arns    = [for job in aws_glue_job.spark_step : job.arn]
  dynamodb_arns    = [for table in aws_dynamodb_table.store : table.arn]
  feature_grp_arns = [for group in aws_sagemaker_feature_group.recmart : group.arn]
}

# ---- trust policies -----------------------------------------------------------------------
data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "assume_firehose" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "assume_glue" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "assume_emr_serverless" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["emr-serverless.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "assume_ecs_task" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "assume_sagemaker" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# ---- real-time Lambda ---------------------------------------------------------------------
resource "aws_iam_role" "realtime_lambda" {
  name               = "recmart-realtime-lambda"
  description        = "recmart real-time Lambda: reads the click stream, updates the recommendation store"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
}

data "aws_iam_policy_document" "realtime_lambda" {
  statement {
    sid = "ReadClickStream"
    actions = [
      "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
      "kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:SubscribeToShard",
    ]
    resources = [aws_kinesis_stream.clicks.arn]
  }

  statement {
    # The handler reads by key only: snapshot pointer, neighbours, trending, histories.
    sid       = "ReadRecommendationStore"
    actions   = ["dynamodb:GetItem", "dynamodb:BatchGetItem"]
    resources = local.dynamodb_arns
  }

  statement {
    # Whole items, conditional on their version: a user's history and recommendations.
    sid     = "WriteRecommendationsAndHistory"
    actions = ["dynamodb:PutItem"]
    resources = [
      aws_dynamodb_table.store["recommendations"].arn,
      aws_dynamodb_table.store["recent_history"].arn,
    ]
  }

  statement {
    # The event source mapping sends descriptions of failed batches; the handler itself
    # sends malformed records (dead letters) there, finding the queue by name.
    sid       = "SendToDeadLetterQueue"
    actions   = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.realtime_dlq.arn]
  }

  statement {
    sid       = "UseRecmartKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.recmart.arn]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.realtime_lambda.arn}:*"]
  }

  statement {
    sid       = "PublishRecmartMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource-level permissions; the namespace condition scopes it.
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [local.metrics_namespace]
    }
  }

  statement {
    sid       = "XRayTracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] # X-Ray write actions have no resource-level permissions.
  }
}

resource "aws_iam_role_policy" "realtime_lambda" {
  name   = "recmart-realtime-lambda"
  role   = aws_iam_role.realtime_lambda.id
  policy = data.aws_iam_policy_document.realtime_lambda.json
}

# ---- Firehose -----------------------------------------------------------------------------
resource "aws_iam_role" "firehose" {
  name               = "recmart-firehose"
  description        = "recmart Firehose: copies the click stream to the lake's landing prefix"
  assume_role_policy = data.aws_iam_policy_document.assume_firehose.json
}

data "aws_iam_policy_document" "firehose" {
  statement {
    sid = "ReadClickStream"
    actions = [
      "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
      "kinesis:GetShardIterator", "kinesis:ListShards",
    ]
    resources = [aws_kinesis_stream.clicks.arn]
  }

  statement {
    sid       = "LocateLakeBucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [local.lake_bucket_arn]
  }

  statement {
    sid     = "WriteLanding"
    actions = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]
    resources = [
      "${local.lake_bucket_arn}/${local.click_landing}*",
      "${local.lake_bucket_arn}/${local.click_errors}*",
    ]
  }

  statement {
    sid       = "UseRecmartKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.recmart.arn]
  }

  statement {
    sid       = "WriteDeliveryLogs"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.firehose.arn}:*"]
  }
}

resource "aws_iam_role_policy" "firehose" {
  name   = "recmart-firehose"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose.json
}

# ---- Spark jobs (Glue and EMR Serverless) -------------------------------------------------
data "aws_iam_policy_document" "spark" {
  statement {
    sid       = "ListLakeBucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = [local.lake_bucket_arn]
  }

  statement {
    sid       = "ReadLakeAndArtefacts"
    actions   = ["s3:GetObject"]
    resources = [local.lake_objects, local.artifact_objects, local.tmp_objects]
  }

  statement {
    sid       = "WriteLakeTablesAndScratch"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [local.lake_objects, local.tmp_objects]
  }

  statement {
    sid       = "LandedFilesNeverChange"
    effect    = "Deny"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = [local.landing_objects]
  }

  statement {
    sid = "ReadAndPartitionLakeTables"
    actions = [
      "glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables",
      "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition",
      "glue:CreatePartition", "glue:BatchCreatePartition", "glue:UpdatePartition",
      "glue:DeletePartition", "glue:BatchDeletePartition",
    ]
    resources = local.glue_catalog_arns
  }

  statement {
    # Spark's Glue catalog client looks the default database up at start.
    sid       = "LookUpDefaultDatabase"
    actions   = ["glue:GetDatabase"]
    resources = ["arn:${local.partition}:glue:${local.region}:${local.account_id}:database/default"]
  }

  statement {
    sid       = "UseRecmartKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.recmart.arn]
  }
}

data "aws_iam_policy_document" "spark_glue" {
  source_policy_documents = [data.aws_iam_policy_document.spark.json]

  statement {
    sid     = "WriteGlueJobLogs"
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    resources = [
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws-glue/*",
    ]
  }

  statement {
    sid       = "PublishGlueMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource-level permissions; the namespace condition scopes it.
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["Glue"]
    }
  }
}

resource "aws_iam_role" "spark" {
  name               = "recmart-spark-glue"
  description        = "recmart Glue Spark jobs"
  assume_role_policy = data.aws_iam_policy_document.assume_glue.json
}

resource "aws_iam_role_policy" "spark" {
  name   = "recmart-spark-glue"
  role   = aws_iam_role.spark.id
  policy = data.aws_iam_policy_document.spark_glue.json
}

resource "aws_iam_role" "spark_emr" {
  name               = "recmart-spark-emr-serverless"
  description        = "recmart EMR Serverless Spark job runs"
  assume_role_policy = data.aws_iam_policy_document.assume_emr_serverless.json
}

resource "aws_iam_role_policy" "spark_emr" {
  name   = "recmart-spark-emr-serverless"
  role   = aws_iam_role.spark_emr.id
  policy = data.aws_iam_policy_document.spark.json
}

# ---- Dagster code location / run workers --------------------------------------------------
resource "aws_iam_role" "dagster_task" {
  name               = "recmart-dagster-task"
  description        = "recmart Dagster code location and runs: orchestrates Glue/EMR, Athena, stores"
  assume_role_policy = data.aws_iam_policy_document.assume_ecs_task.json
}

data "aws_iam_policy_document" "dagster_task" {
  statement {
    sid       = "ListLakeBucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = [local.lake_bucket_arn]
  }

  statement {
    sid       = "ReadLakeResultsLogsArtefacts"
    actions   = ["s3:GetObject"]
    resources = [local.lake_objects, local.athena_objects, local.compute_log_objects, local.artifact_objects, local.tmp_objects]
  }

  statement {
    sid       = "WriteLakeResultsLogsScratch"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = [local.lake_objects, local.athena_objects, local.compute_log_objects, local.tmp_objects]
  }

  statement {
    sid       = "LandedFilesNeverChange"
    effect    = "Deny"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = [local.landing_objects]
  }

  statement {
    sid       = "RunGlueSparkSteps"
    actions   = ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun", "glue:GetJob"]
    resources = local.glue_job_arns
  }

  statement {
    sid = "ManageLakeTables"
    actions = [
      "glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables",
      "glue:CreateTable", "glue:UpdateTable",
      "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition",
      "glue:CreatePartition", "glue:BatchCreatePartition", "glue:UpdatePartition",
      "glue:DeletePartition", "glue:BatchDeletePartition",
    ]
    resources = local.glue_catalog_arns
  }

  statement {
    sid       = "RunEmrServerlessSparkSteps"
    actions   = ["emr-serverless:StartJobRun", "emr-serverless:GetJobRun", "emr-serverless:CancelJobRun", "emr-serverless:GetApplication"]
    resources = [aws_emrserverless_application.spark.arn, "${aws_emrserverless_application.spark.arn}/jobruns/*"]
  }

  statement {
    sid       = "PassSparkRoleToEmrServerless"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.spark_emr.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["emr-serverless.amazonaws.com"]
    }
  }

  statement {
    sid = "ReadSparkStepLogs"
    actions = [
      "logs:GetLogEvents", "logs:FilterLogEvents", "logs:DescribeLogStreams",
    ]
    resources = [
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws-glue/*",
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/emr-serverless/*",
    ]
  }

  statement {
    sid = "QueryLakeWithAthena"
    actions = [
      "athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults",
      "athena:StopQueryExecution", "athena:GetWorkGroup", "athena:BatchGetQueryExecution",
    ]
    resources = [aws_athena_workgroup.recmart.arn]
  }

  statement {
    sid = "LoadRecommendationStore"
    actions = [
      "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
      "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
      "dynamodb:ConditionCheckItem",
    ]
    resources = local.dynamodb_arns
  }

  statement {
    sid = "WriteFeatureStore"
    actions = [
      "sagemaker:PutRecord", "sagemaker:GetRecord", "sagemaker:DeleteRecord",
      "sagemaker:BatchGetRecord", "sagemaker:DescribeFeatureGroup",
    ]
    resources = local.feature_grp_arns
  }

  statement {
    sid       = "PublishRecmartMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource-level permissions; the namespace condition scopes it.
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [local.metrics_namespace]
    }
  }

  statement {
    sid       = "SendAlerts"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
  }

  statement {
    sid       = "UseRecmartKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.recmart.arn]
  }
}

resource "aws_iam_role_policy" "dagster_task" {
  name   = "recmart-dagster-task"
  role   = aws_iam_role.dagster_task.id
  policy = data.aws_iam_policy_document.dagster_task.json
}

resource "aws_iam_role" "dagster_execution" {
  name               = "recmart-dagster-execution"
  description        = "recmart Dagster ECS task execution: image pull, logs, secrets"
  assume_role_policy = data.aws_iam_policy_document.assume_ecs_task.json
}

data "aws_iam_policy_document" "dagster_execution" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # GetAuthorizationToken has no resource-level permissions.
  }

  statement {
    sid       = "PullDagsterImage"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = [aws_ecr_repository.dagster.arn]
  }

  statement {
    sid       = "WriteContainerLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.dagster.arn}:*"]
  }

  statement {
    sid       = "UseRecmartKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.recmart.arn]
  }

  dynamic "statement" {
    for_each = length(var.dagster_secret_arns) > 0 ? [1] : []
    content {
      sid       = "ReadDeploymentSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = var.dagster_secret_arns
    }
  }
}

resource "aws_iam_role_policy" "dagster_execution" {
  name   = "recmart-dagster-execution"
  role   = aws_iam_role.dagster_execution.id
  policy = data.aws_iam_policy_document.dagster_execution.json
}

# ---- SageMaker Feature Store offline store -------------------------------------------------
resource "aws_iam_role" "feature_store" {
  name               = "recmart-feature-store"
  description        = "recmart SageMaker Feature Store: writes the offline store into the lake bucket"
  assume_role_policy = data.aws_iam_policy_document.assume_sagemaker.json
}

data "aws_iam_policy_document" "feature_store" {
  statement {
    sid       = "LocateLakeBucket"
    actions   = ["s3:GetBucketLocation", "s3:GetBucketAcl", "s3:ListBucket"]
    resources = [local.lake_bucket_arn]
  }

  statement {
    sid       = "WriteOfflineStore"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:PutObjectAcl"]
    resources = ["${local.lake_bucket_arn}/${local.feature_store_prefix}*"]
  }

  statement {
    sid = "RegisterOfflineStoreTables"
    actions = [
      "glue:GetDatabase", "glue:CreateDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable",
    ]
    resources = [
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog",
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/sagemaker_featurestore",
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/sagemaker_featurestore/*",
    ]
  }

  statement {
    sid       = "UseRecmartKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.recmart.arn]
  }
}

resource "aws_iam_role_policy" "feature_store" {
  name   = "recmart-feature-store"
  role   = aws_iam_role.feature_store.id
  policy = data.aws_iam_policy_document.feature_store.json
}

# ---- for the website: what a click producer needs (attach to the website's role) ----------
data "aws_iam_policy_document" "click_producer" {
  statement {
    sid       = "PutClicks"
    actions   = ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary"]
    resources = [aws_kinesis_stream.clicks.arn]
  }

  statement {
    sid       = "EncryptClicks"
    actions   = ["kms:GenerateDataKey"]
    resources = [aws_kms_key.recmart.arn]
  }
}

resource "aws_iam_policy" "click_producer" {
  name        = "recmart-click-producer"
  description = "Lets the website put click events into the recmart click stream"
  policy      = data.aws_iam_policy_document.click_producer.json
}

data "aws_iam_policy_document" "recommendation_reader" {
  statement {
    sid     = "ReadRecommendations"
    actions = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"]
    # item_neighbours holds each product's name and category: the page shows them.
    resources = [
      aws_dynamodb_table.store["recommendations"].arn,
      aws_dynamodb_table.store["item_neighbours"].arn,
      aws_dynamodb_table.store["trending"].arn,
      aws_dynamodb_table.store["store_meta"].arn,
    ]
  }

  statement {
    sid       = "DecryptRecommendations"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.recmart.arn]
  }
}

resource "aws_iam_policy" "recommendation_reader" {
  name        = "recmart-recommendation-reader"
  description = "Lets the website read users' recommendations (and trending products for new users)"
  policy      = data.aws_iam_policy_document.recommendation_reader.json
}
