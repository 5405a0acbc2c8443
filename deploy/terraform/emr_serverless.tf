# EMR Serverless: the alternative runner of the same Spark entry point (PipesEMRServerlessClient).
# Jobs run as aws_iam_role.spark, with --conf spark.submit.pyFiles=<artifacts>/recmart.zip.
resource "aws_emrserverless_application" "spark" {
  name          = local.emr_application_name
  release_label = var.emr_release_label
  type          = "spark"

  maximum_capacity {
    cpu    = var.emr_maximum_cpu
    memory = var.emr_maximum_memory
  }

  auto_start_configuration {
    enabled = true
  }

  auto_stop_configuration {
    enabled              = true
    idle_timeout_minutes = var.emr_idle_timeout_minutes
  }
}
