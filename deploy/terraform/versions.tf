terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70, < 6.0"
    }
  }

  # State in S3, one key per environment, given at init (docs/deploy.md):
  #   terraform init -backend-config=bucket=<state bucket> -backend-config=key=recmart/prod.tfstate \
  #                  -backend-config=region=<region> -backend-config=use_lockfile=true
  # `terraform init -backend=false` skips it (e.g. to validate).
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Project     = local.project
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}
