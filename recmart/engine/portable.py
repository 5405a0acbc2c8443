"""Portable SQL: one text per transform, run verbatim by Spark and transpiled for DuckDB.

Transforms are written in Spark SQL (the stricter of the two engines: what Spark 3.5 runs,
DuckDB nearly always has) and rendered for DuckDB by sqlglot. Transpiling is only as good as
the mapping of each function, so the rules below keep transforms to the part of the language
whose meaning is the same on DuckDB, Spark 3.5 (Glue 5.0) and Spark 4, and `check` enforces
them on every registered transform (a test runs it):

1. Functions only from `ALLOWED_FUNCTIONS`; each is there because the parity suite runs it on
   both engines. `try_to_timestamp`, `xxhash64`, `max_by(.., k)` and `date_add` are left out
   on purpose: the first two do not exist in DuckDB, the third not in Spark 3.5, and the
   last returns a timestamp in DuckDB but a date in Spark.
2. Settings enter as named placeholders (`:half_life_days`), replaced by literals in the
   syntax tree, never by formatting text: a salt with a quote in it stays a string.
3. Every `row_number()` window orders by a total order (tie-breakers to the last key), so
   both engines pick the same row; the parity suite compares every row to catch a miss.
4. Casts that can fail are spelled `try_cast`; `cast` is for conversions that cannot fail
   (the Spark engine runs with ANSI mode off, as sqlglot reads Spark's `cast`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

SOURCE_DIALECT = "spark"

# sqlglot expression classes a transform may use, by the name a reader knows them by.
ALLOWED_FUNCTIONS = {
    "abs", "array", "array_contains", "avg", "cast", "ceil", "coalesce", "concat", "concat_ws",
    "count", "count_if", "date_diff", "explode", "exp", "first", "floor", "greatest", "if", "least", "length",
    "ln", "lower", "max", "min", "nullif", "pow", "regexp_extract", "regexp_like", "round",
    "row_number", "rank", "sha2", "sqrt", "struct", "substring", "sum", "to_date", "trim",
    "try_cast", "upper", "isnan", "sign", "mod", "log", "unix_micros", "timestamp_micros", "regexp_replace",
}
# sqlglot's names (its expression keys) for some of them, where they differ.
_ALIASES = {
    "tsordstodate": "to_date", "strtodate": "to_date", "datediff": "date_diff",
    "tsordsdiff": "date_diff", "regexpextract": "regexp_extract", "regexplike": "regexp_like",
    "rlike": "regexp_like", "power": "pow", "rownumber": "row_number",
    "concatws": "concat_ws", "countif": "count_if", "trycast": "try_cast", "arraycontains": "array_contains",
    "unixtotime": "timestamp_micros", "unixmicros": "unix_micros", "regexpreplace": "regexp_replace",
}


# An allowed name as sqlglot keys it (no underscores: `row_number` -> `rownumber`).
_BY_KEY = {n.replace("_", ""): n for n in ALLOWED_FUNCTIONS}


class PortabilityError(ValueError):
    """A transform uses SQL whose meaning is not the same on every engine; names what."""


@dataclass(frozen=True)
class Transform:
    """Named SQL statements run in order; each becomes a relation the later ones can read.

    `outputs` names the statements whose rows are written (to the step's output tables);
    the others are intermediate relations.
    """

    name: str
    statements: Mapping[str, str]
    outputs: tuple[str, ...]
    doc: str = ""
    params: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        missing = set(self.outputs) - set(self.statements)
        if missing:
            raise ValueError(f"transform {self.name}: outputs {sorted(missing)} are not among its statements")

    def parsed(self) -> dict[str, exp.Expression]:
        return {n: _parse(self.name, n, sql) for n, sql in self.statements.items()}

    def render(self, dialect: str, params: Mapping[str, Any]) -> dict[str, str]:
        """{statement name: SQL for `dialect`} with `params` as literals."""
        unknown = set(self.params) - set(params)
        if unknown:
            raise ValueError(f"transform {self.name}: no value for parameter(s) {sorted(unknown)}")
        out = {}
        for name, tree in self.parsed().items():
            bound = exp.replace_placeholders(tree.copy(), **{k: _literal(v) for k, v in params.items()})
            leftover = [p.name for p in bound.find_all(exp.Placeholder)]
            if leftover:
                raise ValueError(f"transform {self.name}.{name}: parameter(s) {leftover} not declared")
            out[name] = bound.sql(dialect=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE)
        return out


@functools.cache
def _parse(transform: str, statement: str, sql: str) -> exp.Expression:
    try:
        tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
    except sqlglot.errors.ParseError as exc:
        raise PortabilityError(f"transform {transform}.{statement}: not Spark SQL: {exc}") from None
    return tree.transform(_known_functions)


def _known_functions(node: exp.Expression) -> exp.Expression:
    """Spark functions sqlglot's Spark reader leaves unknown, as the expressions they are,
    so each dialect writes its own spelling (`timestamp_micros` is DuckDB's `make_timestamp`)."""
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "timestamp_micros":
        return exp.UnixToTime(this=node.expressions[0], scale=exp.UnixToTime.MICROS)
    return node


def _literal(value: Any) -> exp.Expr:
    """A setting as a SQL literal; dates and floats spelled so both engines read the same type."""
    import datetime as dt

    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "date")
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, float):
        return exp.cast(exp.Literal.number(repr(value)), "double")
    return exp.convert(value)


def function_names(tree: exp.Expression) -> dict[str, str]:
    """{name as `ALLOWED_FUNCTIONS` spells it: the first call of it, as written} of a statement."""
    names: dict[str, str] = {}
    for node in tree.find_all(exp.Func):
        if isinstance(node, (exp.Binary, exp.Connector, exp.Unary)):
            continue  # operators (and, +, not), not functions
        if isinstance(node, exp.Case):
            continue  # CASE WHEN is syntax, not a function
        key = str(node.this).lower() if isinstance(node, exp.Anonymous) else node.key
        name = _ALIASES.get(key) or _BY_KEY.get(key, key)
        names.setdefault(name, node.sql(SOURCE_DIALECT)[:80])
    return names


def check(transform: Transform) -> None:
    """Raise PortabilityError naming the first rule a transform breaks."""
    for name, tree in transform.parsed().items():
        used = function_names(tree)
        bad = sorted(set(used) - ALLOWED_FUNCTIONS)
        if bad:
            calls = "; ".join(used[b] for b in bad)
            raise PortabilityError(
                f"transform {transform.name}.{name}: {calls}: function(s) {bad} are not in "
                "recmart.engine.portable.ALLOWED_FUNCTIONS (see its rules)"
            )
        for window in tree.find_all(exp.Window):
            if isinstance(window.this, exp.RowNumber) and not window.args.get("order"):
                raise PortabilityError(f"transform {transform.name}.{name}: row_number() without ORDER BY")
        placeholders = {p.name for p in tree.find_all(exp.Placeholder)}
        undeclared = placeholders - set(transform.params)
        if undeclared:
            raise PortabilityError(f"transform {transform.name}.{name}: parameter(s) {sorted(undeclared)} not declared")
    dummy = {p: 1 for p in transform.params}
    for dialect in ("duckdb", "spark"):
        try:
            transform.render(dialect, dummy)
        except sqlglot.errors.UnsupportedError as exc:
            raise PortabilityError(f"transform {transform.name}: cannot be written for {dialect}: {exc}") from None


def render_expression(sql: str, dialect: str, params: Mapping[str, Any]) -> str:
    """One portable SQL expression (Spark SQL, `:name` placeholders) for `dialect`: for
    engine-specific code that must compute exactly what a transform computes (ingest routes
    records to days with the expression cleaning judges them by)."""
    transform = Transform("expression", {"e": f"SELECT {sql}"}, ("e",), params=tuple(params))
    check(transform)
    tree = _parse(transform.name, "e", f"SELECT {sql}").copy()
    bound = exp.replace_placeholders(tree, **{k: _literal(v) for k, v in params.items()})
    if not isinstance(bound, exp.Selectable):  # replace_placeholders keeps the root: the SELECT parsed
        raise PortabilityError(f"expression {sql!r}: SELECT {sql} is not a query")
    return bound.selects[0].sql(dialect=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE)
