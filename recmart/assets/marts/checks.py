"""Checks of the marts: well-formed neighbour and trend tables, sales that reconcile exactly
with the day's transactions, and a warning when the neighbours stop beating popularity.

Each check is a plain function of the SQL resource and the day (portable SQL: DuckDB
locally, Athena on AWS), so tests call it directly; `bind` attaches it to its asset.
"""


import datetime as dt
from decimal import Decimal

import dagster as dg

from recmart.partitions import DAILY
from recmart.resources.sql import LakeSql


def result(passed: bool, metadata: dict, failure: str, severity=dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=passed, metadata=metadata, severity=severity,
                               description=None if passed else failure)


def on(day: str) -> str:
    return f"event_date = DATE '{day}'"


def date_literal(day: str, offset: int = 0) -> str:
    return f"DATE '{(dt.date.fromisoformat(day) + dt.timedelta(days=offset)).isoformat()}'"


def bind(asset, fn, description: str, blocking: bool = True):
    """An asset check of `asset` (a definition or key) that runs `fn(lake_sql, day)`."""

    @dg.asset_check(asset=asset, name=fn.__name__, partitions_def=DAILY, blocking=blocking, description=description)
    def _bound(context: dg.AssetCheckExecutionContext, lake_sql: LakeSql):
        return fn(lake_sql, context.partition_key)

    return _bound


# ---- item neighbours --------------------------------------------------------------------------
def neighbours_well_formed(sql: LakeSql, day: str) -> dg.AssetCheckResult:
    """No product is its own neighbour, pairs are unique, ranks run 1..n, scores in (0, 1]."""
    rows, pairs, selfs, bad_scores, products, rank_gaps = sql.query(
        "SELECT count(*), count(DISTINCT (product_id, neighbour_id)), "
        "count(*) FILTER (WHERE product_id = neighbour_id), "
        "count(*) FILTER (WHERE NOT (score > 0 AND score <= 1.000001) OR co_users < 1), "
        "count(DISTINCT product_id), "
        "(SELECT count(*) FROM (SELECT product_id FROM curated_item_neighbours WHERE "
        f"{on(day)} GROUP BY product_id HAVING max(rank) <> count(*) OR min(rank) <> 1) g) "
        f"FROM curated_item_neighbours WHERE {on(day)}"
    )[1][0]
    ok = rows == pairs and selfs == 0 and bad_scores == 0 and rank_gaps == 0
    return result(ok, {"rows": rows, "products": products, "repeated_pairs": rows - pairs, "self_pairs": selfs,
                       "bad_scores": bad_scores, "products_with_rank_gaps": rank_gaps},
                  f"{rows - pairs} repeated pairs, {selfs} self pairs, {bad_scores} bad scores, "
                  f"{rank_gaps} products with gaps in their ranks")


# ---- trends -----------------------------------------------------------------------------------
def trending_well_formed(sql: LakeSql, day: str) -> dg.AssetCheckResult:
    """(scope, product) unique, every listed product rising, ranks 1..n per scope."""
    rows, keys, not_rising, scopes = sql.query(
        "SELECT count(*), count(DISTINCT (scope, product_id)), "
        "count(*) FILTER (WHERE NOT (weighted_interactions > baseline AND trend_score > 1)), count(DISTINCT scope) "
        f"FROM curated_trending_products WHERE {on(day)}"
    )[1][0]
    gaps = sql.scalar(
        f"SELECT count(*) FROM (SELECT scope FROM curated_trending_products WHERE {on(day)} "
        "GROUP BY scope HAVING max(rank) <> count(*) OR min(rank) <> 1) g"
    )
    ok = rows == keys and not_rising == 0 and gaps == 0
    return result(ok, {"rows": rows, "scopes": scopes, "repeated_keys": rows - keys, "not_rising": not_rising,
                       "scopes_with_rank_gaps": gaps},
                  f"{rows - keys} repeated (scope, product_id), {not_rising} not rising, {gaps} scopes with rank gaps")


def fashion_trends_well_formed(sql: LakeSql, day: str) -> dg.AssetCheckResult:
    rows, keys, nulls = sql.query(
        "SELECT count(*), count(DISTINCT (scope, attribute, value)), "
        "count(*) FILTER (WHERE value IS NULL OR trend_score IS NULL) "
        f"FROM curated_fashion_trends WHERE {on(day)}"
    )[1][0]
    return result(rows == keys and nulls == 0, {"rows": rows, "repeated_keys": rows - keys, "nulls": nulls},
                  f"{rows - keys} repeated (scope, attribute, value), {nulls} null values or scores")


# ---- daily sales ------------------------------------------------------------------------------
def sales_reconcile(sql: LakeSql, day: str) -> dg.AssetCheckResult:
    """The 'all' row = the day's transactions exactly; each dimension adds up to 'all'."""
    t_orders, t_units, t_revenue, t_buyers = sql.query(
        "SELECT count(DISTINCT order_id), coalesce(sum(quantity), 0), coalesce(sum(quantity * unit_price), 0), "
        "count(DISTINCT user_id) "
        f"FROM raw_transactions WHERE {on(day)} AND status <> 'cancelled' AND product_id IS NOT NULL"
    )[1][0]
    all_rows = sql.query(
        f"SELECT orders, units, revenue, buyers FROM curated_daily_sales WHERE {on(day)} AND dimension = 'all'"
    )[1]
    s_orders, s_units, s_revenue, s_buyers = all_rows[0] if all_rows else (0, 0, Decimal(0), 0)
    unbalanced = sql.query(
        "SELECT dimension, sum(units), sum(revenue) FROM curated_daily_sales "
        f"WHERE {on(day)} AND dimension <> 'all' GROUP BY dimension"
    )[1]
    off = [d for d, u, r in unbalanced if int(u) != int(s_units) or Decimal(str(r)) != Decimal(str(s_revenue))]
    got = (int(s_orders), int(s_units), Decimal(str(s_revenue)), int(s_buyers))
    want = (int(t_orders), int(t_units), Decimal(str(t_revenue)), int(t_buyers))
    ok = got == want and not off and len(all_rows) <= 1
    meta = {
        "orders": got[0], "units": got[1], "revenue": float(got[2]), "buyers": got[3],
        "transactions/orders": want[0], "transactions/units": want[1], "transactions/revenue": float(want[2]),
        "transactions/buyers": want[3], "dimensions_not_adding_up": len(off),
    }
    return result(ok, meta, f"sales {got} != transactions {want}; dimensions not adding up: {off}")


# ---- recommendation quality -------------------------------------------------------------------
def neighbours_beat_popularity(sql: LakeSql, day: str) -> dg.AssetCheckResult:
    """Warns when the item-neighbour recommender's HR@20 is not above popularity's."""
    rows = {
        r: (users, hr, mrr) for r, users, hr, mrr in sql.query(
            "SELECT recommender, users, hr_at_20, mrr_at_20 FROM curated_recommendation_quality "
            f"WHERE {on(day)}"
        )[1]
    }
    nb, pop = rows.get("item_neighbours"), rows.get("popularity")
    warn = dg.AssetCheckSeverity.WARN
    if not nb or not pop or not nb[0]:
        return dg.AssetCheckResult(passed=True, severity=warn, metadata={"users": nb[0] if nb else 0},
                                   description="no user to judge on this day (no history the day before)")
    meta = {"users": nb[0], "item_neighbours/hr_at_20": nb[1], "popularity/hr_at_20": pop[1],
            "item_neighbours/mrr_at_20": nb[2], "popularity/mrr_at_20": pop[2], "lift": nb[1] - pop[1]}
    return result(nb[1] > pop[1], meta,
                  f"item neighbours HR@20 {nb[1]:.4f} does not beat popularity's {pop[1]:.4f}", severity=warn)
