"""Checks of the marts: well-formed neighbour and trend tables, sales that reconcile exactly
with the day's transactions, and a warning when the neighbours stop beating popularity. Their
keys and not-null columns are checked by the checks generated from the tables'
definitions (`recmart.assets.table_checks`).

Each check is a plain function of the SQL resource and the day (portable SQL: DuckDB
locally, Athena on AWS), so tests call it directly; `bind` (of `recmart.assets.check_results`)
attaches it to its asset.
"""


import datetime as dt
from decimal import Decimal

import dagster as dg

from recmart.assets.check_results import date_literal, nothing_judged, on, result
from recmart.resources.sql import LakeSql


# ---- item neighbours --------------------------------------------------------------------------
def neighbours_well_formed(sql: LakeSql, day: str) -> dg.AssetCheckResult:
    """No product is its own neighbour, ranks run 1..n, scores in (0, 1]; that the pairs are
    unique is the generated key check's (`recmart.assets.table_checks`)."""
    rows, selfs, bad_scores, products, rank_gaps = sql.query(
        "SELECT count(*), "
        "count(*) FILTER (WHERE product_id = neighbour_id), "
        "count(*) FILTER (WHERE NOT (score > 0 AND score <= 1.000001) OR co_users < 1), "
        "count(DISTINCT product_id), "
        "(SELECT count(*) FROM (SELECT product_id FROM curated_item_neighbours WHERE "
        f"{on(day)} GROUP BY product_id HAVING max(rank) <> count(*) OR min(rank) <> 1) g) "
        f"FROM curated_item_neighbours WHERE {on(day)}"
    )[1][0]
    if rows == 0:
        return nothing_judged("curated_item_neighbours", day, "no product has a neighbour", {"rows": 0})
    ok = selfs == 0 and bad_scores == 0 and rank_gaps == 0
    return result(ok, {"rows": rows, "products": products, "self_pairs": selfs,
                       "bad_scores": bad_scores, "products_with_rank_gaps": rank_gaps},
                  f"{selfs} self pairs, {bad_scores} bad scores, {rank_gaps} products with gaps in their ranks")


# ---- trends -----------------------------------------------------------------------------------
def trending_well_formed(sql: LakeSql, day: str) -> dg.AssetCheckResult:
    """Every listed product rising, ranks 1..n per scope; that (scope, product_id) is unique is
    the generated key check's (`recmart.assets.table_checks`)."""
    rows, not_rising, scopes = sql.query(
        "SELECT count(*), "
        "count(*) FILTER (WHERE NOT (weighted_interactions > baseline AND trend_score > 1)), count(DISTINCT scope) "
        f"FROM curated_trending_products WHERE {on(day)}"
    )[1][0]
    if rows == 0:
        return nothing_judged("curated_trending_products", day, "no product is rising", {"rows": 0})
    gaps = sql.scalar(
        f"SELECT count(*) FROM (SELECT scope FROM curated_trending_products WHERE {on(day)} "
        "GROUP BY scope HAVING max(rank) <> count(*) OR min(rank) <> 1) g"
    )
    ok = not_rising == 0 and gaps == 0
    return result(ok, {"rows": rows, "scopes": scopes, "not_rising": not_rising, "scopes_with_rank_gaps": gaps},
                  f"{not_rising} not rising, {gaps} scopes with rank gaps")


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
    if ok and want[0] == 0 and not all_rows:
        return nothing_judged("raw_transactions", day, "no order to reconcile the sales with", meta)
    return result(ok, meta, f"sales {got} != transactions {want}; dimensions not adding up: {off}")


# ---- recommendation quality -------------------------------------------------------------------
def served_blend_beats_popularity(sql: LakeSql, day: str) -> dg.AssetCheckResult:
    """Warns when the served blend's HR@20 is not above popularity's (on the positions whose next
    event is another product, the fair scope), and when the day had nothing to judge: a report
    without positions says nothing about the recommendations, so it must not pass as if it did."""
    rows = {
        r: (positions, hr, mrr) for r, positions, hr, mrr in sql.query(
            "SELECT recommender, positions, hr_at_20, mrr_at_20 FROM curated_recommendation_quality "
            f"WHERE {on(day)} AND scope = 'next_is_other'"
        )[1]
    }
    served, pop = rows.get("served_blend"), rows.get("popularity")
    warn = dg.AssetCheckSeverity.WARN
    if not served or not pop or not served[0]:
        return nothing_judged("curated_recommendation_quality", day, "no user with two events on it, or no "
                              "report: the served recommendations were not judged",
                              {"positions": served[0] if served else 0})
    # Without a snapshot of D-1 (the first day, or a gap) nothing was served on D: every list
    # is empty and 0 = 0 would say nothing about the recommendations.
    [(snapshot_rows,)] = sql.query(
        f"SELECT count(*) FROM curated_item_neighbours WHERE event_date = {date_literal(day, -1)}")[1]
    if not snapshot_rows:
        before = (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()
        return nothing_judged("curated_item_neighbours", before,
                              "no snapshot of the day before, so nothing was served on the judged day",
                              {"positions": served[0]})
    meta = {"positions": served[0], "served_blend/hr_at_20": served[1], "popularity/hr_at_20": pop[1],
            "served_blend/mrr_at_20": served[2], "popularity/mrr_at_20": pop[2], "lift": served[1] - pop[1]}
    return result(served[1] > pop[1], meta,
                  f"served blend HR@20 {served[1]:.4f} does not beat popularity's {pop[1]:.4f}", severity=warn)
