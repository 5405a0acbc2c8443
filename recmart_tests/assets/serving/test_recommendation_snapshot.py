"""The recommendation_snapshot asset: day D's neighbours and trending loaded into the store
as one version, only what changed written, an older day never rolling the store back."""

from __future__ import annotations

import uuid
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recmart.assets.serving.recommendation_snapshot import recommendation_snapshot
from recmart.realtime.store.factory import open_store
from recmart.resources.lake import LocalLake
from recmart.resources.recommendation_store import RecommendationStoreResource
from recmart.tables import CURATED_ITEM_NEIGHBOURS, CURATED_TRENDING_PRODUCTS, RAW_PRODUCTS
from recmart_tests.realtime.factories import neighbour_rows, product_rows, trending_rows

D1, D2, D3 = "2026-11-18", "2026-11-19", "2026-11-20"


def publish(lake: LocalLake, table, day: str, rows: list[dict]) -> None:
    """A partition as the marts publish it: staged, then swapped in."""
    staging = lake.new_staging(table, day, uuid.uuid4().hex)
    columns = {c: [r.get(c) for r in rows] for c in table.column_names}
    Path(staging).mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pydict(columns, schema=table.arrow_schema()), f"{staging}/part-0.parquet")
    lake.publish(table, day, staging)


def publish_day(lake: LocalLake, day: str, neighbours: list[dict], trending: list[dict], products=None) -> None:
    publish(lake, CURATED_ITEM_NEIGHBOURS, day, neighbours)
    publish(lake, CURATED_TRENDING_PRODUCTS, day, trending)
    if products is not None:
        publish(lake, RAW_PRODUCTS, day, products)


def materialize(lake: LocalLake, store_url: str, day: str) -> dict:
    result = dg.materialize([recommendation_snapshot], partition_key=day, resources={
        "lake": lake, "recommendation_store": RecommendationStoreResource(url=store_url)})
    assert result.success
    return {k: v.value for k, v in result.asset_materializations_for_node("recommendation_snapshot")[0].metadata.items()}


@pytest.fixture(params=["sqlite", "dynamodb"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'recs.sqlite'}"
    request.getfixturevalue("dynamodb_client")  # moto, with the tables Terraform creates
    return "dynamodb://eu-west-1"


def test_a_day_is_loaded_then_reloaded_as_a_no_op_and_an_older_day_is_skipped(tmp_path, store_url):
    lake = LocalLake(root=str(tmp_path / "lake"))
    publish_day(lake, D1, neighbour_rows(6, 2), trending_rows("all", ["P1"]), product_rows(6))
    publish_day(lake, D2, neighbour_rows(6, 3), trending_rows("all", ["P2", "P3"])
                + trending_rows("master_category=Footwear", ["P3"]), product_rows(6))

    loaded = materialize(lake, store_url, D2)
    assert loaded["loaded"] is True and loaded["serving_version"] == D2
    assert (loaded["products"], loaded["scopes"], loaded["dagster/row_count"]) == (6, 2, 6 * 3 + 3)
    store = open_store(store_url)
    snapshot = store.current_snapshot()
    assert snapshot.version == D2
    item = store.get_items(["P3"], snapshot)["P3"]
    assert (item.name, item.category, [n for n, _ in item.neighbours]) == ("Product 3", "Footwear", ["P4", "P5", "P0"])
    assert [p for p, _ in store.get_trending(["master_category=Footwear"], snapshot)["master_category=Footwear"]] == ["P3"]

    again = materialize(lake, store_url, D2)  # the same day again: nothing written
    assert again["loaded"] is False and again["item_writes"] == 0 and again["trending_writes"] == 0

    older = materialize(lake, store_url, D1)  # a backfill of an older day leaves the website alone
    assert older == {"loaded": False, "serving_version": D2, "serving_generation": snapshot.generation}
    assert store.current_snapshot().version == D2
    store.close()


def test_only_the_products_whose_lists_changed_are_written(tmp_path, store_url):
    lake = LocalLake(root=str(tmp_path / "lake"))
    day2 = neighbour_rows(10, 2)
    publish_day(lake, D2, day2, trending_rows("all", ["P1"]), product_rows(10))
    materialize(lake, store_url, D2)
    # Day 3: P0's list changes and P9 drops out; everything else is the same.
    day3 = [r for r in day2 if r["product_id"] != "P9"]
    day3 = [{**r, "score": 0.25} if (r["product_id"], r["rank"]) == ("P0", 2) else r for r in day3]
    publish_day(lake, D3, day3, trending_rows("all", ["P1"]), product_rows(10))
    loaded = materialize(lake, store_url, D3)
    # P9 keeps its name and category (it is still in the catalogue) but loses its neighbours.
    assert (loaded["items_updated"], loaded["items_unchanged"], loaded["item_writes"]) == (2, 8, 2)
    assert loaded["trending_writes"] == 0
    store = open_store(store_url)
    items = store.get_items(["P0", "P9"], store.current_snapshot())
    assert items["P0"].neighbours == (("P1", 1.0), ("P2", 0.25)) and items["P9"].neighbours == ()
    store.close()


def test_the_daily_load_deletes_expired_user_rows_from_the_local_store(tmp_path):
    """The local store has no TTL of its own: what DynamoDB would have expired goes at the load."""
    import time

    from recmart.realtime.history import UserHistory
    from recmart.realtime.store.sqlite import SqliteStore

    url = f"sqlite:///{tmp_path / 'recs.sqlite'}"
    now = int(time.time())
    with SqliteStore(str(tmp_path / "recs.sqlite")) as store:
        for user, ttl in (("gone", now - 10), ("kept", now + 3600)):
            store.save_history(UserHistory(user, ()), ttl)
    lake = LocalLake(root=str(tmp_path / "lake"))
    publish_day(lake, D1, neighbour_rows(6, 2), trending_rows("all", ["P1"]), product_rows(6))
    assert materialize(lake, url, D1)["expired_rows_deleted"] == 1
    with SqliteStore(str(tmp_path / "recs.sqlite")) as store:
        assert store.get_history("gone").events == () and store.get_history("gone").revision == 0
        assert store.get_history("kept").revision == 1


def test_a_day_without_marts_fails_and_names_the_missing_tables(tmp_path):
    lake = LocalLake(root=str(tmp_path / "lake"))
    publish(lake, CURATED_ITEM_NEIGHBOURS, D2, neighbour_rows(3, 1))
    with pytest.raises(dg.Failure, match="no partition 2026-11-19 of curated_trending_products"):
        dg.materialize([recommendation_snapshot], partition_key=D2, resources={
            "lake": lake, "recommendation_store": RecommendationStoreResource(url=f"sqlite:///{tmp_path / 'r.sqlite'}")})


def test_a_bad_store_url_is_refused_naming_the_setting():
    from recmart.config import SettingError, load_settings

    with pytest.raises(SettingError, match="RECMART_RECS_STORE='redis://x'"):
        load_settings({"RECMART_RECS_STORE": "redis://x"})
    assert load_settings({"RECMART_RECS_STORE": "dynamodb://eu-west-1"}).recs_store == "dynamodb://eu-west-1"
