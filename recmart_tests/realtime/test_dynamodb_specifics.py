"""What only the AWS side has: batched calls (no N+1), the SQS dead letters, the tables' keys and TTL."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from recmart import names
from recmart.realtime.config import HandlerConfig
from recmart.realtime.dead_letters import DeadLetter, SqliteDeadLetters, SqsDeadLetters
from recmart.realtime.handler import Handler
from recmart.realtime.loader import load_snapshot
from recmart.realtime.store.base import StoreError
from recmart.realtime.store.dynamodb import DynamoDBStore, default_client
from recmart.realtime.store.dynamodb_tables import TABLE_KEYS, DynamoTables, create_tables

from .conftest import REGION, BotoCallCounter
from .factories import at, click, kinesis_batch, neighbour_rows, product_rows, trending_rows


def test_store_calls_per_batch_do_not_grow_with_history_or_neighbours(dynamodb_client, dynamodb_store):
    load_snapshot(dynamodb_store, neighbour_rows(300, 50), trending_rows("all", ["P1"]), "v1",
                  products=product_rows(300))
    counter = BotoCallCounter(dynamodb_client)
    handler = Handler(dynamodb_store, SqsDeadLetters(client=object()), HandlerConfig(item_cache_size=0))

    def calls_for(batch_no: int, users: int, events_per_user: int) -> dict:
        clicks = [click(f"b{batch_no}-{u}-{e}", f"P{(u * 31 + (e + 2 * batch_no) * 7) % 300}", user_id=f"user{u}",
                        event_time=at(e % 60, hour=10 + batch_no)) for u in range(users) for e in range(events_per_user)]
        counter.reset()
        assert handler.process(kinesis_batch(clicks)[0]).failures == []
        return dict(counter.calls)

    one_each = calls_for(0, users=50, events_per_user=2)
    deep = calls_for(1, users=50, events_per_user=2)  # now each user has 4 events: more seeds
    # One batched read of histories, one of items (<= 100 seeds per call), one of trending,
    # and one write each of history and recommendations per user: never a read per product.
    assert one_each == {"GetItem": 1, "BatchGetItem": 3, "PutItem": 100}  # pointer, then 1 + 1 + 1 batches
    # The pointer is cached for a minute, trending for the generation; items (cache off here)
    # take ceil(seeds / 100) calls: 50 users x 4 products.
    assert deep == {"BatchGetItem": 1 + 2, "PutItem": 100}


def test_sqs_dead_letters_arrive_in_the_queue(aws):
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName=names.REALTIME_DLQ)["QueueUrl"]
    sink = SqsDeadLetters(client=sqs)
    letters = [DeadLetter(f"shard:{n}", "not_json", "bad", str(n), "u1", "arn", "e30=", False, "t")
               for n in range(12)]
    sink.send(letters)  # two SendMessageBatch calls of at most 10
    got = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        got += [json.loads(m["Body"])["id"] for m in messages]
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                          for i, m in enumerate(messages)])
    assert sorted(got) == sorted(d.id for d in letters)


def test_sqlite_dead_letters_keep_one_row_per_record(tmp_path):
    sink = SqliteDeadLetters(tmp_path / "dead.sqlite")
    letter = DeadLetter("shard:1", "not_json", "bad", "1", None, None, "e30=", False, "t")
    sink.send([letter])
    sink.send([letter])  # a redelivered batch
    assert [d["id"] for d in sink.read()] == ["shard:1"]


def test_tables_have_the_keys_and_ttl_terraform_declares(dynamodb_client):
    for field_name, (hash_key, ttl) in TABLE_KEYS.items():
        name = getattr(DynamoTables(), field_name)
        table = dynamodb_client.describe_table(TableName=name)["Table"]
        assert table["KeySchema"] == [{"AttributeName": hash_key, "KeyType": "HASH"}]
        described = dynamodb_client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert (described.get("AttributeName") if described["TimeToLiveStatus"] == "ENABLED" else None) == ttl
    assert DynamoTables().recommendations == names.DDB_RECOMMENDATIONS


# ---- retries: botocore's for failed calls, a new round for unprocessed keys and items ------------
class _HalfProcessed:
    """A DynamoDB client that processes only the first half of each batch call's keys or
    items (at least one), and reports the rest unprocessed, as a throttled table does."""

    def __init__(self, client) -> None:
        self._client = client
        self.calls: dict[str, list[int]] = {"BatchGetItem": [], "BatchWriteItem": []}

    def batch_get_item(self, RequestItems):
        ((table, request),) = RequestItems.items()
        keys = request["Keys"]
        self.calls["BatchGetItem"].append(len(keys))
        done, left = keys[: max(1, len(keys) // 2)], keys[max(1, len(keys) // 2):]
        answer = self._client.batch_get_item(RequestItems={table: {**request, "Keys": done}})
        answer["UnprocessedKeys"] = {table: {**request, "Keys": left}} if left else {}
        return answer

    def batch_write_item(self, RequestItems):
        ((table, items),) = RequestItems.items()
        self.calls["BatchWriteItem"].append(len(items))
        done, left = items[: max(1, len(items) // 2)], items[max(1, len(items) // 2):]
        self._client.batch_write_item(RequestItems={table: done})
        return {"UnprocessedItems": {table: left} if left else {}}

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_unprocessed_keys_and_items_are_sent_again_until_every_one_is_done(dynamodb_client):
    half = _HalfProcessed(dynamodb_client)
    store = DynamoDBStore(client=half)
    load_snapshot(store, neighbour_rows(30, 3), trending_rows("all", ["P1"]), "v1", products=product_rows(30))
    # BatchWriter: 25 items a call, the unprocessed ones first in the next; nothing is lost.
    assert half.calls["BatchWriteItem"] and max(half.calls["BatchWriteItem"]) <= 25
    snapshot = store.current_snapshot()
    half.calls["BatchGetItem"].clear()
    items = store.get_items([f"P{i}" for i in range(30)] + ["nope"], snapshot)
    assert sorted(items) == sorted(f"P{i}" for i in range(30))
    assert half.calls["BatchGetItem"] == [31, 16, 8, 4, 2, 1]  # each round asks for what is left
    assert items["P7"].neighbours[0][0] == "P8"


def _throttle(client, operation: str, times: int | None) -> list[int]:
    """Answer the next `times` (None: every) `operation` calls with a throttling error; the list
    counts the throttled calls. (botocore still hands each request to moto's handler too, which
    is why only a read is throttled here.)"""
    throttled: list[int] = []

    def answer(request, **_):
        if times is not None and len(throttled) >= times:
            return None
        throttled.append(1)
        body = b'{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}'
        raw = type("Raw", (), {"stream": lambda self, **_: iter([body]), "read": lambda self, *_: body})()
        return AWSResponse(request.url, 400, {"x-amzn-ErrorType": "ProvisionedThroughputExceededException"}, raw)

    client.meta.events.register_first(f"before-send.dynamodb.{operation}", answer)
    return throttled


def test_the_lambdas_client_retries_a_throttled_call_and_a_call_that_never_succeeds_names_itself(aws):
    client = default_client(REGION)
    create_tables(client)
    store = DynamoDBStore(client=client)
    throttled = _throttle(client, "BatchGetItem", times=2)
    assert store.get_histories(["u1"])["u1"].revision == 0  # third attempt of the call: moto's answer
    assert len(throttled) == 2

    always = _throttle(client, "BatchGetItem", times=None)
    with pytest.raises(StoreError, match=r"dynamodb BatchGetItem recmart-recent-history: .*ProvisionedThroughputExceeded"):
        store.get_histories(["u1"])
    # The call and botocore's 3 retries (max_attempts counts retries); then the handler reports
    # the user's records in batchItemFailures (test_handler.py) and Kinesis redelivers them.
    assert len(always) == 4
