"""The sample store's catalogue: generated, with the columns of the public fashion catalogue.

A fresh machine has no catalogue, so one is generated from a seed. The public catalogue
(see `recmart.sample.kaggle`) has no prices, so both get the same deterministic price per
article type, varied per product by a hash of its id.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
from faker import Faker

from recmart.sample.hashing import hash64, unit_floats
from recmart.tables import RAW_PRODUCTS

# (master_category, sub_category, article_type, genders, base price EUR, usages, name noun, share)
_TAXONOMY = (
    ("Apparel", "Topwear", "Tshirts", ("Men", "Women", "Boys", "Girls"), 19, ("Casual", "Sports"), "T-shirt", 14),
    ("Apparel", "Topwear", "Shirts", ("Men", "Women"), 39, ("Casual", "Formal", "Smart Casual"), "Shirt", 7),
    ("Apparel", "Topwear", "Tops", ("Women", "Girls"), 25, ("Casual", "Party"), "Top", 4),
    ("Apparel", "Topwear", "Kurtas", ("Men", "Women"), 35, ("Ethnic",), "Kurta", 4),
    ("Apparel", "Topwear", "Sweatshirts", ("Men", "Women", "Unisex"), 45, ("Casual", "Sports"), "Sweatshirt", 1),
    ("Apparel", "Topwear", "Sweaters", ("Men", "Women"), 55, ("Casual",), "Sweater", 1),
    ("Apparel", "Topwear", "Jackets", ("Men", "Women"), 89, ("Casual", "Sports"), "Jacket", 1),
    ("Apparel", "Bottomwear", "Jeans", ("Men", "Women"), 59, ("Casual",), "Jeans", 2),
    ("Apparel", "Bottomwear", "Trousers", ("Men", "Women"), 49, ("Casual", "Formal"), "Trousers", 1),
    ("Apparel", "Bottomwear", "Shorts", ("Men", "Women", "Boys"), 29, ("Casual", "Sports"), "Shorts", 1),
    ("Apparel", "Bottomwear", "Track Pants", ("Men", "Women"), 35, ("Sports",), "Track Pants", 1),
    ("Apparel", "Bottomwear", "Skirts", ("Women", "Girls"), 35, ("Casual",), "Skirt", 1),
    ("Apparel", "Bottomwear", "Leggings", ("Women",), 19, ("Casual",), "Leggings", 1),
    ("Apparel", "Dress", "Dresses", ("Women", "Girls"), 59, ("Casual", "Party"), "Dress", 2),
    ("Apparel", "Innerwear", "Briefs", ("Men",), 12, ("Casual",), "Briefs", 2),
    ("Apparel", "Innerwear", "Bra", ("Women",), 25, ("Casual",), "Bra", 1),
    ("Apparel", "Saree", "Sarees", ("Women",), 69, ("Ethnic",), "Saree", 1),
    ("Footwear", "Shoes", "Casual Shoes", ("Men", "Women", "Unisex"), 69, ("Casual",), "Casual Shoes", 6),
    ("Footwear", "Shoes", "Sports Shoes", ("Men", "Women"), 89, ("Sports",), "Sports Shoes", 4),
    ("Footwear", "Shoes", "Formal Shoes", ("Men",), 99, ("Formal",), "Formal Shoes", 1),
    ("Footwear", "Shoes", "Heels", ("Women",), 59, ("Casual", "Party"), "Heels", 3),
    ("Footwear", "Shoes", "Flats", ("Women",), 39, ("Casual",), "Flats", 1),
    ("Footwear", "Sandal", "Sandals", ("Men", "Women"), 35, ("Casual",), "Sandals", 2),
    ("Footwear", "Flip Flops", "Flip Flops", ("Men", "Women", "Unisex"), 15, ("Casual",), "Flip Flops", 2),
    ("Accessories", "Watches", "Watches", ("Men", "Women", "Unisex"), 149, ("Casual", "Formal"), "Watch", 5),
    ("Accessories", "Bags", "Handbags", ("Women",), 79, ("Casual",), "Handbag", 4),
    ("Accessories", "Bags", "Backpacks", ("Men", "Women", "Unisex"), 49, ("Casual",), "Backpack", 2),
    ("Accessories", "Bags", "Clutches", ("Women",), 39, ("Party",), "Clutch", 1),
    ("Accessories", "Eyewear", "Sunglasses", ("Men", "Women", "Unisex"), 69, ("Casual",), "Sunglasses", 2),
    ("Accessories", "Wallets", "Wallets", ("Men", "Women"), 29, ("Casual",), "Wallet", 2),
    ("Accessories", "Belts", "Belts", ("Men", "Women"), 25, ("Casual", "Formal"), "Belt", 2),
    ("Accessories", "Jewellery", "Earrings", ("Women",), 19, ("Casual", "Party"), "Earrings", 1),
    ("Accessories", "Jewellery", "Necklace and Chains", ("Women",), 29, ("Casual",), "Necklace", 1),
    ("Accessories", "Headwear", "Caps", ("Men", "Unisex"), 19, ("Casual",), "Cap", 1),
    ("Accessories", "Socks", "Socks", ("Men", "Women", "Unisex"), 9, ("Casual",), "Socks", 1),
    ("Accessories", "Ties", "Ties", ("Men",), 29, ("Formal",), "Tie", 1),
    ("Personal Care", "Fragrance", "Perfume and Body Mist", ("Men", "Women", "Unisex"), 45, ("Casual",), "Perfume", 1),
    ("Personal Care", "Fragrance", "Deodorant", ("Men", "Women"), 8, ("Casual",), "Deodorant", 1),
    ("Personal Care", "Lips", "Lipstick", ("Women",), 15, ("Casual",), "Lipstick", 1),
    ("Personal Care", "Nails", "Nail Polish", ("Women",), 7, ("Casual",), "Nail Polish", 1),
)

# Base prices (EUR) of article types of the public catalogue that the taxonomy above lacks.
_MORE_BASE_PRICES = {
    "Kurtis": 29, "Tunics": 29, "Capris": 25, "Night suits": 35, "Nightdress": 29, "Innerwear Vests": 12,
    "Trunk": 12, "Boxers": 15, "Pendant": 39, "Ring": 29, "Bangle": 25, "Bracelet": 25, "Jewellery Set": 59,
    "Lip Gloss": 12, "Lip Liner": 9, "Kajal and Eyeliner": 9, "Compact": 14, "Foundation and Primer": 19,
    "Highlighter and Blush": 15, "Scarves": 19, "Stoles": 22, "Mufflers": 19, "Cufflinks": 25, "Dupatta": 19,
    "Kurta Sets": 69, "Laptop Bag": 59, "Duffel Bag": 59, "Messenger Bag": 45, "Sports Sandals": 39,
    "Accessory Gift Set": 39, "Fragrance Gift Set": 59, "Free Gifts": 5, "Blazers": 119, "Suits": 199,
    "Waistcoat": 49, "Jumpsuit": 59, "Tracksuits": 79, "Lounge Pants": 25, "Rain Jacket": 59,
    "Basketballs": 29, "Footballs": 25, "Water Bottle": 12, "Umbrellas": 19, "Gloves": 15,
}
_MASTER_BASE_PRICES = {
    "Apparel": 35, "Accessories": 29, "Footwear": 59, "Personal Care": 12,
    "Free Items": 5, "Sporting Goods": 29, "Home": 25,
}
_DEFAULT_BASE_PRICE = 29
BASE_PRICES = {row[2]: row[4] for row in _TAXONOMY} | _MORE_BASE_PRICES

_COLOURS = (
    "Black", "White", "Blue", "Navy Blue", "Grey", "Red", "Green", "Brown", "Pink", "Purple", "Beige",
    "Silver", "Yellow", "Maroon", "Olive", "Gold", "Orange", "Cream", "Charcoal", "Multi",
)
_COLOUR_SHARES = np.array([20, 11, 10, 4, 6, 5, 4, 7, 4, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1], dtype=float)
_SEASONS = ("Summer", "Fall", "Winter", "Spring")
_SEASON_SHARES = np.array([48, 26, 19, 7], dtype=float)


def price_cents(product_ids, article_types, master_categories) -> np.ndarray:
    """A plausible, deterministic price per product in whole cents (always ending in 99 cents).

    The article type gives the base price (the master category when the type is unknown);
    a hash of the product id spreads it from 0.6x to 1.8x, so prices are stable per product.
    """
    base = np.array(
        [
            BASE_PRICES.get(a) or _MASTER_BASE_PRICES.get(m) or _DEFAULT_BASE_PRICE
            for a, m in zip(article_types, master_categories, strict=True)
        ],
        dtype=np.float64,
    )
    spread = 0.6 * 3.0 ** unit_floats(hash64(product_ids, "price"), 0)
    euros = np.maximum(np.rint(base * spread), 3)
    return euros.astype(np.int64) * 100 - 1


def catalogue_table(columns: dict[str, list]) -> pa.Table:
    """Product columns (price in cents) -> a table of the raw products schema (price decimal)."""
    cents = columns.pop("price_cents")
    columns["price"] = [None if c is None or c < 0 else Decimal(int(c)).scaleb(-2) for c in cents]
    schema = RAW_PRODUCTS.arrow_schema()
    return pa.Table.from_pydict({name: columns[name] for name in schema.names}, schema=schema)


def generate_catalogue(products: int, seed: int) -> pa.Table:
    """`products` products shaped like the public fashion catalogue, the same for the same seed."""
    if products < 1:
        raise ValueError(f"a catalogue needs at least one product, got {products}")
    rng = np.random.default_rng([seed, 0xCA7A])
    faker = Faker("en_US")
    faker.seed_instance(seed)
    brands = sorted({faker.last_name() for _ in range(200)})[:60]

    shares = np.array([row[7] for row in _TAXONOMY], dtype=float)
    kind = rng.choice(len(_TAXONOMY), size=products, p=shares / shares.sum())
    colour = rng.choice(len(_COLOURS), size=products, p=_COLOUR_SHARES / _COLOUR_SHARES.sum())
    season = rng.choice(len(_SEASONS), size=products, p=_SEASON_SHARES / _SEASON_SHARES.sum())
    year = rng.integers(2012, 2025, size=products)
    brand = rng.integers(0, len(brands), size=products)
    pick = rng.random((products, 2))
    # Like the public catalogue, a few products lack a season or a usage.
    no_season = rng.random(products) < 0.001
    no_usage = rng.random(products) < 0.005

    product_ids = [str(100001 + i) for i in range(products)]
    cols: dict[str, list] = {k: [] for k in RAW_PRODUCTS.column_names if k != "price"}
    for i, pid in enumerate(product_ids):
        master, sub, article, genders, _, usages, noun, _ = _TAXONOMY[kind[i]]
        gender = genders[int(pick[i, 0] * len(genders))]
        colour_name = _COLOURS[colour[i]]
        cols["product_id"].append(pid)
        cols["name"].append(f"{brands[brand[i]]} {gender} {colour_name} {noun}")
        cols["gender"].append(gender)
        cols["master_category"].append(master)
        cols["sub_category"].append(sub)
        cols["article_type"].append(article)
        cols["base_colour"].append(colour_name)
        cols["season"].append(None if no_season[i] else _SEASONS[season[i]])
        cols["year"].append(int(year[i]))
        cols["usage"].append(None if no_usage[i] else usages[int(pick[i, 1] * len(usages))])
    cols["price_cents"] = price_cents(product_ids, cols["article_type"], cols["master_category"]).tolist()
    return catalogue_table(cols)
