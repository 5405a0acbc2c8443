"""Small builders of clicks, snapshot rows and Kinesis batches for the real-time tests."""

from __future__ import annotations

from datetime import datetime, timezone

from recmart.realtime.kinesis import Shard, batch_event

# When the records of `kinesis_batch` arrived (after every event time the tests use), so
# that the tests do not depend on the wall clock.
ARRIVAL = datetime(2026, 12, 1, tzinfo=timezone.utc).timestamp()


def click(event_id: str, product_id: str, user_id: str | None = "u1", event_type: str = "view",
          event_time: str = "2026-11-20T10:00:00Z", **extra) -> dict:
    return {"event_id": event_id, "event_type": event_type, "event_time": event_time, "session_id": "s1",
            "user_id": user_id, "product_id": product_id, **extra}


def at(minute: int, hour: int = 10, day: int = 20) -> str:
    return f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:00Z"


def neighbour_rows(n_products: int, k: int, prefix: str = "P") -> list[dict]:
    """Product i's neighbours are i+1..i+k (mod n), scores 1/rank."""
    return [
        {"product_id": f"{prefix}{i}", "neighbour_id": f"{prefix}{(i + r) % n_products}", "rank": r,
         "score": 1.0 / r, "co_users": 10}
        for i in range(n_products) for r in range(1, k + 1)
    ]


def trending_rows(scope: str, product_ids: list[str]) -> list[dict]:
    return [{"scope": scope, "product_id": pid, "rank": i + 1, "trend_score": 100.0 - i,
             "weighted_interactions": 1.0, "baseline": 1.0} for i, pid in enumerate(product_ids)]


def product_rows(n_products: int, category=lambda i: "Apparel" if i % 2 == 0 else "Footwear",
                 prefix: str = "P") -> list[dict]:
    return [{"product_id": f"{prefix}{i}", "name": f"Product {i}", "master_category": category(i)}
            for i in range(n_products)]


def kinesis_batch(clicks: list, shard: Shard | None = None) -> tuple[dict, list[dict]]:
    shard = shard or Shard(arrival_seconds=ARRIVAL)
    records = [shard.record(c) for c in clicks]
    return batch_event(records), records
