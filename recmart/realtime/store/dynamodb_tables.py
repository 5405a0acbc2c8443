"""The DynamoDB tables of the recommendation store: names, keys and TTL, as Terraform creates them.

deploy/terraform must declare exactly these keys and TTL attributes; `create_tables`
makes the same tables for tests (moto) and for a DynamoDB Local.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from recmart import names


@dataclass(frozen=True)
class DynamoTables:
    """Table names; each can be overridden per environment."""

    recommendations: str = names.DDB_RECOMMENDATIONS
    recent_history: str = names.DDB_RECENT_HISTORY
    item_neighbours: str = names.DDB_ITEM_NEIGHBOURS
    trending: str = names.DDB_TRENDING
    store_meta: str = names.DDB_STORE_META

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


# field of DynamoTables -> (hash key attribute, TTL attribute or None). All keys are strings.
TABLE_KEYS: dict[str, tuple[str, str | None]] = {
    "recommendations": ("user_id", "ttl"),
    "recent_history": ("user_id", "ttl"),
    "item_neighbours": ("product_id", None),  # versioned slots g1/d1/g0/d0, see store/snapshot.py
    "trending": ("scope", None),
    "store_meta": ("meta_key", None),  # 'current' snapshot pointer, 'load_lock'
}


def create_tables(client, tables: DynamoTables = DynamoTables()) -> None:
    """Create the store's tables (on-demand billing, TTL enabled), as Terraform does."""
    for field_name, (hash_key, ttl_attribute) in TABLE_KEYS.items():
        name = getattr(tables, field_name)
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": hash_key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": hash_key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        if ttl_attribute:
            client.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
            )
