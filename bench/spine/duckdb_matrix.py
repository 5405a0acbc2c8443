"""The same day's interaction matrix in DuckDB SQL: the single-machine yardstick.

Usage: duckdb_matrix.py LANDING_GLOB --source-db sqlite:///... --day D --out FILE.parquet
"""

import argparse
import sqlite3

import duckdb
import pyarrow as pa

p = argparse.ArgumentParser()
p.add_argument("landing_glob")
p.add_argument("--source-db", required=True)
p.add_argument("--day", required=True)
p.add_argument("--out", required=True)
args = p.parse_args()

con = duckdb.connect()
con.execute("SET TimeZone='UTC'")
src = sqlite3.connect(args.source_db.removeprefix("sqlite:///"))
orders = src.execute(
    "SELECT o.order_id, o.user_id, i.product_id, i.quantity, CAST(i.unit_price AS TEXT) "
    "FROM orders o JOIN order_items i USING (order_id) "
    "WHERE o.created_at >= ? AND o.created_at < date(?, '+1 day') AND o.status <> 'cancelled' "
    "AND o.user_id IS NOT NULL", (args.day, args.day)).fetchall()
orders_tbl = pa.table({k: [r[i] for r in orders] for i, k in
                       enumerate(["order_id", "user_id", "product_id", "quantity", "unit_price"])})
con.register("orders_tbl", orders_tbl)
con.execute(f"""
COPY (
  WITH lines AS (
    SELECT * FROM read_json('{args.landing_glob}', format='newline_delimited', ignore_errors=true,
      columns={{event_id:'VARCHAR', event_type:'VARCHAR', event_time:'VARCHAR', user_id:'VARCHAR', product_id:'VARCHAR'}})
  ), ev AS (
    SELECT DISTINCT ON (event_id) event_id, event_type, TRY_CAST(event_time AS TIMESTAMPTZ) AS ts, user_id, product_id
    FROM lines WHERE event_id IS NOT NULL AND user_id IS NOT NULL
  ), clicks AS (
    SELECT user_id, product_id,
      count(*) FILTER (WHERE event_type='view') AS views,
      count(*) FILTER (WHERE event_type='add_to_cart') AS add_to_carts,
      count(*) FILTER (WHERE event_type='remove_from_cart') AS remove_from_carts,
      min(ts) AS first_click, max(ts) AS last_click
    FROM ev WHERE CAST(ts AS DATE) = DATE '{args.day}' GROUP BY ALL
  ), bought AS (
    SELECT user_id, product_id, count(DISTINCT order_id) AS purchases, sum(quantity) AS units,
      sum(quantity * CAST(unit_price AS DECIMAL(10,2))) AS revenue
    FROM orders_tbl GROUP BY ALL
  )
  SELECT * FROM clicks FULL OUTER JOIN bought USING (user_id, product_id)
) TO '{args.out}' (FORMAT parquet)
""")
print("rows", con.execute(f"SELECT count(*) FROM '{args.out}'").fetchone()[0])
