"""Sizes of the recommendation store's DynamoDB items, for capacity planning (docs/capacity.md).

DynamoDB bills a write per started 1 KB of the item written and a strongly consistent read
per started 4 KB (an eventually consistent one per half of that). This loads a realistic
snapshot into moto's DynamoDB, plays clicks for users until their histories hold 5, 20 and
50 events, and prints the stored size of each kind of item by AWS's rule (attribute names
plus values: strings as UTF-8 bytes, numbers about their digits / 2 + 1).

    .venv/bin/python bench/realtime/item_sizes.py
"""

from __future__ import annotations

import json
import math
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_handler import START, moto_store  # noqa: E402

from recmart.realtime.config import HandlerConfig  # noqa: E402
from recmart.realtime.dead_letters import MemoryDeadLetters  # noqa: E402
from recmart.realtime.handler import Handler  # noqa: E402
from recmart.realtime.kinesis import Shard, batch_event  # noqa: E402


def attribute_size(value: dict) -> int:
    (kind, v), = value.items()
    if kind in ("S", "B"):
        return len(v.encode()) if kind == "S" else len(v)
    if kind == "N":
        return math.ceil(len(v.lstrip("-").replace(".", "")) / 2) + 1
    if kind == "BOOL" or kind == "NULL":
        return 1
    if kind == "L":
        return 3 + sum(attribute_size(x) + 1 for x in v)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(x) + 1 for k, x in v.items())
    return len(json.dumps(v))


def item_size(item: dict) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def main() -> None:
    from recmart.realtime.store.dynamodb_tables import DynamoTables

    with moto_store(2_000, 50) as (client, store):
        handler = Handler(store, MemoryDeadLetters(), HandlerConfig(log_level="WARNING"))
        shard = Shard()
        tables = DynamoTables()
        sizes = {}
        for events in (5, 20, 50):
            batch = [shard.record({
                "event_id": f"e{events}-{k}", "event_type": "view",
                "event_time": (START + timedelta(minutes=events, seconds=k)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "session_id": "s1", "user_id": f"user-{events}", "product_id": f"P{(k * 37) % 2000:06d}"})
                for k in range(events)]
            assert not handler.process(batch_event(batch)).failures
            key = {"user_id": {"S": f"user-{events}"}}
            sizes[f"history, {events} events"] = item_size(client.get_item(TableName=tables.recent_history, Key=key)["Item"])
            sizes[f"recommendations, after {events} events"] = item_size(
                client.get_item(TableName=tables.recommendations, Key=key)["Item"])
        product = client.get_item(TableName=tables.item_neighbours, Key={"product_id": {"S": "P000001"}})["Item"]
        sizes["item neighbours (50) of one product"] = item_size(product)
        scope = client.get_item(TableName=tables.trending, Key={"scope": {"S": "all"}})["Item"]
        sizes["trending, one scope (100 products)"] = item_size(scope)
    print("| item | bytes | write units (1 KB) | read units (4 KB, strong) |")
    print("|---|---:|---:|---:|")
    for name, size in sizes.items():
        print(f"| {name} | {size:,} | {math.ceil(size / 1024)} | {math.ceil(size / 4096)} |")


if __name__ == "__main__":
    main()
