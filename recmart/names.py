"""Names of the AWS-side things the code talks to, in one place.

deploy/terraform creates exactly these (a test checks that every name here exists there).
Each can be overridden per environment through the resource that uses it.
"""

PROJECT = "recmart"

# Kinesis / Firehose / Lambda
CLICK_STREAM = "recmart-clicks"
FIREHOSE_DELIVERY_STREAM = "recmart-clicks-to-lake"
REALTIME_LAMBDA = "recmart-realtime-recommendations"
REALTIME_HANDLER = "recmart.realtime.handler.handle"
REALTIME_DLQ = "recmart-realtime-dead-letters"

# DynamoDB tables of the recommendation store
DDB_RECOMMENDATIONS = "recmart-recommendations"
DDB_RECENT_HISTORY = "recmart-recent-history"
DDB_ITEM_NEIGHBOURS = "recmart-item-neighbours"
DDB_TRENDING = "recmart-trending"
DDB_STORE_META = "recmart-store-meta"

# Glue / Athena
GLUE_DATABASE = "recmart"
ATHENA_WORKGROUP = "recmart"

# SageMaker Feature Store groups
FEATURE_GROUP_USERS = "recmart-user-features"
FEATURE_GROUP_ITEMS = "recmart-item-features"
FEATURE_GROUP_INTERACTIONS = "recmart-interaction-features"

# Monitoring
ALERTS_TOPIC = "recmart-alerts"
METRICS_NAMESPACE = "Recmart"
