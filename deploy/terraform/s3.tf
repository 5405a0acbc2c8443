# The lake bucket. Layout (prefixes):
#   <lake_prefix>/landing/clickstream/YYYY/MM/DD/HH/   Firehose output, never changed after it lands
#   <lake_prefix>/{raw,curated,features,quarantine}/   the lake's tables (Parquet, Hive-partitioned)
#   athena-results/                                    Athena query results (expire)
#   dagster/compute-logs/                              Dagster step logs (expire)
#   artifacts/                                         recmart.zip and the Spark job scripts
#   tmp/                                               Glue/EMR scratch space (expires)
resource "aws_s3_bucket" "lake" {
  bucket = local.lake_bucket

  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice of the account, not of this stack: the lake is rebuilt from the landing files and the source database, and versioning covers mistakes.
}

resource "aws_s3_bucket_versioning" "lake" {
  bucket = aws_s3_bucket.lake.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.recmart.arn
    }
    # S3 Bucket Keys: one KMS call per bucket key instead of per object (1 TB/day of small objects).
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "lake" {
  bucket                  = aws_s3_bucket.lake.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# Deny any request that is not over TLS.
resource "aws_s3_bucket_policy" "lake" {
  bucket = aws_s3_bucket.lake.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [local.lake_bucket_arn, "${local.lake_bucket_arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
  depends_on = [aws_s3_bucket_public_access_block.lake]
}

resource "aws_s3_bucket_lifecycle_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id

  rule {
    id     = "landing-to-ia-then-expire"
    status = "Enabled"
    filter {
      prefix = local.landing_prefix
    }
    transition {
      days          = var.landing_ia_after_days
      storage_class = "STANDARD_IA"
    }
    expiration {
      days = var.landing_expire_after_days
    }
  }

  rule {
    id     = "athena-results-expire"
    status = "Enabled"
    filter {
      prefix = local.athena_results_prefix
    }
    expiration {
      days = var.athena_results_retention_days
    }
  }

  rule {
    id     = "compute-logs-expire"
    status = "Enabled"
    filter {
      prefix = local.compute_logs_prefix
    }
    expiration {
      days = var.compute_log_retention_days
    }
  }

  rule {
    id     = "tmp-expire"
    status = "Enabled"
    filter {
      prefix = local.tmp_prefix
    }
    expiration {
      days = 7
    }
  }

  rule {
    id     = "all-noncurrent-versions-and-uploads"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.lake]
}

# Object events go to EventBridge (free to enable; lets other consumers react to landed files).
# The Dagster sensor lists the landing prefix itself and does not depend on them.
resource "aws_s3_bucket_notification" "lake" {
  bucket      = aws_s3_bucket.lake.id
  eventbridge = true
}

resource "aws_s3_bucket_logging" "lake" {
  bucket        = aws_s3_bucket.lake.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "s3/${local.lake_bucket}/"
}

# ---- server access logs of the lake bucket --------------------------------------------------
resource "aws_s3_bucket" "access_logs" {
  bucket = local.access_log_bucket_name

  #checkov:skip=CKV_AWS_18:This bucket receives the lake bucket's access logs; logging it into itself or another bucket would only log the log delivery.
  #checkov:skip=CKV_AWS_144:Access logs are audit records of this region; replicating them is an account-level choice.
  #checkov:skip=CKV_AWS_145:S3 server access logging cannot deliver to a bucket whose default encryption is SSE-KMS; this bucket uses SSE-S3 (AES256).
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of log objects; notifications would only cost.
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# Only the S3 logging service of this account, for the lake bucket, may write here.
resource "aws_s3_bucket_policy" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "S3ServerAccessLogsFromLakeBucket"
        Effect    = "Allow"
        Principal = { Service = "logging.s3.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.access_logs.arn}/s3/${local.lake_bucket}/*"
        Condition = {
          ArnLike      = { "aws:SourceArn" = local.lake_bucket_arn }
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.access_logs.arn, "${aws_s3_bucket.access_logs.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.access_log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.access_logs]
}
