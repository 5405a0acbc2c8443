"""The three feature groups, defined once: name, lake table, record identifier, event time.

Each group's features are the columns of its lake table (`recmart.tables`), with the
Feature Store type derived from the column type, so the offline-store Parquet in the lake,
the Glue/Athena table and the CreateFeatureGroup request cannot disagree:

    int32, int64, bool          -> Integral
    double, money               -> Fractional
    string, timestamp, date     -> String (timestamps as ISO-8601 UTC, e.g. 2026-11-21T00:00:00Z)

`create_request` gives the exact CreateFeatureGroup request (boto3's `create_feature_group`
keyword arguments), `record` a row as a PutRecord `Record`. Pure python: no dagster, no
pyspark, no boto3, so anything may import it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from recmart.names import FEATURE_GROUP_INTERACTIONS, FEATURE_GROUP_ITEMS, FEATURE_GROUP_USERS
from recmart.schema import Table
from recmart.tables import FEATURES_INTERACTIONS, FEATURES_ITEMS, FEATURES_USERS

FEATURE_TYPES = {
    "int32": "Integral",
    "int64": "Integral",
    "bool": "Integral",
    "double": "Fractional",
    "money": "Fractional",
    "string": "String",
    "timestamp": "String",
    "date": "String",
}
# Names the Feature Store adds to every record itself.
RESERVED_FEATURE_NAMES = frozenset({"is_deleted", "write_time", "api_invocation_time"})
_FEATURE_NAME = re.compile(r"^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$")
_GROUP_NAME = re.compile(r"^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$")


@dataclass(frozen=True)
class FeatureDef:
    name: str
    type: str  # Integral, Fractional or String


@dataclass(frozen=True)
class FeatureGroupDef:
    """A feature group whose features are the columns of `table` (partition column excluded)."""

    name: str
    table: Table
    record_identifier: str
    event_time_feature: str
    description: str
    kind: str = ""  # users, items or interactions: the key deploy/terraform uses for the group

    def __post_init__(self) -> None:
        if not _GROUP_NAME.match(self.name):
            raise ValueError(f"feature group name {self.name!r} is not valid for the Feature Store")
        columns = {c.name: c for c in self.table.columns}
        for role, feature in (("record identifier", self.record_identifier), ("event time", self.event_time_feature)):
            if feature not in columns:
                raise ValueError(f"{self.name}: {role} {feature!r} is not a column of {self.table.sql_name}")
            if columns[feature].nullable:
                raise ValueError(f"{self.name}: {role} {feature!r} must not be nullable")
        if columns[self.event_time_feature].type not in ("timestamp", "double"):
            raise ValueError(f"{self.name}: the event time must be a timestamp (String) or epoch seconds (Fractional)")
        if FEATURE_TYPES[columns[self.record_identifier].type] not in ("String", "Integral"):
            raise ValueError(f"{self.name}: the record identifier must be a String or Integral feature")
        for c in self.table.columns:
            if c.name in RESERVED_FEATURE_NAMES or not _FEATURE_NAME.match(c.name):
                raise ValueError(f"{self.name}: {c.name!r} cannot be a feature name")

    @property
    def features(self) -> list[FeatureDef]:
        return [FeatureDef(c.name, FEATURE_TYPES[c.type]) for c in self.table.columns]

    def feature_definitions(self) -> list[dict]:
        return [{"FeatureName": f.name, "FeatureType": f.type} for f in self.features]

    def create_request(self, role_arn: str, offline_s3_uri: str, online: bool = True) -> dict:
        """The CreateFeatureGroup request: online store (optional) and offline store in `offline_s3_uri`."""
        if not offline_s3_uri.startswith("s3://"):
            raise ValueError(f"the offline store must be an s3:// URI, got {offline_s3_uri!r}")
        if not role_arn.startswith("arn:"):
            raise ValueError(f"role_arn must be an IAM role ARN, got {role_arn!r}")
        request = {
            "FeatureGroupName": self.name,
            "RecordIdentifierFeatureName": self.record_identifier,
            "EventTimeFeatureName": self.event_time_feature,
            "FeatureDefinitions": self.feature_definitions(),
            "OfflineStoreConfig": {
                "S3StorageConfig": {"S3Uri": offline_s3_uri.rstrip("/")},
                "DisableGlueTableCreation": False,
            },
            "RoleArn": role_arn,
            "Description": self.description,
        }
        if online:
            request["OnlineStoreConfig"] = {"EnableOnlineStore": True}
        return request

    def record(self, row: dict) -> list[dict]:
        """A row of the group's table as a PutRecord `Record`; null features are left out."""
        types = {c.name: c.type for c in self.table.columns}
        missing = {self.record_identifier, self.event_time_feature} - {k for k, v in row.items() if v is not None}
        if missing:
            raise ValueError(f"{self.name}: a record needs {sorted(missing)}")
        return [
            {"FeatureName": name, "ValueAsString": feature_value(row[name])}
            for name in types
            if row.get(name) is not None
        ]


def feature_value(value) -> str:
    """A value as the Feature Store's ValueAsString spells it."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


USER_GROUP = FeatureGroupDef(
    name=FEATURE_GROUP_USERS,
    table=FEATURES_USERS,
    record_identifier="user_id",
    event_time_feature="event_time",
    description="recmart user features: activity over 1/7/30 days, spend, favourites and recency.",
    kind="users",
)
ITEM_GROUP = FeatureGroupDef(
    name=FEATURE_GROUP_ITEMS,
    table=FEATURES_ITEMS,
    record_identifier="product_id",
    event_time_feature="event_time",
    description="recmart item features: popularity over 1/7/30 days, conversion, trend and catalogue attributes.",
    kind="items",
)
INTERACTION_GROUP = FeatureGroupDef(
    name=FEATURE_GROUP_INTERACTIONS,
    table=FEATURES_INTERACTIONS,
    record_identifier="record_id",
    event_time_feature="event_time",
    description="recmart user x product features: interaction score, counts and last interaction.",
    kind="interactions",
)

FEATURE_GROUPS: list[FeatureGroupDef] = [USER_GROUP, ITEM_GROUP, INTERACTION_GROUP]


def group(name: str) -> FeatureGroupDef:
    """A group by its Feature Store name, its kind (users, items, interactions) or its table's name."""
    for g in FEATURE_GROUPS:
        if name in (g.name, g.kind, g.table.sql_name):
            return g
    raise KeyError(f"no feature group {name!r}; known: {[g.name for g in FEATURE_GROUPS]}")


def terraform_variables() -> dict:
    """deploy/terraform's feature-group variables, filled from the definitions above."""
    return {
        "feature_record_identifiers": {g.kind: g.record_identifier for g in FEATURE_GROUPS},
        "feature_event_time_name": FEATURE_GROUPS[0].event_time_feature,
        "feature_definitions": {g.kind: [{"name": f.name, "type": f.type} for f in g.features] for g in FEATURE_GROUPS},
    }
