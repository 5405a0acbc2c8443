# ---- account and environment -------------------------------------------------------------
variable "aws_region" {
  description = "AWS region for every resource of the deployment."
  type        = string
  default     = "eu-west-1"
}

variable "environment" {
  description = "Environment tag (prod, staging, ...). One environment per AWS account: resource names are fixed by recmart/names.py."
  type        = string
  default     = "prod"
}

variable "deletion_protection" {
  description = "Protect the DynamoDB tables against deletion (turn off only to tear a test environment down)."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the CloudWatch log groups created here (Lambda, Firehose, Dagster code server)."
  type        = number
  default     = 365
}

# ---- lake bucket ------------------------------------------------------------------------
variable "lake_bucket_name" {
  description = "Name of the lake bucket; null for recmart-lake-<account>-<region>."
  type        = string
  default     = null
}

variable "lake_prefix" {
  description = "Key prefix of the lake inside the bucket: RECMART_LAKE=s3://<bucket>/<lake_prefix>. No leading or trailing slash."
  type        = string
  default     = "lake"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)*$", var.lake_prefix))
    error_message = "lake_prefix must be a non-empty key prefix without leading or trailing slash, e.g. \"lake\"."
  }
}

variable "artifacts_prefix" {
  description = "Key prefix (outside the lake) of the deploy artefacts: the recmart package zip and the Spark job scripts."
  type        = string
  default     = "artifacts"
}

variable "landing_ia_after_days" {
  description = "Days after which landed Firehose files move to S3 Standard-IA (they are read by the raw step within hours)."
  type        = number
  default     = 30
}

variable "landing_expire_after_days" {
  description = "Days after which landed Firehose files are deleted (the raw layer keeps every line)."
  type        = number
  default     = 400
}

variable "athena_results_retention_days" {
  description = "Days Athena query results are kept."
  type        = number
  default     = 30
}

variable "compute_log_retention_days" {
  description = "Days Dagster compute logs (stdout/stderr of each step) are kept."
  type        = number
  default     = 90
}

variable "noncurrent_version_retention_days" {
  description = "Days a replaced or deleted object version of the lake bucket stays recoverable."
  type        = number
  default     = 30
}

variable "access_log_retention_days" {
  description = "Days the S3 server access logs of the lake bucket are kept."
  type        = number
  default     = 365
}

# ---- stream, Firehose -------------------------------------------------------------------
variable "kinesis_stream_mode" {
  description = "ON_DEMAND (scales by itself) or PROVISIONED (then kinesis_shard_count shards)."
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.kinesis_stream_mode)
    error_message = "kinesis_stream_mode must be ON_DEMAND or PROVISIONED."
  }
}

variable "kinesis_shard_count" {
  description = "Shards of the click stream in PROVISIONED mode (1 MB/s in per shard; 1 TB/day is about 12 MB/s on average)."
  type        = number
  default     = 24
}

variable "kinesis_retention_hours" {
  description = "Hours the click stream keeps records (24 to 8760): how long a stalled consumer can catch up."
  type        = number
  default     = 48
}

variable "firehose_buffer_seconds" {
  description = "Firehose buffering interval: a landing file at least every this many seconds."
  type        = number
  default     = 300
}

variable "firehose_buffer_mb" {
  description = "Firehose buffering size in MiB (1 to 128): a landing file at least every this many MiB (before compression)."
  type        = number
  default     = 128
}

# ---- real-time Lambda -------------------------------------------------------------------
variable "lambda_zip_path" {
  description = "Path of the Lambda artefact built by `python -m recmart.realtime.package build/lambda.zip` (relative to this folder)."
  type        = string
  default     = "../../build/lambda.zip"
}

variable "lambda_architecture" {
  description = "Instruction set of the real-time Lambda (x86_64 or arm64); must match the wheels inside the artefact."
  type        = string
  default     = "x86_64"
}

variable "lambda_memory_mb" {
  description = "Memory of the real-time Lambda in MiB (CPU scales with it)."
  type        = number
  default     = 512
}

variable "lambda_timeout_seconds" {
  description = "Timeout of one real-time Lambda invocation (one Kinesis batch)."
  type        = number
  default     = 60
}

variable "lambda_reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the real-time Lambda: at most shards x parallelization factor are used."
  type        = number
  default     = 100
}

variable "lambda_environment" {
  description = "Extra environment variables of the real-time Lambda (RECMART_DEPLOYMENT=aws is always set)."
  type        = map(string)
  default     = {}
}

variable "esm_batch_size" {
  description = "Records per Lambda invocation from the Kinesis event source mapping."
  type        = number
  default     = 200
}

variable "esm_batching_window_seconds" {
  description = "Seconds the event source mapping may wait to fill a batch (trades latency for fewer invocations)."
  type        = number
  default     = 1
}

variable "esm_parallelization_factor" {
  description = "Concurrent batches per shard (1 to 10); records of one partition key stay in order."
  type        = number
  default     = 2
}

variable "esm_maximum_retry_attempts" {
  description = "Retries of a failing batch (halved by bisect-on-error) before its records go to the dead-letter queue."
  type        = number
  default     = 5
}

variable "esm_maximum_record_age_seconds" {
  description = "Records older than this are not processed by the Lambda but sent to the dead-letter queue (recommendations from hour-old clicks are stale; the lake still gets them through Firehose)."
  type        = number
  default     = 3600
}

variable "esm_starting_position" {
  description = "Where a new event source mapping starts reading the stream: LATEST or TRIM_HORIZON."
  type        = string
  default     = "LATEST"
}

variable "dlq_retention_seconds" {
  description = "How long the real-time dead-letter queue keeps a failed batch's description (max 14 days)."
  type        = number
  default     = 1209600
}

# ---- Spark on Glue / EMR Serverless -----------------------------------------------------
variable "spark_steps" {
  description = "The Spark steps; each gets a Glue job recmart-<step> running the one driver script <artifacts>/jobs/<spark_entry_script>. Set by spark_steps.auto.tfvars.json, which deploy/generate_spark_steps.py writes from the code."
  type        = list(string)
}

variable "spark_entry_script" {
  description = "File name of the one Spark driver script every step runs (recmart/steps/spark_job.py, uploaded under <artifacts>/jobs/). Set by spark_steps.auto.tfvars.json."
  type        = string
}

variable "glue_version" {
  description = "Glue version of the Spark jobs (5.0: Spark 3.5, Python 3.11)."
  type        = string
  default     = "5.0"
}

variable "glue_worker_type" {
  description = "Glue worker type of the Spark jobs (G.1X, G.2X, G.4X, ...)."
  type        = string
  default     = "G.2X"
}

variable "glue_number_of_workers" {
  description = "Default number of Glue workers per Spark job (a run can override it)."
  type        = number
  default     = 10
}

variable "glue_timeout_minutes" {
  description = "Timeout of one Glue job run."
  type        = number
  default     = 180
}

variable "glue_max_concurrent_runs" {
  description = "Concurrent runs of one Glue job (one per partition being backfilled)."
  type        = number
  default     = 4
}

variable "glue_additional_python_modules" {
  description = "pip requirements Glue installs before a run (--additional-python-modules); dagster-pipes talks to Dagster. Empty when they are in the package zip."
  type        = string
  default     = "dagster-pipes==1.13.*"
}

variable "manage_glue_catalog_encryption" {
  description = "Set the account's Glue Data Catalog encryption to the recmart key. It is an account-wide setting: turn off if another stack owns it."
  type        = bool
  default     = true
}

variable "emr_release_label" {
  description = "EMR release of the EMR Serverless Spark application (the alternative to Glue)."
  type        = string
  default     = "emr-7.8.0"
}

variable "emr_maximum_cpu" {
  description = "Cap on the vCPU the EMR Serverless application may use at once."
  type        = string
  default     = "200 vCPU"
}

variable "emr_maximum_memory" {
  description = "Cap on the memory the EMR Serverless application may use at once."
  type        = string
  default     = "800 GB"
}

variable "emr_idle_timeout_minutes" {
  description = "Minutes of idleness after which the EMR Serverless application stops."
  type        = number
  default     = 15
}

# ---- Athena -----------------------------------------------------------------------------
variable "athena_bytes_scanned_cutoff" {
  description = "Largest number of bytes one Athena query of the workgroup may scan (guards against a full-lake scan)."
  type        = number
  default     = 107374182400 # 100 GiB
}

# ---- SageMaker Feature Store ------------------------------------------------------------
variable "feature_record_identifiers" {
  description = "Record identifier feature of each feature group."
  type        = map(string)
  default = {
    users        = "user_id"
    items        = "product_id"
    interactions = "record_id"
  }
}

variable "feature_event_time_name" {
  description = "Event time feature of every feature group (ISO-8601 UTC string)."
  type        = string
  default     = "event_time"
}

variable "feature_definitions" {
  description = "Features of each feature group (users, items, interactions): lists of {name, type} with type Integral, Fractional or String. Set by feature_groups.auto.tfvars.json from the code's definitions; each list must include the group's record identifier and event time features."
  type = map(list(object({
    name = string
    type = string
  })))
  default = {
    users = [
      { name = "user_id", type = "String" },
      { name = "event_time", type = "String" },
    ]
    items = [
      { name = "product_id", type = "String" },
      { name = "event_time", type = "String" },
    ]
    interactions = [
      { name = "record_id", type = "String" },
      { name = "event_time", type = "String" },
    ]
  }

  validation {
    condition     = alltrue([for group in ["users", "items", "interactions"] : contains(keys(var.feature_definitions), group)])
    error_message = "feature_definitions needs a list for each of users, items and interactions."
  }

  validation {
    condition     = alltrue(flatten([for group, features in var.feature_definitions : [for f in features : contains(["Integral", "Fractional", "String"], f.type)]]))
    error_message = "A feature type is one of Integral, Fractional or String."
  }
}

variable "feature_online_store" {
  description = "Keep an online store (low-latency GetRecord) next to the offline store of each feature group."
  type        = bool
  default     = true
}

# ---- Dagster ----------------------------------------------------------------------------
variable "dagster_secret_arns" {
  description = "Secrets Manager ARNs the Dagster tasks read at start (RECMART_SOURCE_DB, RECMART_PII_SALT, DAGSTER_PG_PASSWORD, ...)."
  type        = list(string)
  default     = []
}

# ---- monitoring -------------------------------------------------------------------------
variable "alert_emails" {
  description = "E-mail addresses subscribed to the alerts topic (each must confirm the subscription)."
  type        = list(string)
  default     = []
}

variable "iterator_age_alarm_ms" {
  description = "Alarm when the oldest unread record of the click stream is older than this (milliseconds)."
  type        = number
  default     = 300000
}

variable "firehose_freshness_alarm_seconds" {
  description = "Alarm when the oldest record not yet delivered to the lake by Firehose is older than this."
  type        = number
  default     = 900
}
