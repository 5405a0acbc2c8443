# What the Dagster deployment needs from this stack: an image repository for the code
# location image (deploy/docker/Dockerfile), its log group, and the two ECS roles (iam.tf).
# The ECS cluster/services, the RDS instance behind Dagster's storage and the network are
# the platform's; docs/deploy.md lists the task settings.

resource "aws_ecr_repository" "dagster" {
  name                 = local.ecr_repository_name
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.recmart.arn
  }
}

resource "aws_ecr_lifecycle_policy" "dagster" {
  repository = aws_ecr_repository.dagster.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the 30 most recent images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = 30
      }
      action = { type = "expire" }
    }]
  })
}

resource "aws_cloudwatch_log_group" "dagster" {
  name              = local.code_server_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.recmart.arn
}
