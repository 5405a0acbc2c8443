"""Comparing two engines' outputs row for row: every column, EXCEPT ALL both ways."""

from __future__ import annotations

import duckdb

from recmart.schema import Table, duckdb_type

# Floats (scores, rates) are compared after rounding to this many decimals: the engines sum
# in different orders, which moves the last bits of a double and nothing else.
FLOAT_DECIMALS = 9


def _rows_sql(table: Table, folder: str) -> str:
    cols = []
    for c in table.columns:
        ref = f'CAST("{c.name}" AS {duckdb_type(c.type)})'
        cols.append(f"round({ref}, {FLOAT_DECIMALS}) AS \"{c.name}\"" if c.type == "double" else f'{ref} AS "{c.name}"')
    return f"SELECT {', '.join(cols)} FROM read_parquet('{folder}/*.parquet')"


def differences(table: Table, left: str, right: str) -> tuple[list, list]:
    """(rows only in `left`, rows only in `right`), multiplicities counted."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    a, b = _rows_sql(table, left), _rows_sql(table, right)
    only_left = con.execute(f"{a} EXCEPT ALL {b}").fetchall()
    only_right = con.execute(f"{b} EXCEPT ALL {a}").fetchall()
    return only_left, only_right


def assert_same_rows(table: Table, left: str, right: str) -> int:
    """Fail naming the differing rows; the number of rows compared when equal."""
    only_left, only_right = differences(table, left, right)
    assert not only_left and not only_right, (
        f"{table.sql_name}: {len(only_left)} row(s) only in {left}, {len(only_right)} only in {right}:\n"
        f"left:  {only_left[:5]}\nright: {only_right[:5]}"
    )
    return duckdb.sql(f"SELECT count(*) FROM read_parquet('{left}/*.parquet')").fetchall()[0][0]
