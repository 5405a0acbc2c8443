"""deploy/terraform: it parses, it names what the code uses, and it sets what the design needs.

Terraform cannot run here (no provider downloads), so the configuration is read with
python-hcl2 and checked structurally; checkov (test_deploy_checkov.py) checks it for
security misconfigurations.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from recmart import names
from recmart_tests.deploy.tf import (
    TF_DIR,
    TOP_LEVEL_BLOCKS,
    Terraform,
    block,
    blocks,
    parse_hcl,
    statements,
    tf_files,
    tf_json_files,
)


@pytest.fixture(scope="module")
def tf() -> Terraform:
    return Terraform.load()


# ---- parsing ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", tf_files(), ids=lambda p: p.name)
def test_every_tf_file_parses(path):
    doc = parse_hcl(path)
    assert doc, f"{path.name} is empty"
    assert set(doc) <= TOP_LEVEL_BLOCKS, f"{path.name}: unknown top-level blocks {set(doc) - TOP_LEVEL_BLOCKS}"


@pytest.mark.parametrize("path", tf_json_files(), ids=lambda p: p.name)
def test_every_tf_json_file_is_terraform_json(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict) and doc
    assert set(doc) <= TOP_LEVEL_BLOCKS, f"{path.name}: unknown top-level keys {set(doc) - TOP_LEVEL_BLOCKS}"


def test_files_are_split_by_concern():
    expected = {"versions.tf", "variables.tf", "outputs.tf", "names.tf", "kms.tf", "s3.tf", "stream.tf",
                "realtime.tf", "dynamodb.tf", "glue.tf", "emr_serverless.tf", "athena.tf", "feature_store.tf",
                "iam.tf", "monitoring.tf", "dagster.tf"}
    assert expected <= {p.name for p in tf_files()}
    assert [p.name for p in tf_json_files()] == ["glue_tables.tf.json"]


def test_terraform_fmt_is_clean():
    """`terraform fmt -check` needs no provider: run it where the binary exists."""
    exe = shutil.which("terraform")
    if exe is None:
        pytest.skip("terraform is not installed: formatting not checked (parsing is, above)")
    done = subprocess.run([exe, "fmt", "-check", "-recursive", "-list=true", str(TF_DIR)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"terraform fmt would change: {done.stdout}{done.stderr}"


def test_variables_and_outputs_are_described(tf):
    for name, body in tf.variables.items():
        assert len(body.get("description", "")) > 10, f"variable {name} has no description"
        assert "type" in body, f"variable {name} has no type"
    for name, body in tf.outputs.items():
        assert len(body.get("description", "")) > 10, f"output {name} has no description"
    assert {"recmart_lake", "glue_jobs", "dagster_compute_logs", "ecr_repository_url"} <= set(tf.outputs)


def test_every_reference_to_a_local_or_variable_exists(tf):
    text = "\n".join(p.read_text(encoding="utf-8") for p in tf_files() + tf_json_files())
    for kind, known in (("local", tf.locals), ("var", tf.variables)):
        used = set(re.findall(rf"\b{kind}\.([A-Za-z_][A-Za-z0-9_]*)", text))
        assert used <= set(known), f"undeclared {kind}s: {sorted(used - set(known))}"
    assert set(tf.variables) <= set(re.findall(r"\bvar\.([A-Za-z_][A-Za-z0-9_]*)", text)), "unused variables"


# ---- the names of recmart/names.py -----------------------------------------------------------
# name constant -> (resource type, attribute holding the name). Every upper-case string of
# recmart/names.py must be here or in NOT_RESOURCE_NAMES, so a new name cannot be forgotten.
RESOURCE_NAMES = {
    "CLICK_STREAM": ("aws_kinesis_stream", "name"),
    "FIREHOSE_DELIVERY_STREAM": ("aws_kinesis_firehose_delivery_stream", "name"),
    "REALTIME_LAMBDA": ("aws_lambda_function", "function_name"),
    "REALTIME_HANDLER": ("aws_lambda_function", "handler"),
    "REALTIME_DLQ": ("aws_sqs_queue", "name"),
    "DDB_RECOMMENDATIONS": ("aws_dynamodb_table", "name"),
    "DDB_RECENT_HISTORY": ("aws_dynamodb_table", "name"),
    "DDB_ITEM_NEIGHBOURS": ("aws_dynamodb_table", "name"),
    "DDB_TRENDING": ("aws_dynamodb_table", "name"),
    "DDB_STORE_META": ("aws_dynamodb_table", "name"),
    "GLUE_DATABASE": ("aws_glue_catalog_database", "name"),
    "ATHENA_WORKGROUP": ("aws_athena_workgroup", "name"),
    "FEATURE_GROUP_USERS": ("aws_sagemaker_feature_group", "feature_group_name"),
    "FEATURE_GROUP_ITEMS": ("aws_sagemaker_feature_group", "feature_group_name"),
    "FEATURE_GROUP_INTERACTIONS": ("aws_sagemaker_feature_group", "feature_group_name"),
    "ALERTS_TOPIC": ("aws_sns_topic", "name"),
}
# Checked separately below: not the name of a resource.
NOT_RESOURCE_NAMES = {
    "PROJECT": "the Project tag of every resource (provider default_tags)",
    "METRICS_NAMESPACE": "a CloudWatch namespace: scopes cloudwatch:PutMetricData in the IAM policies",
}


def _name_constants() -> dict[str, str]:
    return {k: v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)}


def test_every_name_constant_is_mapped():
    unmapped = set(_name_constants()) - set(RESOURCE_NAMES) - set(NOT_RESOURCE_NAMES)
    assert not unmapped, f"recmart/names.py names {sorted(unmapped)}: map them to a Terraform resource in this test"


@pytest.mark.parametrize("constant", sorted(RESOURCE_NAMES))
def test_name_is_a_terraform_resource_name(tf, constant):
    rtype, attribute = RESOURCE_NAMES[constant]
    value = getattr(names, constant)
    found = tf.attribute_values(rtype, attribute)
    assert value in found, f"names.{constant}={value!r} is not the {attribute} of any {rtype} (found {sorted(map(str, found))})"


def test_project_tags_every_resource(tf):
    (provider,) = [p["aws"] for p in tf.providers if "aws" in p]
    tags = block(provider, "default_tags")["tags"]
    assert tf.resolve(tags["Project"]) == names.PROJECT


def test_metrics_namespace_scopes_put_metric_data(tf):
    for doc in ("realtime_lambda", "dagster_task"):
        namespaces = set()
        for st in statements(tf.policy_document(doc)):
            if "cloudwatch:PutMetricData" in st["actions"]:
                for cond in blocks(st.get("condition")):
                    assert cond["variable"] == "cloudwatch:namespace"
                    namespaces |= {tf.resolve(v) for v in cond["values"]}
        assert namespaces == {names.METRICS_NAMESPACE}, doc


# ---- lake bucket -----------------------------------------------------------------------------
def test_lake_bucket_is_encrypted_versioned_private(tf):
    sse = block(tf.resource("aws_s3_bucket_server_side_encryption_configuration", "lake").body, "rule")
    default = block(sse, "apply_server_side_encryption_by_default")
    assert default["sse_algorithm"] == "aws:kms"
    assert default["kms_master_key_id"] == "${aws_kms_key.recmart.arn}"
    key = tf.resource("aws_kms_key", "recmart").body
    assert key["enable_key_rotation"] is True
    versioning = block(tf.resource("aws_s3_bucket_versioning", "lake").body, "versioning_configuration")
    assert versioning["status"] == "Enabled"
    pab = tf.resource("aws_s3_bucket_public_access_block", "lake").body
    assert all(pab[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                        "restrict_public_buckets"))


def _lifecycle_rules(tf) -> dict[str, dict]:
    rules = blocks(tf.resource("aws_s3_bucket_lifecycle_configuration", "lake").body["rule"])
    by_prefix = {}
    for rule in rules:
        assert rule["status"] == "Enabled"
        prefix = tf.render(block(rule, "filter").get("prefix", ""))
        by_prefix[prefix] = rule
    return by_prefix


def test_landing_moves_to_ia_then_expires(tf):
    rule = _lifecycle_rules(tf)["lake/landing/"]
    transition = block(rule, "transition")
    assert transition["storage_class"] == "STANDARD_IA"
    assert tf.resolve(transition["days"]) == 30
    assert tf.resolve(block(rule, "expiration")["days"]) == 400


def test_athena_results_and_logs_expire(tf):
    rules = _lifecycle_rules(tf)
    for prefix in ("athena-results/", "dagster/compute-logs/", "tmp/"):
        assert tf.resolve(block(rules[prefix], "expiration")["days"]) > 0, prefix
    catch_all = rules[""]
    assert block(catch_all, "abort_incomplete_multipart_upload")
    assert block(catch_all, "noncurrent_version_expiration")


# ---- stream, Firehose, Lambda --------------------------------------------------------------------
def test_click_stream_is_kms_encrypted(tf):
    stream = tf.resource("aws_kinesis_stream", "clicks").body
    assert stream["encryption_type"] == "KMS"
    assert stream["kms_key_id"] == "${aws_kms_key.recmart.arn}"


def test_firehose_lands_gzip_files_every_5_minutes_in_hourly_folders(tf):
    firehose = tf.resource("aws_kinesis_firehose_delivery_stream", "clicks_to_lake").body
    assert firehose["destination"] == "extended_s3"
    assert block(firehose, "kinesis_source_configuration")["kinesis_stream_arn"] == "${aws_kinesis_stream.clicks.arn}"
    s3 = block(firehose, "extended_s3_configuration")
    assert tf.resolve(s3["buffering_interval"]) == 300
    assert s3["compression_format"] == "GZIP"
    assert s3["custom_time_zone"] == "UTC"
    # Firehose's default YYYY/MM/DD/HH layout, under the lake's landing/clickstream/.
    assert tf.render(s3["prefix"]) == (
        "lake/landing/clickstream/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/!{timestamp:HH}/"
    )
    errors = tf.render(s3["error_output_prefix"])
    assert "!{firehose:error-output-type}" in errors
    assert errors.startswith("lake/landing/") and not errors.startswith("lake/landing/clickstream")


def test_lambda_runs_the_handler_from_the_zip_variable(tf):
    fn = tf.resource("aws_lambda_function", "realtime").body
    assert fn["runtime"] == "python3.11"
    assert tf.resolve(fn["handler"]) == names.REALTIME_HANDLER
    assert fn["filename"] == "${var.lambda_zip_path}"
    assert "lambda.zip" in tf.variables["lambda_zip_path"]["default"]


def test_event_source_mapping_reports_item_failures_and_bounds_retries(tf):
    esm = tf.resource("aws_lambda_event_source_mapping", "clicks").body
    assert esm["event_source_arn"] == "${aws_kinesis_stream.clicks.arn}"
    assert esm["function_response_types"] == ["ReportBatchItemFailures"]
    assert esm["bisect_batch_on_function_error"] is True
    assert 0 <= tf.resolve(esm["maximum_retry_attempts"]) <= 10
    assert 60 <= tf.resolve(esm["maximum_record_age_in_seconds"]) <= 86400
    on_failure = block(block(esm, "destination_config"), "on_failure")
    assert on_failure["destination_arn"] == "${aws_sqs_queue.realtime_dlq.arn}"
    dlq = tf.resource("aws_sqs_queue", "realtime_dlq").body
    assert dlq["kms_master_key_id"] == "${aws_kms_key.recmart.arn}"


# ---- DynamoDB --------------------------------------------------------------------------------
def test_dynamodb_tables_match_the_store_code(tf):
    """Keys and TTL as recmart/realtime/store/dynamodb_tables.py reads and writes them."""
    from recmart.realtime.store.dynamodb_tables import TABLE_KEYS, DynamoTables

    table = tf.resource("aws_dynamodb_table", "store")
    instances = dict(tf.instances(table))
    assert set(instances) == set(TABLE_KEYS)
    defaults = DynamoTables()
    keys = tf.resolve(tf.locals["dynamodb_keys"])
    for role, (hash_key, ttl) in TABLE_KEYS.items():
        assert instances[role] == getattr(defaults, role)
        each = (role, instances[role])
        assert tf.resolve(table.body["hash_key"], each=each) == hash_key
        assert tf.resolve(block(table.body, "attribute")["name"], each=each) == hash_key
        assert keys[role]["ttl"] == ttl, role
    assert "range_key" not in table.body
    dynamic_ttl = block(blocks(table.body["dynamic"])[0]["ttl"], "content")
    assert dynamic_ttl == {"attribute_name": "${ttl.value}", "enabled": True}


def test_dynamodb_tables_are_on_demand_recoverable_encrypted(tf):
    body = tf.resource("aws_dynamodb_table", "store").body
    assert body["billing_mode"] == "PAY_PER_REQUEST"
    assert block(body, "point_in_time_recovery")["enabled"] is True
    sse = block(body, "server_side_encryption")
    assert sse["enabled"] is True and sse["kms_key_arn"] == "${aws_kms_key.recmart.arn}"


# ---- Glue, EMR, Athena, feature store ----------------------------------------------------------
def test_every_step_the_code_runs_on_spark_gets_a_glue_job():
    """The Glue job list and the driver script are generated from the code, and cover every
    declared step; so is docs/deploy.md's table of Spark steps."""
    import sys
    from pathlib import Path

    from recmart.steps import REGISTRY
    from recmart.steps.spark_job import SPARK_STEPS

    root = Path(__file__).resolve().parents[2]
    generated = json.loads((root / "deploy" / "terraform" / "spark_steps.auto.tfvars.json").read_text())
    steps = generated["spark_steps"]
    assert steps == list(SPARK_STEPS) == sorted(SPARK_STEPS)
    assert generated["spark_entry_script"] == "spark_job.py"
    assert set(REGISTRY) <= set(steps)
    doc = (root / "docs" / "deploy.md").read_text()
    for step in steps:
        assert f"| `{step}` |" in doc
    assert {"raw_clickstream", "cleaned_events", "feature_rows", "item_neighbours",
            "trends", "daily_sales"} <= set(steps)
    # A Python step (the real-time scorer replayed over the day), run by the asset on any engine.
    assert "recommendation_quality" not in steps
    check = subprocess.run([sys.executable, str(root / "deploy" / "generate_spark_steps.py"), "--check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_glue_jobs_run_each_spark_step_with_the_package_zip(tf):
    assert "default" not in tf.variables["spark_steps"]  # set by the generated spark_steps.auto.tfvars.json
    job = tf.resource("aws_glue_job", "spark_step").body
    assert job["glue_version"] == "${var.glue_version}" and tf.variables["glue_version"]["default"] == "5.0"
    assert job["worker_type"] == "${var.glue_worker_type}"
    assert job["number_of_workers"] == "${var.glue_number_of_workers}"
    assert job["security_configuration"] == "${aws_glue_security_configuration.recmart.name}"
    command = block(job, "command")
    assert command["name"] == "glueetl"
    assert command["script_location"] == "${local.job_scripts_uri}/${var.spark_entry_script}"  # one for all
    assert tf.render("${local.job_scripts_uri}").endswith("/artifacts/jobs")
    arguments = job["default_arguments"]  # a merge(...) expression: check its text
    assert '"--extra-py-files" = local.package_zip_uri' in arguments
    assert '"--additional-python-modules" = var.glue_additional_python_modules' in arguments
    assert tf.render("${local.package_zip_uri}").endswith("/artifacts/recmart.zip")


def test_emr_serverless_application_is_the_alternative(tf):
    app = tf.resource("aws_emrserverless_application", "spark").body
    assert app["type"] == "spark"
    assert block(app, "auto_stop_configuration")["enabled"] is True


def test_athena_workgroup_enforces_encrypted_results_and_a_scan_cutoff(tf):
    wg = tf.resource("aws_athena_workgroup", "recmart").body
    conf = block(wg, "configuration")
    assert conf["enforce_workgroup_configuration"] is True
    assert tf.resolve(conf["bytes_scanned_cutoff_per_query"]) >= 10 * 1024 * 1024
    enc = block(block(conf, "result_configuration"), "encryption_configuration")
    assert enc["encryption_option"] == "SSE_KMS" and enc["kms_key_arn"] == "${aws_kms_key.recmart.arn}"


def test_feature_groups_have_online_and_offline_stores(tf):
    group = tf.resource("aws_sagemaker_feature_group", "recmart")
    ids = tf.variables["feature_record_identifiers"]["default"]
    assert ids == {"users": "user_id", "items": "product_id", "interactions": "record_id"}
    assert tf.variables["feature_event_time_name"]["default"] == "event_time"
    definitions = tf.variables["feature_definitions"]["default"]
    for kind, _ in tf.instances(group):
        declared = {f["name"] for f in definitions[kind]}
        assert {ids[kind], "event_time"} <= declared, kind
    body = group.body
    assert tf.resolve(body["record_identifier_feature_name"], each=("items", None)) == "product_id"
    assert body["feature_definition"] if "feature_definition" in body else blocks(body["dynamic"])
    online = block(body, "online_store_config")
    assert online["enable_online_store"] == "${var.feature_online_store}"
    assert block(online, "security_config")["kms_key_id"] == "${aws_kms_key.recmart.arn}"
    offline = block(block(body, "offline_store_config"), "s3_storage_config")
    assert tf.render(offline["s3_uri"]).endswith("/lake/features/sagemaker")


# ---- IAM -------------------------------------------------------------------------------------
# Actions that have no resource-level permissions: the only ones allowed on Resource "*".
UNSCOPABLE = {"cloudwatch:PutMetricData", "xray:PutTraceSegments", "xray:PutTelemetryRecords",
              "ecr:GetAuthorizationToken"}
ROLES = {"realtime_lambda", "firehose", "spark", "spark_emr", "dagster_task", "dagster_execution", "feature_store"}


def test_each_actor_has_its_own_role(tf):
    assert ROLES <= {r.name for r in tf.resources_of("aws_iam_role")}
    assert not tf.resources_of("aws_iam_role_policy_attachment"), "no managed (broad) policies"


def test_policies_are_scoped_to_named_resources(tf):
    for (dtype, name), doc in tf.data.items():
        if dtype != "aws_iam_policy_document" or name.startswith("assume_"):
            continue
        for st in statements(doc.body):
            actions = st["actions"]
            assert not any(a == "*" or a.endswith(":*") for a in actions), f"{name}: wildcard action {actions}"
            if st.get("effect", "Allow") == "Allow" and "*" in st["resources"]:
                assert set(actions) <= UNSCOPABLE, f"{name}/{st.get('sid')}: {actions} on Resource *"
            if "cloudwatch:PutMetricData" in actions:
                assert blocks(st.get("condition")), f"{name}: PutMetricData without a namespace condition"


def test_only_firehose_writes_landing(tf):
    for doc in ("spark", "dagster_task"):
        denies = [st for st in statements(tf.policy_document(doc)) if st.get("effect") == "Deny"]
        assert any("s3:PutObject" in st["actions"] and st["resources"] == ["${local.landing_objects}"]
                   for st in denies), doc


# ---- monitoring ------------------------------------------------------------------------------
def test_alarms_watch_the_stream_path_and_notify_the_topic(tf):
    alarms = {(tf.resolve(a.body["namespace"]), a.body["metric_name"]): a.body
              for a in tf.resources_of("aws_cloudwatch_metric_alarm")}
    for metric in [("AWS/Lambda", "Errors"), ("AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds"),
                   ("AWS/Firehose", "DeliveryToS3.Success"), ("AWS/SQS", "ApproximateNumberOfMessagesVisible")]:
        assert metric in alarms, f"no alarm on {metric}"
        assert alarms[metric]["alarm_actions"] == "${local.alarm_actions}"
    assert tf.resolve("${local.alarm_actions}") == ["${aws_sns_topic.alerts.arn}"]
    topic = tf.resource("aws_sns_topic", "alerts").body
    assert topic["kms_master_key_id"] == "${aws_kms_key.recmart.arn}"


# ---- checkov skips -----------------------------------------------------------------------------
SKIP = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?")


def test_every_checkov_skip_is_justified_in_place():
    skips = []
    for path in tf_files():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = SKIP.search(line)
            if m:
                skips.append((path.name, n, m.group(1), (m.group(2) or "").strip()))
    for file, line, check, reason in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", check), f"{file}:{line}: {check}"
        assert len(reason) >= 40, f"{file}:{line}: skip of {check} needs a real reason, not {reason!r}"
    assert len(skips) <= 12, "more skips than the reviewed ones: fix the resource instead"


# ---- feature definitions from the code -----------------------------------------------------------
FEATURE_TFVARS = TF_DIR / "feature_groups.auto.tfvars.json"


def test_feature_group_variables_are_the_codes_definitions(tf):
    """feature_groups.auto.tfvars.json is `recmart feature-groups --terraform`, and fits the variables."""
    from recmart.feature_groups.groups import terraform_variables

    committed = json.loads(FEATURE_TFVARS.read_text(encoding="utf-8"))
    assert committed == terraform_variables(), (
        "out of date: run .venv/bin/recmart feature-groups --terraform > deploy/terraform/feature_groups.auto.tfvars.json"
    )
    assert set(committed) <= set(tf.variables)
    groups = {each_key for each_key, _ in tf.instances(tf.resource("aws_sagemaker_feature_group", "recmart"))}
    assert set(committed["feature_definitions"]) == groups == set(committed["feature_record_identifiers"])
    for kind, features in committed["feature_definitions"].items():
        names_ = [f["name"] for f in features]
        assert len(names_) == len(set(names_)), kind
        assert {committed["feature_record_identifiers"][kind], committed["feature_event_time_name"]} <= set(names_)
        assert {f["type"] for f in features} <= {"Integral", "Fractional", "String"}
