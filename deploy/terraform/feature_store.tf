# SageMaker Feature Store: one feature group per kind of row (users, items, interactions),
# each with an online store (latest record per id) and an offline store (every record) in
# the lake bucket under <lake>/features/sagemaker/. The features of each group come from
# var.feature_definitions, filled from the code's definitions (recmart/feature_groups/groups.py) by
# feature_groups.auto.tfvars.json, which `recmart feature-groups --terraform` writes and
# Terraform loads by itself (a test checks the file is up to date).
resource "aws_sagemaker_feature_group" "recmart" {
  for_each = local.feature_groups

  feature_group_name             = each.value
  description                    = "recmart ${each.key} features"
  record_identifier_feature_name = var.feature_record_identifiers[each.key]
  event_time_feature_name        = var.feature_event_time_name
  role_arn                       = aws_iam_role.feature_store.arn

  dynamic "feature_definition" {
    for_each = var.feature_definitions[each.key]
    content {
      feature_name = feature_definition.value.name
      feature_type = feature_definition.value.type
    }
  }

  online_store_config {
    enable_online_store = var.feature_online_store
    security_config {
      kms_key_id = aws_kms_key.recmart.arn
    }
  }

  offline_store_config {
    disable_glue_table_creation = false
    s3_storage_config {
      s3_uri     = local.feature_store_uri
      kms_key_id = aws_kms_key.recmart.arn
    }
  }

  depends_on = [aws_iam_role_policy.feature_store]
}
