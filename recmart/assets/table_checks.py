"""Checks generated from the table definitions, as dbt generates `unique` and `not_null` tests
from a model's schema: none is written per table.

For every partitioned lake table written by an asset (`table_checks` finds them among the
layer's assets by `Table.asset_key`), on the asset's daily partition:

- `<key columns>_key_unique`, when `Table.key` is set: one row per key on the day, and no row
  whose key has a null in a column declared not nullable. The rows are grouped by the key
  (GROUP BY puts nulls together, in DuckDB and Athena alike), so a key column declared
  nullable (raw transactions' `line_no`: null for an order without items) holds null as one
  more value.
- `not_null`: no null in any column declared `nullable=False`, counted per column.

Both are blocking, as the hand-written key checks were, and on a day without rows they fail
as a warning (`nothing_judged`), as every check over an empty input does. The SQL is portable
(DuckDB locally, Athena on AWS) and reads the table's view for the partition.
"""

from collections.abc import Callable, Iterable

import dagster as dg

from recmart.assets.check_results import bind, nothing_judged, on, result
from recmart.resources.sql import LakeSql
from recmart.schema import Table
from recmart.tables import TABLES

Check = Callable[[LakeSql, str], dg.AssetCheckResult]
NOT_NULL = "not_null"


def _quoted(column: str) -> str:
    return f'"{column}"'


def _on(table: Table, day: str) -> str:
    return on(day, _quoted(table.partition_column or ""))


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def key_check_name(table: Table) -> str:
    return "_".join(table.key) + "_key_unique"


def key_unique_sql(table: Table, day: str) -> str:
    """Rows, distinct keys, keys on more than one row, the rows of those, and rows with a null key."""
    keys = ", ".join(_quoted(k) for k in table.key)
    not_nullable = set(not_null_columns(table))
    required_keys = [k for k in table.key if k in not_nullable]  # partition columns are never null
    null_key = " OR ".join(f"{_quoted(k)} IS NULL" for k in required_keys)
    null_keys = f"count(*) FILTER (WHERE {null_key})" if null_key else "0"
    return (
        "SELECT coalesce(sum(n), 0), count(*), count(*) FILTER (WHERE n > 1), "
        "coalesce(sum(n) FILTER (WHERE n > 1), 0), coalesce(sum(null_keys), 0) "
        f"FROM (SELECT count(*) AS n, {null_keys} AS null_keys FROM {table.sql_name} "
        f"WHERE {_on(table, day)} GROUP BY {keys}) k"
    )


def key_unique(table: Table) -> Check:
    """The check of `table`'s key, as a plain function of the SQL resource and the day."""
    if not table.key:
        raise ValueError(f"table {table.sql_name} has no key")
    spelled = f"({', '.join(table.key)})" if len(table.key) > 1 else table.key[0]

    def check(sql: LakeSql, day: str) -> dg.AssetCheckResult:
        rows, keys, repeated, on_repeated, null_keys = (int(v) for v in sql.query(key_unique_sql(table, day))[1][0])
        if rows == 0:
            return _empty(table, day)
        meta = {"rows": rows, "distinct_keys": keys, "repeated_keys": repeated,
                "rows_with_repeated_keys": on_repeated, "null_keys": null_keys}
        return result(
            rows == keys and null_keys == 0, meta,
            f"{table.sql_name}: {_plural(repeated, 'repeated ' + spelled + ' key')} "
            f"({_plural(on_repeated, 'row')} for them, {_plural(rows - keys, 'row')} more than keys), "
            f"{_plural(null_keys, 'row')} with a null key",
        )

    check.__name__ = check.__qualname__ = key_check_name(table)
    check.__doc__ = f"One row per {spelled} of {table.sql_name} on the day, no null key (from Table.key)."
    return check


def _empty(table: Table, day: str) -> dg.AssetCheckResult:
    if table.may_be_empty:  # nothing to check is the good case there (Table.may_be_empty)
        return dg.AssetCheckResult(passed=True, metadata={"rows": 0})
    return nothing_judged(table.sql_name, day, "no row to check", {"rows": 0})


def not_null_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if not c.nullable]


def not_null_sql(table: Table, day: str) -> str:
    nulls = ", ".join(f"count(*) - count({_quoted(c)})" for c in not_null_columns(table))
    return f"SELECT count(*), {nulls} FROM {table.sql_name} WHERE {_on(table, day)}"


def not_null(table: Table) -> Check:
    """The check of `table`'s columns declared not nullable, as a plain function of the SQL
    resource and the day."""
    columns = not_null_columns(table)
    if not columns:
        raise ValueError(f"table {table.sql_name} has no column declared not nullable")

    def check(sql: LakeSql, day: str) -> dg.AssetCheckResult:
        rows, *counts = (int(v) for v in sql.query(not_null_sql(table, day))[1][0])
        nulls = dict(zip(columns, counts, strict=True))
        if rows == 0:
            return _empty(table, day)
        with_nulls = {c: n for c, n in nulls.items() if n}
        listed = ", ".join(f"{c} ({_plural(n, 'row')})" for c, n in with_nulls.items())
        return result(not with_nulls, {"rows": rows, **{f"nulls/{c}": n for c, n in nulls.items()}},
                      f"{table.sql_name}: nulls in columns declared not nullable: {listed}")

    check.__name__ = check.__qualname__ = NOT_NULL
    check.__doc__ = f"No null in the columns of {table.sql_name} declared not nullable (from Column.nullable)."
    return check


def checks_of(table: Table) -> list[tuple[Check, str]]:
    """The generated checks of a table, with their descriptions."""
    checks = []
    if table.key:
        spelled = ", ".join(table.key)
        checks.append((key_unique(table), f"one row per ({spelled}) on the day, no null key (from the table's key)"))
    if not_null_columns(table):
        checks.append((not_null(table), "no null in the columns declared not nullable: "
                       + ", ".join(not_null_columns(table))))
    return checks


def table_checks(assets: Iterable[dg.AssetsDefinition]) -> list[dg.AssetChecksDefinition]:
    """The generated checks of every partitioned lake table that one of `assets` writes,
    blocking, on the table's asset and the daily partitions."""
    by_key = {t.asset_key: t for t in TABLES if t.partition_column}
    written = [by_key[k.to_user_string()] for a in assets for k in a.keys if k.to_user_string() in by_key]
    return [bind(table.asset_key, fn, description) for table in written for fn, description in checks_of(table)]
