# Glue Data Catalog (the lake's tables for Athena) and the Glue Spark jobs.
# The tables themselves are in glue_tables.tf.json, generated from recmart.tables by
# deploy/generate_glue_tables.py: never edit that file by hand.

resource "aws_glue_catalog_database" "recmart" {
  name         = local.glue_database_name
  description  = "recmart lake tables (Parquet under ${local.lake_uri})"
  location_uri = local.lake_uri
}

resource "aws_glue_data_catalog_encryption_settings" "account" {
  count = var.manage_glue_catalog_encryption ? 1 : 0

  data_catalog_encryption_settings {
    encryption_at_rest {
      catalog_encryption_mode = "SSE-KMS"
      sse_aws_kms_key_id      = aws_kms_key.recmart.arn
    }
    connection_password_encryption {
      return_connection_password_encrypted = true
      aws_kms_key_id                       = aws_kms_key.recmart.arn
    }
  }
}

# Glue writes its S3 output, logs and bookmarks encrypted with the recmart key. With
# CloudWatch encryption on, a job's logs go to /aws-glue/jobs/<this name>-role/<role>/{output,error}.
resource "aws_glue_security_configuration" "recmart" {
  name = local.glue_security_config

  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = aws_kms_key.recmart.arn
    }
    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = aws_kms_key.recmart.arn
    }
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = aws_kms_key.recmart.arn
    }
  }
}

# One Glue job per Spark step, all running the one driver script (recmart/steps/spark_job.py,
# uploaded to <artifacts>/jobs/) with the recmart package on the Python path. Dagster starts
# runs through Dagster Pipes (PipesGlueClient), passing the spec that names the step.
resource "aws_glue_job" "spark_step" {
  for_each = toset(var.spark_steps)

  name                   = "${local.glue_job_prefix}${each.value}"
  description            = "recmart Spark step ${each.value}"
  role_arn               = aws_iam_role.spark.arn
  glue_version           = var.glue_version
  worker_type            = var.glue_worker_type
  number_of_workers      = var.glue_number_of_workers
  timeout                = var.glue_timeout_minutes
  max_retries            = 0 # Dagster owns retries: a re-run replaces exactly its partition.
  security_configuration = aws_glue_security_configuration.recmart.name

  command {
    name            = "glueetl"
    script_location = "${local.job_scripts_uri}/${var.spark_entry_script}"
    python_version  = "3"
  }

  execution_property {
    max_concurrent_runs = var.glue_max_concurrent_runs
  }

  default_arguments = merge(
    {
      "--job-language"                     = "python"
      "--extra-py-files"                   = local.package_zip_uri
      "--TempDir"                          = "s3://${local.lake_bucket}/${local.tmp_prefix}glue/"
      "--enable-glue-datacatalog"          = "true"
      "--enable-metrics"                   = "true"
      "--enable-observability-metrics"     = "true"
      "--enable-continuous-cloudwatch-log" = "true"
      "--enable-job-insights"              = "true"
    },
    var.glue_additional_python_modules == "" ? {} : {
      "--additional-python-modules" = var.glue_additional_python_modules
    },
  )
}
