# The recommendation store: five tables, keyed as the store code reads and writes them
# (recmart/realtime/store/dynamodb_tables.py, TABLE_KEYS; a test checks they agree).
#
#   table            partition key (S)  ttl    read by                         written by
#   recommendations  user_id            ttl    the website                     the real-time Lambda
#   recent_history   user_id            ttl    the real-time Lambda            the real-time Lambda
#   item_neighbours  product_id         -      the real-time Lambda            Dagster (daily load)
#   trending         scope              -      the real-time Lambda, website   Dagster (daily load)
#   store_meta       meta_key           -      everyone                        Dagster
#
# One item per key, no sort keys: every read is a GetItem/BatchGetItem by key. A user's
# recommendations and recent history are one item each; item neighbours and trending
# keep two versioned slots per key (store/snapshot.py) and store_meta holds the pointer to
# the current snapshot generation and the load lock, so a daily load never disturbs readers.
# Items with a `ttl` attribute (epoch seconds) are deleted by DynamoDB after it passes; the
# snapshot tables never expire (a key disappears through a tombstone in a newer generation).
#
# On-demand billing (spiky, click-driven traffic), point-in-time recovery and encryption
# with the recmart key on every table.
locals {
  dynamodb_keys = {
    recommendations = { hash_key = "user_id", ttl = "ttl" }
    recent_history  = { hash_key = "user_id", ttl = "ttl" }
    item_neighbours = { hash_key = "product_id", ttl = null }
    trending        = { hash_key = "scope", ttl = null }
    store_meta      = { hash_key = "meta_key", ttl = null }
  }
}

resource "aws_dynamodb_table" "store" {
  for_each = local.dynamodb_tables

  name         = each.value
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = local.dynamodb_keys[each.key].hash_key

  attribute {
    name = local.dynamodb_keys[each.key].hash_key
    type = "S"
  }

  dynamic "ttl" {
    for_each = local.dynamodb_keys[each.key].ttl == null ? [] : [local.dynamodb_keys[each.key].ttl]
    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.recmart.arn
  }

  deletion_protection_enabled = var.deletion_protection

  tags = {
    Component = "recommendation-store"
    Role      = each.key
  }
}
