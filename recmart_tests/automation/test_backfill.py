"""`recmart materialize --start A --end B` over a landing that already holds every file: the
events of B that arrived on B+1, and those of A that arrived on A-1 (a producer clock ahead),
reach their own day, exactly as `daily_refresh` and the late-events sensor would bring them."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from recmart.automation.backfill import backfill_phases
from recmart.engine.lake_views import duckdb_connection
from recmart.source.schema import create_source_tables
from recmart_tests.store_builder import click, write_landing

A, B = "2026-11-19", "2026-11-20"


def build(lake: Path, source_url: str) -> None:
    # A-1's folder: an event of A, its producer's clock 20 minutes ahead of Firehose's.
    write_landing(lake, "2026-11-18T23:50:00", "early.gz", [click("a0", time="2026-11-19T00:10:00Z", user="u2", product="p2")])
    write_landing(lake, "2026-11-19T10:00:00", "a.gz", [click("a1", time="2026-11-19T09:59:00Z")])
    write_landing(lake, "2026-11-20T12:00:00", "b.gz", [
        click("b1", time="2026-11-20T11:00:00Z"),
        click("b2", "add_to_cart", "2026-11-20T11:30:00+01:00", user="u2", product="p2"),
    ])
    # B+1's folder: B's last minutes arrive after midnight, and B+1's own event.
    write_landing(lake, "2026-11-21T00:04:00", "c.gz", [
        click("late-b", time="2026-11-20T23:58:00Z", user="u3", product="p3"),
        click("late-b2", "add_to_cart", "2026-11-20T23:59:30Z", user="u1", product="p1"),
        click("c1", time="2026-11-21T00:01:00Z", user="u1", product="p4"),
    ])
    engine = sa.create_engine(source_url)
    create_source_tables(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO users (user_id, email, signup_at) VALUES "
                             "('u1', 'u1@example.com', '2026-01-01 00:00:00'), "
                             "('u2', 'u2@example.com', '2026-01-01 00:00:00'), "
                             "('u3', 'u3@example.com', '2026-01-01 00:00:00')"))
        conn.execute(sa.text("INSERT INTO products (product_id, name, price) VALUES "
                             "('p1', 'one', 19.99), ('p2', 'two', 5.00), ('p3', 'three', 7.50), ('p4', 'four', 1.00)"))
        conn.execute(sa.text("INSERT INTO orders VALUES ('o1', 'u1', '2026-11-20 15:00:00', 'paid')"))
        conn.execute(sa.text("INSERT INTO order_items VALUES ('o1', 1, 'p1', 2, 19.99)"))
    engine.dispose()


def test_a_backfill_lands_the_days_after_and_before_its_range_that_hold_its_events(tmp_path):
    lake = tmp_path / "lake"
    source = f"sqlite:///{tmp_path / 'source.db'}"
    build(lake, source)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECMART_", "DAGSTER_HOME"))}
    env.update(RECMART_DEPLOYMENT="local", RECMART_LAKE=str(lake), RECMART_SOURCE_DB=source,
               RECMART_RECS_STORE=f"sqlite:///{tmp_path / 'recs.sqlite'}", RECMART_SPARK_DRIVER_MEMORY="1g")
    recmart = Path(sys.executable).with_name("recmart")
    done = subprocess.run([str(recmart), "materialize", "--start", A, "--end", B], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]

    con = duckdb_connection(str(lake))
    try:
        cleaned = con.execute("SELECT CAST(event_date AS VARCHAR), event_id FROM curated_cleaned_events "
                              "ORDER BY 1, 2").fetchall()
        matrix = con.execute(
            "SELECT user_id, product_id, views, add_to_carts, remove_from_carts, purchases, units, revenue "
            f"FROM curated_interaction_matrix WHERE event_date = DATE '{B}' ORDER BY 1, 2").fetchall()
        matrix_a = con.execute("SELECT user_id, product_id, views FROM curated_interaction_matrix "
                               f"WHERE event_date = DATE '{A}' ORDER BY 1, 2").fetchall()
    finally:
        con.close()
    assert cleaned == [(A, "a0"), (A, "a1"), (B, "b1"), (B, "b2"), (B, "late-b"), (B, "late-b2")]
    assert matrix == [
        ("u1", "p1", 1, 1, 0, 1, 2, Decimal("39.98")),
        ("u2", "p2", 0, 1, 0, 0, 0, Decimal("0.00")),
        ("u3", "p3", 1, 0, 0, 0, 0, Decimal("0.00")),
    ]
    assert matrix_a == [("u1", "p1", 1), ("u2", "p2", 1)]


def test_the_plan_lands_only_days_that_exist_are_partitions_and_are_in_the_window():
    days = [(dt.date(2026, 11, 1) + dt.timedelta(days=k)).isoformat() for k in range(40)]
    landed = ["2026-11-10", "2026-11-18", "2026-11-21", "2026-11-27", "2026-11-28", "2026-12-05"]
    partitions = [d for d in days if d <= "2026-11-27"]  # 11-28 is still open
    assert backfill_phases([A, B], landed, partitions) == [
        ("land_raw", [A, B]),
        ("ingest_clickstream", ["2026-11-18", "2026-11-21", "2026-11-27"]),  # B + MAX_LATE_DAYS is 11-27
        ("refresh_event_day", [A, B]),
    ]
    assert backfill_phases([A], [A], partitions) == [("land_raw", [A]), ("refresh_event_day", [A])]
