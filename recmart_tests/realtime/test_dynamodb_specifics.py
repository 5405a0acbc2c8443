"""What only the AWS side has: batched calls (no N+1), the SQS dead letters, the tables' keys and TTL."""

from __future__ import annotations

import json

import boto3

from recmart import names
from recmart.realtime.config import HandlerConfig
from recmart.realtime.dead_letters import DeadLetter, SqliteDeadLetters, SqsDeadLetters
from recmart.realtime.handler import Handler
from recmart.realtime.loader import load_snapshot
from recmart.realtime.store.dynamodb_tables import TABLE_KEYS, DynamoTables

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
