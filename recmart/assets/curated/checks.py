"""Data checks of the curated tables: exact reconciliations and references.

Each check is a plain function of the SQL resource and the day, so tests call it directly;
the decorated checks only bind it to its asset. The tables' keys and not-null columns are
checked by the checks generated from their definitions (`recmart.assets.table_checks`).
"""


from decimal import Decimal

import dagster as dg

from recmart.assets.check_results import bind, nothing_judged, on, result
from recmart.assets.curated.interaction_matrix import curated_interaction_matrix
from recmart.assets.curated.interaction_scores import curated_interaction_scores
from recmart.resources.source_db import SourceDatabase
from recmart.resources.sql import LakeSql
from recmart.source.export import purchase_totals
from recmart.tables import CURATED_CLEANED_EVENTS


# ---- cleaned events --------------------------------------------------------------------------
def records_reconcile(sql: LakeSql, day: str) -> dg.AssetCheckResult:
    """landed records of the day = cleaned + quarantined (by reason) + duplicates, exactly."""
    landed = sql.scalar(f"SELECT count(*) FROM raw_clickstream WHERE {on(day)}")
    cleaned, duplicates = sql.query(
        f"SELECT count(*), coalesce(sum(copies - 1), 0) FROM curated_cleaned_events WHERE {on(day)}"
    )[1][0]
    by_reason = dict(
        sql.query(f"SELECT reason, count(*) FROM quarantine_clickstream WHERE {on(day)} GROUP BY reason")[1]
    )
    quarantined = sum(by_reason.values())
    accounted = cleaned + quarantined + int(duplicates)
    meta = {
        "landed": landed, "cleaned": cleaned, "quarantined": quarantined,
        "duplicates": int(duplicates), "unaccounted": landed - accounted,
        **{f"quarantined/{r}": n for r, n in sorted(by_reason.items())},
    }
    if landed == accounted == 0:
        return nothing_judged("raw_clickstream", day, "no landed record belongs to this event day", meta)
    return result(landed == accounted, meta,
                   f"{landed - accounted} landed records are neither cleaned, quarantined nor duplicates")


# ---- interaction matrix ----------------------------------------------------------------------
def matrix_matches_events(sql: LakeSql, day: str) -> dg.AssetCheckResult:
    """Matrix counts = distinct cleaned events of identified users by type, and pairs = pairs."""
    m = sql.query(
        "SELECT coalesce(sum(views),0), coalesce(sum(add_to_carts),0), coalesce(sum(remove_from_carts),0) "
        f"FROM curated_interaction_matrix WHERE {on(day)} "
    )[1][0]
    e = sql.query(
        "SELECT count(*) FILTER (WHERE event_type = 'view'), count(*) FILTER (WHERE event_type = 'add_to_cart'), "
        "count(*) FILTER (WHERE event_type = 'remove_from_cart') "
        f"FROM curated_cleaned_events WHERE {on(day)} AND user_id IS NOT NULL"
    )[1][0]
    names = ("views", "add_to_carts", "remove_from_carts")
    meta = {f"matrix/{n}": int(a) for n, a in zip(names, m, strict=True)} | {f"events/{n}": int(b) for n, b in zip(names, e, strict=True)}
    diff = {n: int(a) - int(b) for n, a, b in zip(names, m, e, strict=True) if int(a) != int(b)}
    if not diff and not any(int(b) for b in e):
        return nothing_judged("curated_cleaned_events", day, "no event of an identified user", meta)
    return result(not diff, meta, f"matrix differs from cleaned events: {diff}")


def matrix_matches_source(sql: LakeSql, source: SourceDatabase, day: str) -> dg.AssetCheckResult:
    """Purchases, units and revenue = the source database's own totals for the day, exactly."""
    import datetime as dt

    src = purchase_totals(source.engine(), dt.date.fromisoformat(day))
    rows, purchases, units, revenue = sql.query(
        "SELECT count(*), coalesce(sum(purchases),0), coalesce(sum(units),0), coalesce(sum(revenue),0) "
        f"FROM curated_interaction_matrix WHERE {on(day)}"
    )[1][0]
    got = {"purchases": int(purchases), "units": int(units), "revenue": Decimal(str(revenue))}
    want = {"purchases": int(src["order_products"]), "units": int(src["units"] or 0),
            "revenue": Decimal(str(src["revenue"] or 0))}
    meta = {f"matrix/{k}": float(v) if isinstance(v, Decimal) else v for k, v in got.items()}
    meta |= {f"source/{k}": float(v) if isinstance(v, Decimal) else v for k, v in want.items()}
    if rows == 0 and got == want:
        return nothing_judged("curated_interaction_matrix", day, "no interaction, and no purchase in the source", meta)
    return result(got == want, meta, f"matrix {got} != source database {want}")


def products_in_catalog(sql: LakeSql, day: str) -> dg.AssetCheckResult:
    """Every product in the matrix exists in the latest catalog snapshot up to the day."""
    if sql.scalar(f"SELECT count(*) FROM curated_interaction_matrix WHERE {on(day)}") == 0:
        return nothing_judged("curated_interaction_matrix", day, "no product to look up", {"unknown_products": 0})
    latest = sql.scalar(f"SELECT max(event_date) FROM raw_products WHERE event_date <= DATE '{day}'")
    if latest is None:
        return dg.AssetCheckResult(passed=False, metadata={"unknown_products": -1},
                                   description="no catalog snapshot on or before the day")
    unknown = sql.scalar(
        f"SELECT count(DISTINCT m.product_id) FROM curated_interaction_matrix m "
        f"LEFT JOIN (SELECT product_id FROM raw_products WHERE event_date = DATE '{latest}') p "
        f"ON m.product_id = p.product_id WHERE m.{on(day)} AND p.product_id IS NULL"
    )
    return result(unknown == 0, {"unknown_products": unknown, "catalog_snapshot": str(latest)},
                   f"{unknown} products are not in the catalog")


# ---- bindings ---------------------------------------------------------------------------------
CHECKS = [
    bind(CURATED_CLEANED_EVENTS.asset_key, records_reconcile, "landed = cleaned + quarantined + duplicates, exactly"),
    bind(curated_interaction_matrix, matrix_matches_events, "counts = distinct cleaned events by type"),
    bind(curated_interaction_matrix, matrix_matches_source, "purchases/units/revenue = source database",
         needs_source=True),
    bind(curated_interaction_matrix, products_in_catalog, "every product is in the catalog", blocking=False),
]

FRESHNESS_CHECKS = dg.build_time_partition_freshness_checks(
    assets=[curated_interaction_matrix, curated_interaction_scores], deadline_cron="0 3 * * *", timezone="UTC"
)
