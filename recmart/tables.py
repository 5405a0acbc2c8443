"""Every lake table, defined once. Spark, Parquet, DuckDB and Glue schemas derive from these.

A table has one name, `<layer>_<name>` (`Table.sql_name`): its DuckDB view, its Glue table,
the key of the Dagster asset that writes it (`Table.asset_key`) and, upper-cased, its
constant here; its folder in the lake is `<layer>/<name>` (`Table.path`).
"""

from __future__ import annotations

from recmart.schema import Column as C
from recmart.schema import Table

# The click-event fields of the contract (DESIGN.md), in contract order.
CLICK_FIELDS = (
    "event_id", "event_type", "event_time", "session_id", "user_id", "product_id", "price",
    "device", "page_url", "referrer", "user_agent", "ip",
)
REQUIRED_CLICK_FIELDS = ("event_id", "event_type", "event_time", "session_id", "product_id")
EVENT_TYPES = ("view", "add_to_cart", "remove_from_cart")

# ---- raw ---------------------------------------------------------------------------------
RAW_CLICKSTREAM = Table(
    layer="raw",
    name="clickstream",
    doc="Every landed clickstream line, as landed (schema-on-read: each field read as text). "
    "Partitioned by the landing day, then by the day the record is assigned to "
    "(its event day, or the landing day when it has none).",
    partition_column="arrival_date",
    subpartition_column="event_date",
    columns=(
        C("record", "string", False, "the line exactly as landed (unknown extra fields included)"),
        C("source_file", "string", False, "landing key the line came from"),
        C("arrival_time", "timestamp", False, "arrival time from the Firehose file name (UTC)"),
        C("corrupt", "bool", False, "the line is not a JSON object"),
        *(C(f, "string", True, f"`{f}` as landed, as text") for f in CLICK_FIELDS),
    ),
)

RAW_TRANSACTIONS = Table(
    layer="raw",
    name="transactions",
    doc="The nightly export of orders created on the day (UTC), one row per order item; "
    "an order without items has one row with null item fields.",
    key=("order_id", "line_no"),
    columns=(
        C("order_id", "string", False),
        C("user_id", "string", True),
        C("created_at", "timestamp", False),
        C("status", "string", False),
        C("line_no", "int32", True),
        C("product_id", "string", True),
        C("quantity", "int32", True),
        C("unit_price", "money", True),
    ),
)

RAW_PRODUCTS = Table(
    layer="raw",
    name="products",
    doc="Snapshot of the product catalog taken for the day.",
    key=("product_id",),
    columns=(
        C("product_id", "string", False),
        C("name", "string", True),
        C("gender", "string", True),
        C("master_category", "string", True),
        C("sub_category", "string", True),
        C("article_type", "string", True),
        C("base_colour", "string", True),
        C("season", "string", True),
        C("year", "int32", True),
        C("usage", "string", True),
        C("price", "money", True),
    ),
)

RAW_USERS = Table(
    layer="raw",
    name="users",
    doc="Snapshot of the store's users taken for the day; email hashed, name left out.",
    key=("user_id",),
    columns=(
        C("user_id", "string", False),
        C("email_hash", "string", True),
        C("gender", "string", True),
        C("birth_year", "int32", True),
        C("city", "string", True),
        C("country", "string", True),
        C("signup_at", "timestamp", True),
    ),
)

# ---- quarantine --------------------------------------------------------------------------
QUARANTINE_CLICKSTREAM = Table(
    layer="quarantine",
    name="clickstream",
    doc="Landed click records rejected by cleaning, with the reason.",
    may_be_empty=True,
    columns=(
        C("record", "string", False),
        C("source_file", "string", False),
        C("arrival_time", "timestamp", False),
        C("reason", "string", False, "machine-readable reason, e.g. missing_field"),
        C("detail", "string", True, "what exactly was wrong"),
        C("event_id", "string", True),
    ),
)

# ---- curated -----------------------------------------------------------------------------
CURATED_CLEANED_EVENTS = Table(
    layer="curated",
    name="cleaned_events",
    doc="Validated, UTC-normalised click events, one per event_id and day; ip and user agent hashed.",
    key=("event_id",),
    columns=(
        C("event_id", "string", False),
        C("event_type", "string", False),
        C("event_time", "timestamp", False),
        C("session_id", "string", False),
        C("user_id", "string", True, "null for anonymous visitors"),
        C("product_id", "string", False),
        C("price", "double", True),
        C("device", "string", True),
        C("page_url", "string", True),
        C("referrer", "string", True),
        C("user_agent_hash", "string", True),
        C("ip_hash", "string", True),
        C("source_file", "string", False),
        C("arrival_time", "timestamp", False),
        C("copies", "int32", False, "landed records with this event_id (more than 1: producer retries)"),
    ),
)

CURATED_INTERACTION_MATRIX = Table(
    layer="curated",
    name="interaction_matrix",
    doc="One row per (user, product) with any interaction on the day by an identified user.",
    key=("user_id", "product_id"),
    columns=(
        C("user_id", "string", False),
        C("product_id", "string", False),
        C("views", "int64", False),
        C("add_to_carts", "int64", False),
        C("remove_from_carts", "int64", False),
        C("purchases", "int64", False, "distinct orders (not cancelled) containing the product"),
        C("units", "int64", False),
        C("revenue", "money", False),
        C("first_event_time", "timestamp", False),
        C("last_event_time", "timestamp", False),
    ),
)

CURATED_INTERACTION_SCORES = Table(
    layer="curated",
    name="interaction_scores",
    doc="Time-decayed implicit-feedback score per (user, product) over the trailing window ending on the day.",
    key=("user_id", "product_id"),
    columns=(
        C("user_id", "string", False),
        C("product_id", "string", False),
        C("score", "double", False),
        C("views", "int64", False),
        C("add_to_carts", "int64", False),
        C("remove_from_carts", "int64", False),
        C("purchases", "int64", False),
        C("units", "int64", False),
        C("revenue", "money", False),
        C("active_days", "int32", False),
        C("last_event_time", "timestamp", False),
    ),
)

CURATED_ITEM_NEIGHBOURS = Table(
    layer="curated",
    name="item_neighbours",
    doc="Top-K related products per product from co-interactions over the trailing window.",
    key=("product_id", "neighbour_id"),
    columns=(
        C("product_id", "string", False),
        C("neighbour_id", "string", False),
        C("rank", "int32", False, "1 = most related"),
        C("score", "double", False),
        C("co_users", "int64", False, "users who interacted with both"),
    ),
)

CURATED_TRENDING_PRODUCTS = Table(
    layer="curated",
    name="trending_products",
    doc="Products whose weighted interactions rise against their own trailing baseline, "
    "overall (scope 'all') and per master category (scope 'master_category=<value>').",
    key=("scope", "product_id"),
    columns=(
        C("scope", "string", False),
        C("product_id", "string", False),
        C("rank", "int32", False),
        C("trend_score", "double", False),
        C("weighted_interactions", "double", False),
        C("baseline", "double", False),
    ),
)

CURATED_FASHION_TRENDS = Table(
    layer="curated",
    name="fashion_trends",
    doc="Catalogue attribute values (article type, colour, season, gender, usage) by the rise of their "
    "weighted interactions against their trailing baseline, overall (scope 'all') and per master "
    "category (scope 'master_category=<value>'); rising values first.",
    key=("scope", "attribute", "value"),
    columns=(
        C("scope", "string", False, "'all' or 'master_category=<value>'"),
        C("attribute", "string", False, "article_type, base_colour, season, gender or usage"),
        C("value", "string", False),
        C("rank", "int32", False, "1 = rising most, within (scope, attribute)"),
        C("trend_score", "double", False, "(day + prior) / (baseline + prior); above 1 = rising"),
        C("weighted_interactions", "double", False, "weighted interactions on the day"),
        C("baseline", "double", False, "mean daily weighted interactions over the trailing baseline days"),
        C("products", "int64", False, "products with this value interacted with on the day"),
    ),
)

CURATED_DAILY_SALES = Table(
    layer="curated",
    name="daily_sales",
    doc="End-of-day sales by dimension (all, master_category, article_type, gender, base_colour) from the "
    "day's orders that are not cancelled; products missing from the catalogue count under value 'unknown'.",
    key=("dimension", "value"),
    columns=(
        C("dimension", "string", False, "all, master_category, article_type, gender or base_colour"),
        C("value", "string", False, "the dimension's value ('all' for dimension all)"),
        C("orders", "int64", False, "orders with at least one item of this value"),
        C("units", "int64", False),
        C("revenue", "money", False, "sum of quantity x unit price"),
        C("buyers", "int64", False, "distinct identified users who ordered"),
        C("guest_orders", "int64", False, "orders without a user (guest checkouts)"),
        C("products", "int64", False, "distinct products sold"),
        C("cancelled_orders", "int64", False, "cancelled orders with an item of this value (not in the figures above)"),
        C("avg_basket", "money", True, "revenue / orders; null without orders"),
    ),
)

# ---- features (the offline store of the feature groups in recmart.feature_groups.groups) -------
# Every feature row of day D describes its subject as of the end of D: `event_time` is
# D+1 00:00 UTC and every value uses only data of days <= D.
_EVENT_TIME = C("event_time", "timestamp", False,
                "end of the day described (next day 00:00 UTC); every value uses only data before it")


def _counts(prefix: str, horizons: tuple[int, ...], doc: str) -> tuple[C, ...]:
    return tuple(C(f"{prefix}_{h}d", "int64", False, f"{doc} in the {h} day(s) up to the day") for h in horizons)


FEATURES_USERS = Table(
    layer="features",
    name="users",
    doc="Feature-store rows of the user feature group: one per user active in the 30 days up to the day.",
    key=("user_id",),
    columns=(
        C("user_id", "string", False, "record identifier"),
        _EVENT_TIME,
        *_counts("views", (1, 7, 30), "product views"),
        *_counts("add_to_carts", (1, 7, 30), "add-to-cart events"),
        *_counts("purchases", (1, 7, 30), "purchases (distinct order x product)"),
        C("units_30d", "int64", False, "units bought in the 30 days up to the day"),
        C("revenue_7d", "money", False, "revenue of the user's purchases in the 7 days up to the day"),
        C("revenue_30d", "money", False, "revenue of the user's purchases in the 30 days up to the day"),
        C("distinct_products_7d", "int64", False, "products interacted with in the 7 days up to the day"),
        C("distinct_products_30d", "int64", False, "products interacted with in the 30 days up to the day"),
        C("active_days_30d", "int32", False, "days with any interaction among the last 30"),
        C("favourite_master_category", "string", True,
          "master category with the most weighted interactions (30 days)"),
        C("favourite_article_type", "string", True, "article type with the most weighted interactions (30 days)"),
        C("favourite_colour", "string", True, "base colour with the most weighted interactions (30 days)"),
        C("days_since_last_purchase", "int32", True, "0 = bought on the day; null = no purchase in 30 days"),
        C("days_since_last_event", "int32", False, "recency: 0 = active on the day"),
        C("last_event_time", "timestamp", False, "the user's latest interaction up to the day"),
    ),
)

FEATURES_ITEMS = Table(
    layer="features",
    name="items",
    doc="Feature-store rows of the item feature group: one per product of the day's catalogue "
    "or with interactions in the 30 days up to the day.",
    key=("product_id",),
    columns=(
        C("product_id", "string", False, "record identifier"),
        _EVENT_TIME,
        *_counts("views", (1, 7, 30), "views"),
        *_counts("add_to_carts", (1, 7, 30), "add-to-cart events"),
        *_counts("purchases", (1, 7, 30), "purchases (distinct orders)"),
        *_counts("users", (1, 7, 30), "distinct identified users interacting"),
        C("units_30d", "int64", False, "units sold to identified users in the 30 days up to the day"),
        C("revenue_30d", "money", False, "revenue from identified users in the 30 days up to the day"),
        C("cart_rate_30d", "double", True, "add_to_carts_30d / views_30d; null without views"),
        C("purchase_rate_30d", "double", True, "purchases_30d / views_30d; null without views"),
        C("buyer_share_30d", "double", True, "share of the 30-day users who bought it; null without users"),
        C("trend_score", "double", False, "smoothed rise of the day's weighted interactions against the "
          "trailing baseline (as in trending_products); 1 = flat"),
        C("in_catalogue", "int32", False, "1 when the product is in the day's catalogue snapshot, else 0"),
        C("gender", "string", True),
        C("master_category", "string", True),
        C("sub_category", "string", True),
        C("article_type", "string", True),
        C("base_colour", "string", True),
        C("season", "string", True),
        C("year", "int32", True),
        C("usage", "string", True),
        C("price", "money", True),
    ),
)

FEATURES_INTERACTIONS = Table(
    layer="features",
    name="interactions",
    doc="Feature-store rows of the interaction feature group: one per (user, product) with any "
    "interaction in the 30 days up to the day.",
    key=("record_id",),
    columns=(
        C("record_id", "string", False, "record identifier: <user_id>#<product_id>"),
        C("user_id", "string", False),
        C("product_id", "string", False),
        _EVENT_TIME,
        C("score", "double", True, "the pair's interaction score of the day; null outside the score window"),
        C("score_rank", "int32", True, "rank of the product among the user's by score (1 = best)"),
        *_counts("views", (1, 7, 30), "views"),
        C("add_to_carts_30d", "int64", False, "add-to-cart events in the 30 days up to the day"),
        C("remove_from_carts_30d", "int64", False, "remove-from-cart events in the 30 days up to the day"),
        C("purchases_30d", "int64", False, "purchases (distinct orders) in the 30 days up to the day"),
        C("units_30d", "int64", False, "units bought in the 30 days up to the day"),
        C("revenue_30d", "money", False, "revenue in the 30 days up to the day"),
        C("active_days_30d", "int32", False, "days with an interaction among the last 30"),
        C("days_since_last_interaction", "int32", False, "0 = interacted on the day"),
        C("last_event_time", "timestamp", False),
    ),
)

CURATED_RECOMMENDATION_QUALITY = Table(
    layer="curated",
    name="recommendation_quality",
    doc="What the real-time scorer would have served after each event of the day (snapshot of the day "
    "before), judged against the user's next event: the next-interaction protocol of recmart evaluate.",
    key=("recommender", "scope"),
    columns=(
        C("recommender", "string", False, "served_blend, a session source alone, item_neighbours or popularity"),
        C("scope", "string", False, "all (every position) or next_is_other (next event another product, "
                                    "current product removed from every list)"),
        C("positions", "int64", False, "events judged: each but a user's last of the day"),
        C("users_active", "int64", False, "identified users with an event on the day"),
        C("users_judged", "int64", False, "sampled users with at least one position"),
        C("hr_at_10", "double", True, "share of positions whose next product is in the top 10"),
        C("hr_at_20", "double", True, "share of positions whose next product is in the top 20"),
        C("mrr_at_20", "double", True, "mean 1 / rank of the next product (0 beyond 20)"),
        C("ndcg_at_20", "double", True, "mean 1 / log2(rank + 1) of the next product (0 beyond 20)"),
        C("coverage", "double", True, "distinct products in any list / products clicked in the window"),
        C("popularity_bias", "double", True, "mean over lists of each product's clicks / the top product's"),
    ),
)

TABLES: tuple[Table, ...] = (
    RAW_CLICKSTREAM, RAW_TRANSACTIONS, RAW_PRODUCTS, RAW_USERS, QUARANTINE_CLICKSTREAM,
    CURATED_CLEANED_EVENTS, CURATED_INTERACTION_MATRIX, CURATED_INTERACTION_SCORES,
    CURATED_ITEM_NEIGHBOURS, CURATED_TRENDING_PRODUCTS, CURATED_FASHION_TRENDS, CURATED_DAILY_SALES,
    FEATURES_USERS, FEATURES_ITEMS, FEATURES_INTERACTIONS, CURATED_RECOMMENDATION_QUALITY,
)
