"""Feature-group definitions: derived from the lake tables, valid CreateFeatureGroup requests."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import botocore.session
import pytest
from botocore.validate import ParamValidator
from click.testing import CliRunner

from recmart import names
from recmart.feature_groups.cli import feature_groups
from recmart.feature_groups.groups import (
    FEATURE_GROUPS,
    INTERACTION_GROUP,
    ITEM_GROUP,
    USER_GROUP,
    FeatureGroupDef,
    group,
    terraform_variables,
)
from recmart.tables import FEATURES_USERS, TABLES

ROLE = "arn:aws:iam::123456789012:role/recmart-feature-store"
OFFLINE = "s3://recmart-lake/lake/features/sagemaker"


def _validate(request: dict) -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    report = ParamValidator().validate(request, model.operation_model("CreateFeatureGroup").input_shape)
    assert not report.has_errors(), report.generate_report()


def test_groups_use_the_names_and_tables_of_the_project():
    assert [g.name for g in FEATURE_GROUPS] == [
        names.FEATURE_GROUP_USERS, names.FEATURE_GROUP_ITEMS, names.FEATURE_GROUP_INTERACTIONS]
    assert all(g.table in TABLES and g.table.layer == "features" for g in FEATURE_GROUPS)
    assert (USER_GROUP.record_identifier, ITEM_GROUP.record_identifier, INTERACTION_GROUP.record_identifier) == (
        "user_id", "product_id", "record_id")


def test_feature_types_derive_from_column_types():
    types = {f.name: f.type for f in USER_GROUP.features}
    assert [f.name for f in USER_GROUP.features] == FEATURES_USERS.column_names
    assert types["user_id"] == "String" and types["event_time"] == "String"  # a timestamp is ISO-8601 text
    assert types["views_30d"] == "Integral" and types["active_days_30d"] == "Integral"
    assert types["revenue_30d"] == "Fractional"  # money
    assert {f.type for f in ITEM_GROUP.features if f.name in ("cart_rate_30d", "price")} == {"Fractional"}


@pytest.mark.parametrize("online", [True, False])
def test_create_requests_are_valid_for_the_sagemaker_api(online):
    for g in FEATURE_GROUPS:
        request = g.create_request(ROLE, OFFLINE, online=online)
        _validate(request)
        assert request["FeatureGroupName"] == g.name
        assert request["RecordIdentifierFeatureName"] == g.record_identifier
        assert request["EventTimeFeatureName"] == "event_time"
        assert request["OfflineStoreConfig"]["S3StorageConfig"]["S3Uri"] == OFFLINE
        assert ("OnlineStoreConfig" in request) is online
        assert len(request["FeatureDefinitions"]) == len(g.table.columns)


def test_bad_definitions_and_arguments_are_refused():
    with pytest.raises(ValueError, match="not a column"):
        FeatureGroupDef("recmart-x", FEATURES_USERS, "nope", "event_time", "x")
    with pytest.raises(ValueError, match="event time"):
        FeatureGroupDef("recmart-x", FEATURES_USERS, "user_id", "views_1d", "x")
    with pytest.raises(ValueError, match="s3://"):
        USER_GROUP.create_request(ROLE, "/local/folder")
    with pytest.raises(KeyError):
        group("no-such-group")


def test_a_row_becomes_a_put_record():
    row = {"user_id": "U0000001", "event_time": dt.datetime(2026, 11, 21), "views_1d": 3,
           "revenue_30d": Decimal("12.50"), "favourite_colour": None}
    record = USER_GROUP.record(row)
    assert record == [
        {"FeatureName": "user_id", "ValueAsString": "U0000001"},
        {"FeatureName": "event_time", "ValueAsString": "2026-11-21T00:00:00Z"},
        {"FeatureName": "views_1d", "ValueAsString": "3"},
        {"FeatureName": "revenue_30d", "ValueAsString": "12.50"},
    ]
    with pytest.raises(ValueError, match="event_time"):
        USER_GROUP.record({"user_id": "U1"})


def test_cli_prints_the_requests_and_the_terraform_variables():
    out = CliRunner().invoke(feature_groups, ["--offline-s3-uri", OFFLINE, "--role-arn", ROLE, "--offline-only"])
    assert out.exit_code == 0, out.output
    requests = json.loads(out.output)
    assert [r["FeatureGroupName"] for r in requests] == [g.name for g in FEATURE_GROUPS]
    assert all("OnlineStoreConfig" not in r for r in requests)
    one = json.loads(CliRunner().invoke(feature_groups, ["--offline-s3-uri", OFFLINE, "--group", "items"]).output)
    assert [r["FeatureGroupName"] for r in one] == [names.FEATURE_GROUP_ITEMS]

    tf = json.loads(CliRunner().invoke(feature_groups, ["--terraform"]).output)
    assert tf == terraform_variables()
    assert tf["feature_record_identifiers"] == {"users": "user_id", "items": "product_id", "interactions": "record_id"}
    assert tf["feature_event_time_name"] == "event_time"
    assert {"name": "views_30d", "type": "Integral"} in tf["feature_definitions"]["users"]


def test_cli_without_an_s3_lake_asks_for_the_offline_location(monkeypatch):
    monkeypatch.setenv("RECMART_LAKE", "/tmp/somewhere")
    out = CliRunner().invoke(feature_groups, [])
    assert out.exit_code != 0 and "--offline-s3-uri" in out.output
