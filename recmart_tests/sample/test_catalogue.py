"""The generated catalogue and the importer of the public catalogue's Kaggle layout."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from recmart.sample.catalogue import generate_catalogue, price_cents
from recmart.sample.kaggle import CatalogueError, load_kaggle_catalogue
from recmart.tables import RAW_PRODUCTS

# shared/ sits beside the repository root.
REAL_CATALOGUE = Path(__file__).resolve().parents[3] / "shared" / "data" / "fashion-catalogue"


def test_generated_catalogue_is_deterministic_and_shaped_like_the_public_one():
    first = generate_catalogue(400, seed=7)
    assert first.schema == RAW_PRODUCTS.arrow_schema()
    assert first.equals(generate_catalogue(400, seed=7))
    assert not first.equals(generate_catalogue(400, seed=8))
    rows = first.to_pylist()
    assert len({r["product_id"] for r in rows}) == 400
    assert {r["gender"] for r in rows} <= {"Men", "Women", "Boys", "Girls", "Unisex"}
    assert {r["master_category"] for r in rows} >= {"Apparel", "Footwear", "Accessories"}
    assert all(r["price"] > 0 and r["price"].as_tuple().exponent == -2 for r in rows)
    assert all(r["name"] and r["article_type"] and r["base_colour"] for r in rows)


def test_prices_are_stable_per_product_and_follow_the_article_type():
    ids = [str(i) for i in range(1000)]
    watches = price_cents(ids, ["Watches"] * 1000, ["Accessories"] * 1000)
    socks = price_cents(ids, ["Socks"] * 1000, ["Accessories"] * 1000)
    assert (watches == price_cents(ids, ["Watches"] * 1000, ["Accessories"] * 1000)).all()
    assert watches.mean() > 5 * socks.mean()
    assert (watches % 100 == 99).all() and (socks >= 299).all()
    unknown = price_cents(["1"], ["Hoverboards"], ["Gadgets"])
    assert unknown[0] > 0


QUIRKY_STYLES = (
    "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage\r\n"
    "15970,Men,Apparel,Topwear,Shirts,Navy Blue,Fall,2011,Casual\r\n"
    "39386,Men,Apparel,Bottomwear,Jeans,Blue,,,NA\r\n"  # missing season and year, usage "NA"
    "not-an-id,Women,Apparel,Topwear,Tops,Red,Summer,2012,Casual\r\n"
    "59263,Women,Accessories,Watches,Watches,Silver,Winter,2016.0,Casual\r\n"
    "21379,Men,Apparel\r\n"  # cut short
    "15970,Men,Apparel,Topwear,Shirts,White,Fall,2011,Casual\r\n"  # repeated id
    "\r\n"
    "53759, Men ,Apparel,Topwear,Tshirts,Grey,Summer,2012,Casual\r\n"
)
QUIRKY_TEXT = (
    "productDisplayName\r\n"
    "Turtle Check Men Navy Blue Shirt\r\n"
    '"Peter England Men Party Blue Jeans, Slim"\r\n'
    "Some Top\r\n"
    "Titan Women Silver Watch\r\n"
    "Cut Row\r\n"
    "Duplicate Shirt\r\n"
    "Grey Tshirt\r\n"
    "\r\n"
)


def test_kaggle_layout_with_quirks(tmp_path):
    (tmp_path / "styles.csv").write_bytes(QUIRKY_STYLES.encode())
    (tmp_path / "styles_text.csv").write_bytes(QUIRKY_TEXT.encode())
    imported = load_kaggle_catalogue(tmp_path)

    assert imported.rows_read == 7
    assert imported.skipped == {"bad_id": 1, "wrong_field_count": 1, "duplicate_id": 1}
    assert imported.table.schema == RAW_PRODUCTS.arrow_schema()
    rows = {r["product_id"]: r for r in imported.table.to_pylist()}
    assert list(rows) == ["15970", "39386", "59263", "53759"]
    assert rows["15970"]["name"] == "Turtle Check Men Navy Blue Shirt"
    assert rows["39386"]["name"] == "Peter England Men Party Blue Jeans, Slim"
    assert rows["39386"]["season"] is None and rows["39386"]["year"] is None and rows["39386"]["usage"] is None
    assert rows["59263"]["year"] == 2016 and rows["53759"]["gender"] == "Men"
    assert rows["53759"]["name"] == "Grey Tshirt"
    assert all(isinstance(r["price"], Decimal) and r["price"] > 0 for r in rows.values())


def test_kaggle_single_file_layout_rejoins_names_with_commas(tmp_path):
    (tmp_path / "styles.csv").write_text(
        "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName\n"
        "1,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,Roadster Men Blue Shirt\n"
        "2,Women,Apparel,Dress,Dresses,Red,Summer,2012,Party,Dress, Red, Long\n"
    )
    names = [r["name"] for r in load_kaggle_catalogue(tmp_path).table.to_pylist()]
    assert names == ["Roadster Men Blue Shirt", "Dress, Red, Long"]


def test_kaggle_names_that_do_not_line_up_are_not_trusted(tmp_path):
    (tmp_path / "styles.csv").write_bytes(QUIRKY_STYLES.encode())
    (tmp_path / "styles_text.csv").write_text("productDisplayName\nOnly One\n")
    imported = load_kaggle_catalogue(tmp_path)
    assert any("cannot be matched" in note for note in imported.notes)
    assert imported.table.to_pylist()[0]["name"] == "Men Navy Blue Shirts"


def test_not_a_catalogue(tmp_path):
    with pytest.raises(CatalogueError, match="no styles.csv"):
        load_kaggle_catalogue(tmp_path)
    (tmp_path / "styles.csv").write_text("id,colour\n1,red\n")
    with pytest.raises(CatalogueError, match="lacks columns"):
        load_kaggle_catalogue(tmp_path)


@pytest.mark.skipif(not REAL_CATALOGUE.is_dir(), reason=f"the public catalogue is not at {REAL_CATALOGUE}")
def test_real_public_catalogue():
    imported = load_kaggle_catalogue(REAL_CATALOGUE)
    table = imported.table
    assert table.schema == RAW_PRODUCTS.arrow_schema()
    assert table.num_rows + sum(imported.skipped.values()) == imported.rows_read
    assert table.num_rows > 44_000
    assert table["product_id"].null_count == 0 and len(set(table["product_id"].to_pylist())) == table.num_rows
    assert table["price"].null_count == 0 and table["name"].null_count == 0
    assert table["season"].null_count > 0  # the real file has gaps; they become nulls, not "NA"
    assert "NA" not in set(table["usage"].to_pylist())
    first = table.slice(0, 1).to_pylist()[0]
    assert (first["product_id"], first["name"], first["article_type"]) == (
        "15970", "Turtle Check Men Navy Blue Shirt", "Shirts",
    )
