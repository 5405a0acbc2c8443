"""Exact checks of the feature rows: every count reconciles with the interaction matrices.

Plain functions of the SQL resource and the day (portable SQL), bound to their assets below.
"""


import datetime as dt

import dagster as dg

from recmart.assets.check_results import bind, date_literal, nothing_judged, on, result
from recmart.resources.sql import LakeSql
from recmart.steps.feature_rows import WINDOW_DAYS
from recmart.tables import FEATURES_INTERACTIONS, FEATURES_ITEMS, FEATURES_USERS


def _window(day: str, days: int = WINDOW_DAYS) -> str:
    return f"event_date BETWEEN {date_literal(day, -(days - 1))} AND {date_literal(day)}"


def user_features_reconcile(sql: LakeSql, day: str) -> dg.AssetCheckResult:
    """One row per user of the 30-day window; each user's 1/7/30-day counts = their matrix sums."""
    m = (
        "SELECT user_id, "
        f"sum(CASE WHEN event_date = {date_literal(day)} THEN views ELSE 0 END) AS v1, "
        f"sum(CASE WHEN event_date = {date_literal(day)} THEN add_to_carts ELSE 0 END) AS c1, "
        f"sum(CASE WHEN event_date = {date_literal(day)} THEN purchases ELSE 0 END) AS p1, "
        f"sum(CASE WHEN {_window(day, 7)} THEN views ELSE 0 END) AS v7, "
        "sum(views) AS v30, sum(purchases) AS p30 "
        f"FROM curated_interaction_matrix WHERE {_window(day)} GROUP BY user_id"
    )
    f = f"SELECT * FROM features_users WHERE {on(day)}"
    window_users, rows, keys, mismatched = sql.query(
        f"SELECT count(m.user_id), count(f.user_id), count(DISTINCT f.user_id), "
        "count(*) FILTER (WHERE m.user_id IS NULL OR f.user_id IS NULL OR f.views_1d <> m.v1 "
        "OR f.add_to_carts_1d <> m.c1 OR f.purchases_1d <> m.p1 OR f.views_7d <> m.v7 OR f.views_30d <> m.v30 "
        "OR f.purchases_30d <> m.p30) "
        f"FROM ({m}) m FULL OUTER JOIN ({f}) f ON m.user_id = f.user_id"
    )[1][0]
    ok = window_users == rows == keys and mismatched == 0
    meta = {"window_users": window_users, "rows": rows, "distinct_users": keys, "users_not_matching": mismatched}
    if ok and window_users == 0:
        return nothing_judged("curated_interaction_matrix", day, "no user in the 30-day window", meta)
    return result(ok, meta,
                  f"{rows} rows for {window_users} users of the window ({keys} distinct); "
                  f"{mismatched} users whose counts differ from the matrices")


def item_features_reconcile(sql: LakeSql, day: str) -> dg.AssetCheckResult:
    """Each product's 1/7/30-day views and users = the matrices'; every catalogue product has a row."""
    m = (
        "SELECT product_id, "
        f"sum(CASE WHEN event_date = {date_literal(day)} THEN views ELSE 0 END) AS v1, "
        f"sum(CASE WHEN {_window(day, 7)} THEN views ELSE 0 END) AS v7, "
        "sum(views) AS v30, sum(purchases) AS p30, count(DISTINCT user_id) AS u30 "
        f"FROM curated_interaction_matrix WHERE {_window(day)} GROUP BY product_id"
    )
    f = f"SELECT * FROM features_items WHERE {on(day)}"
    window_products, rows, keys, mismatched, missing = sql.query(
        "SELECT count(m.product_id), count(f.product_id), count(DISTINCT f.product_id), "
        "count(*) FILTER (WHERE m.product_id IS NOT NULL AND (f.product_id IS NULL OR f.views_1d <> m.v1 "
        "OR f.views_7d <> m.v7 OR f.views_30d <> m.v30 OR f.purchases_30d <> m.p30 OR f.users_30d <> m.u30)), "
        "count(*) FILTER (WHERE m.product_id IS NULL AND f.views_30d <> 0) "
        f"FROM ({m}) m FULL OUTER JOIN ({f}) f ON m.product_id = f.product_id"
    )[1][0]
    catalogue = sql.scalar(
        f"SELECT count(*) FROM features_items WHERE {on(day)} AND in_catalogue = 1"
    )
    ok = rows == keys and mismatched == 0 and missing == 0 and rows >= window_products
    meta = {"rows": rows, "window_products": window_products, "catalogue_products": catalogue,
            "products_not_matching": mismatched, "counts_without_interactions": missing}
    if ok and window_products == 0:
        return nothing_judged("curated_interaction_matrix", day, "no product in the 30-day window", meta)
    return result(ok, meta,
                  f"{mismatched} products whose counts differ from the matrices, {rows - keys} repeated ids, "
                  f"{missing} rows with counts but no interactions")


def interaction_features_reconcile(sql: LakeSql, day: str) -> dg.AssetCheckResult:
    """One row per (user, product) of the window; views and purchases add up to the matrices'."""
    pairs, views, purchases = sql.query(
        "SELECT count(*), coalesce(sum(v), 0), coalesce(sum(p), 0) FROM (SELECT user_id, product_id, "
        "sum(views) AS v, sum(purchases) AS p "
        f"FROM curated_interaction_matrix WHERE {_window(day)} GROUP BY user_id, product_id) m"
    )[1][0]
    rows, keys, f_views, f_purchases, bad_ids = sql.query(
        "SELECT count(*), count(DISTINCT record_id), coalesce(sum(views_30d), 0), coalesce(sum(purchases_30d), 0), "
        "count(*) FILTER (WHERE record_id <> concat(user_id, '#', product_id)) "
        f"FROM features_interactions WHERE {on(day)}"
    )[1][0]
    ok = rows == keys == pairs and int(f_views) == int(views) and int(f_purchases) == int(purchases) and bad_ids == 0
    meta = {"rows": rows, "window_pairs": pairs, "views_30d": int(f_views), "matrix_views": int(views),
            "purchases_30d": int(f_purchases), "matrix_purchases": int(purchases), "bad_record_ids": bad_ids}
    if ok and pairs == 0:
        return nothing_judged("curated_interaction_matrix", day, "no (user, product) pair in the 30-day window", meta)
    return result(ok, meta,
                  f"{rows} rows ({keys} distinct ids) for {pairs} pairs; views {f_views} vs {views}, "
                  f"purchases {f_purchases} vs {purchases}; {bad_ids} bad record ids")


def event_times_are_day_end(table: str):
    def event_times_are_day_end(sql: LakeSql, day: str) -> dg.AssetCheckResult:
        """Every row's event time is D+1 00:00 UTC: the instant all its data is known."""
        end = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
        rows, wrong = sql.query(
            "SELECT count(*), count(*) FILTER (WHERE event_time IS NULL OR "
            f"event_time <> TIMESTAMP '{end} 00:00:00') "
            f"FROM {table} WHERE {on(day)}"
        )[1][0]
        if rows == 0:
            return nothing_judged(table, day, "no row to check", {"rows": 0})
        return result(wrong == 0, {"rows": rows, "wrong_event_times": wrong}, f"{wrong} rows with another event time")

    return event_times_are_day_end


CHECKS = [
    bind(FEATURES_USERS.asset_key, user_features_reconcile, "one row per window user; counts = the matrices', exactly"),
    bind(FEATURES_ITEMS.asset_key, item_features_reconcile, "product counts = the matrices', exactly; ids unique"),
    bind(FEATURES_INTERACTIONS.asset_key, interaction_features_reconcile,
         "one row per window pair; totals = the matrices'"),
    *(bind(table.asset_key, event_times_are_day_end(table.sql_name), "event_time = the end of the day (next day 00:00 UTC)")
      for table in (FEATURES_USERS, FEATURES_ITEMS, FEATURES_INTERACTIONS)),
]
