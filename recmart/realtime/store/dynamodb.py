"""The recommendation store on DynamoDB (the aws deployment).

Reads of many keys are one BatchGetItem per 100 keys (never one GetItem per product),
snapshot loads are BatchWriteItem per 25, and the writes that must not race are
conditional: a user's history on its revision, recommendations on (`updated_at`,
`history_revision`, `snapshot_generation`) (see `recommendations_order`), the snapshot
pointer on the generation it replaces.

Retries are botocore's (`default_client`): a throttled or failed call is retried by the
client, and one that still fails becomes a StoreError naming the call (the handler then
reports the user's records in batchItemFailures, and Kinesis redelivers them). Keys and
items a batch call leaves unprocessed are sent again at once: boto3's BatchWriter does it
for writes, `_batch_get` for reads (boto3 has no helper for BatchGetItem). Neither needs a
wait of its own: DynamoDB answers with unprocessed keys only when it processed some of the
others, and with ProvisionedThroughputExceededException, which botocore retries with
backoff, when it could process none, so each round makes progress or backs off.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import boto3
from boto3.dynamodb.table import BatchWriter
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from recmart.realtime.history import UserHistory
from recmart.realtime.store import snapshot as snap
from recmart.realtime.store.base import (
    ITEMS,
    HistoryConflict,
    ItemInfo,
    LoadInProgress,
    RecommendationStore,
    Snapshot,
    StoreError,
    TrendingEntry,
    recommendations_order,
)
from recmart.realtime.store.dynamodb_tables import DynamoTables

LOAD_LEASE_SECONDS = 3600
_BATCH_GET = 100  # BatchGetItem's limit
_BATCH_WRITE = 25  # BatchWriteItem's limit
_SLOT_ATTRIBUTES = "g1, d1, g0, d0"
_ORDER_ATTRIBUTES = ("history_revision", "snapshot_generation")


def default_client(region: str | None = None, endpoint_url: str | None = None):
    # Short timeouts and few retries: a Lambda that waits long only delays the retry that
    # Kinesis will make anyway.
    config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=2, read_timeout=5)
    return boto3.client("dynamodb", region_name=region, endpoint_url=endpoint_url, config=config)


def _s(value: str) -> dict:
    return {"S": value}


def _n(value: int | float) -> dict:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def _slots_item(key_attr: str, key: str, slots: snap.Slots) -> dict:
    item = {key_attr: _s(key), "g1": _n(slots.g1)}
    if slots.d1 is not None:
        item["d1"] = _s(slots.d1)
    if slots.g0 is not None:
        item["g0"] = _n(slots.g0)
        if slots.d0 is not None:
            item["d0"] = _s(slots.d0)
    return item


def _slots_of(item: dict) -> snap.Slots:
    return snap.Slots(
        int(item["g1"]["N"]),
        item["d1"]["S"] if "d1" in item else None,
        int(item["g0"]["N"]) if "g0" in item else None,
        item["d0"]["S"] if "d0" in item else None,
    )


class DynamoDBStore(RecommendationStore):
    def __init__(self, client=None, tables: DynamoTables = DynamoTables(), region: str | None = None,
                 endpoint_url: str | None = None) -> None:
        self.client = client or default_client(region, endpoint_url)
        self.tables = tables
        self._slot_tables = {ITEMS: (tables.item_neighbours, "product_id"), "trending": (tables.trending, "scope")}

    @contextmanager
    def _errors(self, what: str):
        try:
            yield
        except (BotoCoreError, ClientError) as exc:
            raise StoreError(f"dynamodb {what}: {exc}") from exc

    # ---- batch primitives ---------------------------------------------------------------------
    def _batch_get(self, table: str, key_attr: str, keys: Iterable[str], projection: str | None = None,
                   consistent: bool = False) -> list[dict]:
        """Every item of `keys` that exists: BatchGetItem per 100, unprocessed keys sent again."""
        unique = list(dict.fromkeys(keys))
        found: list[dict] = []
        for i in range(0, len(unique), _BATCH_GET):
            request: dict[str, Any] = {"Keys": [{key_attr: _s(k)} for k in unique[i : i + _BATCH_GET]], "ConsistentRead": consistent}
            if projection:
                request["ProjectionExpression"] = projection
            pending = {table: request}
            while pending:
                with self._errors(f"BatchGetItem {table}"):
                    answer = self.client.batch_get_item(RequestItems=pending)
                found += answer.get("Responses", {}).get(table, [])
                left = answer.get("UnprocessedKeys") or {}
                if left and len(left[table]["Keys"]) >= len(pending[table]["Keys"]):
                    # DynamoDB never answers so (see the module's docstring): do not spin on it.
                    raise StoreError(f"dynamodb BatchGetItem {table}: no key of the request was processed")
                pending = left
        return found

    # ---- snapshot -----------------------------------------------------------------------------
    def current_snapshot(self) -> Snapshot | None:
        with self._errors("GetItem snapshot pointer"):
            item = self.client.get_item(TableName=self.tables.store_meta, Key={"meta_key": _s("current")},
                                        ConsistentRead=True).get("Item")
        if not item:
            return None
        return Snapshot(int(item["generation"]["N"]), item["version"]["S"], item["loaded_at"]["S"])

    def get_items(self, product_ids: Iterable[str], snapshot: Snapshot) -> dict[str, ItemInfo]:
        found = {}
        for item in self._batch_get(self.tables.item_neighbours, "product_id", product_ids,
                                    f"product_id, {_SLOT_ATTRIBUTES}"):
            doc = snap.visible(_slots_of(item), snapshot.generation)
            if doc is not None:
                pid = item["product_id"]["S"]
                neighbours, name, category, sources, blend = snap.parse_item_document(doc)
                found[pid] = ItemInfo(pid, name, category, neighbours, sources, blend)
        return found

    def get_trending(self, scopes: Iterable[str], snapshot: Snapshot) -> dict[str, tuple[TrendingEntry, ...]]:
        found = {}
        for item in self._batch_get(self.tables.trending, "scope", scopes):
            doc = snap.visible(_slots_of(item), snapshot.generation)
            if doc is not None:
                found[item["scope"]["S"]] = snap.parse_trending_document(doc)
        return found

    def _read_all_slots(self, kind: str) -> dict[str, snap.Slots]:
        table, key_attr = self._slot_tables[kind]
        slots = {}
        with self._errors(f"Scan {table}"):
            # Consistent: a failed load's own writes must be seen to be repaired.
            for page in self.client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
                for item in page.get("Items", []):
                    slots[item[key_attr]["S"]] = _slots_of(item)
        return slots

    def _write_slots(self, kind: str, puts: Mapping[str, snap.Slots], deletes: Sequence[str]) -> None:
        """BatchWriteItem per 25 through boto3's BatchWriter, which sends unprocessed items again
        (a plain client: the items are in DynamoDB's wire format already)."""
        table, key_attr = self._slot_tables[kind]
        with self._errors(f"BatchWriteItem {table}"), BatchWriter(table, self.client, flush_amount=_BATCH_WRITE) as batch:
            for key, slots in puts.items():
                batch.put_item(Item=_slots_item(key_attr, key, slots))
            for key in deletes:
                batch.delete_item(Key={key_attr: _s(key)})

    def _switch_snapshot(self, expected: Snapshot | None, new: Snapshot) -> None:
        item = {"meta_key": _s("current"), "generation": _n(new.generation), "version": _s(new.version),
                "loaded_at": _s(new.loaded_at)}
        if expected is None:
            condition, values = "attribute_not_exists(meta_key)", {}
        else:
            condition, values = "generation = :g", {":g": _n(expected.generation)}
        try:
            with self._errors("PutItem snapshot pointer"):
                self.client.put_item(TableName=self.tables.store_meta, Item=item, ConditionExpression=condition,
                                     **({"ExpressionAttributeValues": values} if values else {}))
        except StoreError as exc:
            if _conditional_failed(exc):
                raise StoreError(f"the current snapshot changed during the load (expected {expected})") from exc
            raise

    def _acquire_load_lock(self, owner: str) -> None:
        now = int(time.time())
        try:
            with self._errors("PutItem load lock"):
                self.client.put_item(
                    TableName=self.tables.store_meta,
                    Item={"meta_key": _s("load_lock"), "owner": _s(owner), "expires": _n(now + LOAD_LEASE_SECONDS)},
                    ConditionExpression="attribute_not_exists(meta_key) OR expires < :now",
                    ExpressionAttributeValues={":now": _n(now)},
                )
        except StoreError as exc:
            if _conditional_failed(exc):
                raise LoadInProgress(f"another snapshot load holds the lock in {self.tables.store_meta}") from exc
            raise

    def _release_load_lock(self, owner: str) -> None:
        try:
            with self._errors("DeleteItem load lock"):
                self.client.delete_item(TableName=self.tables.store_meta, Key={"meta_key": _s("load_lock")},
                                        ConditionExpression="#o = :o", ExpressionAttributeNames={"#o": "owner"},
                                        ExpressionAttributeValues={":o": _s(owner)})
        except StoreError as exc:
            if not _conditional_failed(exc):  # a lock that expired and was taken over is not ours to free
                raise

    # ---- history ------------------------------------------------------------------------------
    def get_histories(self, user_ids: Iterable[str]) -> dict[str, UserHistory]:
        keys = list(dict.fromkeys(user_ids))
        found = {uid: UserHistory(uid) for uid in keys}
        # Consistent reads: the conditional write that follows needs the latest revision.
        for item in self._batch_get(self.tables.recent_history, "user_id", keys, consistent=True):
            uid = item["user_id"]["S"]
            found[uid] = UserHistory.from_json(uid, item["events"]["S"], item["purchases"]["S"],
                                               int(item["revision"]["N"]))
        return found

    def save_history(self, history: UserHistory, ttl: int) -> UserHistory:
        new_revision = history.revision + 1
        item = {"user_id": _s(history.user_id), "revision": _n(new_revision), "events": _s(history.events_json()),
                "purchases": _s(history.purchases_json()), "ttl": _n(ttl)}
        if history.revision == 0:
            condition, values = "attribute_not_exists(user_id)", None
        else:
            condition, values = "revision = :r", {":r": _n(history.revision)}
        try:
            with self._errors("PutItem history"):
                self.client.put_item(TableName=self.tables.recent_history, Item=item, ConditionExpression=condition,
                                     **({"ExpressionAttributeValues": values} if values else {}))
        except StoreError as exc:
            if _conditional_failed(exc):
                raise HistoryConflict(f"history of {history.user_id} changed since revision {history.revision}") from exc
            raise
        return UserHistory(history.user_id, history.events, history.purchases, new_revision)

    # ---- recommendations ----------------------------------------------------------------------
    def get_recommendations(self, user_id: str) -> dict | None:
        with self._errors("GetItem recommendations"):
            item = self.client.get_item(TableName=self.tables.recommendations, Key={"user_id": _s(user_id)}).get("Item")
        if not item:
            return None
        recs = {
            "user_id": item["user_id"]["S"],
            "items": [
                {"product_id": m["M"]["product_id"]["S"], "score": float(m["M"]["score"]["N"]),
                 "reason": m["M"]["reason"]["S"]}
                for m in item["items"]["L"]
            ],
            "model_version": item["model_version"]["S"],
            "updated_at": item["updated_at"]["S"],
            "ttl": int(item["ttl"]["N"]),
        }
        for name in _ORDER_ATTRIBUTES:  # absent from items written before they existed
            if name in item:
                recs[name] = int(item[name]["N"])
        return recs

    def put_recommendations(self, recommendations: dict) -> bool:
        # Native DynamoDB types, so the website (any language) reads them without our code.
        item = {
            "user_id": _s(recommendations["user_id"]),
            "items": {"L": [
                {"M": {"product_id": _s(r["product_id"]), "score": _n(float(r["score"])), "reason": _s(r["reason"])}}
                for r in recommendations["items"]
            ]},
            "model_version": _s(recommendations["model_version"]),
            "updated_at": _s(recommendations["updated_at"]),
            "ttl": _n(int(recommendations["ttl"])),
        }
        for name in _ORDER_ATTRIBUTES:
            if name in recommendations:
                item[name] = _n(int(recommendations[name]))
        updated_at, revision, generation = recommendations_order(recommendations)
        try:
            with self._errors("PutItem recommendations"):
                self.client.put_item(
                    TableName=self.tables.recommendations, Item=item,
                    # (updated_at, history_revision, snapshot_generation) >= the stored ones, a
                    # missing attribute counting as 0 (as it does for the new item: values are >= 0).
                    # Canonical times have a fixed width, so string order is time order.
                    ConditionExpression=(
                        "attribute_not_exists(user_id) OR updated_at < :u OR (updated_at = :u AND ("
                        "attribute_not_exists(history_revision) OR history_revision < :r OR (history_revision = :r "
                        "AND (attribute_not_exists(snapshot_generation) OR snapshot_generation <= :g))))"
                    ),
                    ExpressionAttributeValues={":u": _s(updated_at), ":r": _n(revision), ":g": _n(generation)},
                )
        except StoreError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True


def _conditional_failed(exc: StoreError) -> bool:
    cause = exc.__cause__
    return isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"

