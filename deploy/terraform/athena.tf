# Athena over the Glue tables. The workgroup's settings are enforced: every query's results
# are encrypted with the recmart key under athena-results/, and a query that would scan more
# than the cutoff is cancelled.
resource "aws_athena_workgroup" "recmart" {
  name          = local.athena_workgroup_name
  description   = "recmart: SQL over the lake"
  force_destroy = false

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena_bytes_scanned_cutoff

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location = local.athena_results_uri

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = aws_kms_key.recmart.arn
      }
    }
  }
}
