"""A tiny, hand-made store whose every right answer is known: landing files and a source
database for the tests of the raw and curated layers, the automation and the Spark cluster."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from recmart.source.schema import create_source_tables, order_items, orders, products, users

D = "2026-11-20"
D1 = "2026-11-21"


def click(event_id, event_type="view", time="2026-11-20T10:00:00Z", user="u1", product="p1", **extra):
    rec = {"event_id": event_id, "event_type": event_type, "event_time": time, "session_id": "s-" + str(user),
           "user_id": user, "product_id": product, "ip": "10.1.2.3", "user_agent": "UA", **extra}
    return json.dumps(rec)


# Landing day D: 10 lines. Valid: e1..e5 (e2 twice = 1 duplicate), anonymous e6, unknown product e7.
# Broken: one malformed line, one without a zone.
DAY_D_FILE_1 = [
    click("e1"), click("e2", "add_to_cart", "2026-11-20T11:00:00+02:00"), click("e2", "add_to_cart", "2026-11-20T11:00:00+02:00"),
    click("e3", "view", user="u2", product="p2"), "{oops",
]
DAY_D_FILE_2 = [
    click("e4", "remove_from_cart", "2026-11-20T12:00:00Z"), click("e5", "view", "2026-11-20T13:00:00Z", extra_field=1),
    click("e6", user=None), click("e7", product="p99"), click("bad", time="2026-11-20T12:00:00"),
]
# Landing day D+1: a late event of D (and a duplicate of e1), plus D+1's own events.
DAY_D1_FILE = [
    click("late", "view", "2026-11-20T23:58:00Z", user="u3", product="p3"), click("e1"),
    click("n1", "view", "2026-11-21T09:00:00Z", user="u1", product="p4"),
]


def landing_path(root: Path, when: str, name: str) -> Path:
    t = dt.datetime.fromisoformat(when)
    return root / "landing/clickstream" / t.strftime("%Y/%m/%d/%H") / f"recmart-clicks-1-{t:%Y-%m-%d-%H-%M-%S}-{name}"


def write_landing(root: Path, when: str, name: str, lines: list[str]) -> Path:
    path = landing_path(root, when, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


def build_store(lake: Path, source_url: str) -> None:
    write_landing(lake, "2026-11-20T10:05:00", "aaa.gz", DAY_D_FILE_1)
    write_landing(lake, "2026-11-20T13:10:00", "bbb", DAY_D_FILE_2)
    write_landing(lake, "2026-11-21T00:03:00", "ccc.gz", DAY_D1_FILE)
    engine = sa.create_engine(source_url)
    create_source_tables(engine)
    t = dt.datetime.fromisoformat
    with engine.begin() as con:
        con.execute(users.insert(), [
            {"user_id": u, "email": f"{u}@example.com", "name": u.upper(), "gender": "Women", "birth_year": 1990,
             "city": "Porto", "country": "PT", "signup_at": t("2026-01-01T00:00:00")} for u in ("u1", "u2", "u3")
        ])
        con.execute(products.insert(), [
            {"product_id": p, "name": f"Product {p}", "gender": "Women", "master_category": "Apparel",
             "sub_category": "Topwear", "article_type": "Tshirts", "base_colour": "Blue", "season": "Fall",
             "year": 2024, "usage": "Casual", "price": Decimal("19.99")} for p in ("p1", "p2", "p3", "p4")
        ])
        con.execute(orders.insert(), [
            {"order_id": "o1", "user_id": "u1", "created_at": t("2026-11-20T14:00:00"), "status": "paid"},
            {"order_id": "o2", "user_id": "u2", "created_at": t("2026-11-20T15:00:00"), "status": "cancelled"},
            {"order_id": "o3", "user_id": None, "created_at": t("2026-11-20T16:00:00"), "status": "paid"},
            {"order_id": "o4", "user_id": "u1", "created_at": t("2026-11-20T23:59:59"), "status": "shipped"},
            {"order_id": "o5", "user_id": "u1", "created_at": t("2026-11-21T00:00:00"), "status": "paid"},
        ])
        con.execute(order_items.insert(), [
            {"order_id": "o1", "line_no": 1, "product_id": "p1", "quantity": 2, "unit_price": Decimal("19.99")},
            {"order_id": "o1", "line_no": 2, "product_id": "p2", "quantity": 1, "unit_price": Decimal("5.01")},
            {"order_id": "o2", "line_no": 1, "product_id": "p1", "quantity": 9, "unit_price": Decimal("19.99")},
            {"order_id": "o3", "line_no": 1, "product_id": "p1", "quantity": 1, "unit_price": Decimal("19.99")},
            {"order_id": "o4", "line_no": 1, "product_id": "p1", "quantity": 1, "unit_price": Decimal("18.00")},
            {"order_id": "o5", "line_no": 1, "product_id": "p4", "quantity": 1, "unit_price": Decimal("7.50")},
        ])
