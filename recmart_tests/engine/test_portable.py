"""The portability rules of recmart.engine.portable, on every registered step and on SQL that breaks them."""

import pytest

from recmart.engine.portable import PortabilityError, Transform, check
from recmart.steps import REGISTRY


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_registered_transform_keeps_the_rules(name):
    step = REGISTRY[name]
    check(step.transform)
    if step.metric_queries:
        check(step.metric_queries)


@pytest.mark.parametrize(
    "sql, named",
    [
        ("SELECT try_to_timestamp(t) AS x FROM r", "try_to_timestamp"),
        ("SELECT xxhash64(a) AS x FROM r", "xxhash64"),
        ("SELECT max_by(a, b, 3) AS x FROM r", "max_by"),
        ("SELECT date_add(d, 1) AS x FROM r", "date_add"),
        ("SELECT row_number() OVER (PARTITION BY a) AS x FROM r", "row_number() without ORDER BY"),
        ("SELECT a FROM r WHERE b = :undeclared", "undeclared"),
        ("SELECT FROM WHERE", "not Spark SQL"),
    ],
)
def test_sql_that_breaks_a_rule_is_refused_naming_it(sql, named):
    with pytest.raises(PortabilityError, match="(?i)" + named.replace("(", r"\(").replace(")", r"\)")):
        check(Transform("t", {"out": sql}, ("out",)))


def test_a_setting_is_a_literal_in_the_tree_not_text():
    t = Transform("t", {"out": "SELECT sha2(concat(:salt, ip), 256) AS h FROM r"}, ("out",), params=("salt",))
    sql = t.render("duckdb", {"salt": "x' OR '1'='1"})["out"]
    assert "'x'' OR ''1''=''1'" in sql


def test_a_missing_setting_is_named():
    t = Transform("t", {"out": "SELECT :a AS a FROM r"}, ("out",), params=("a",))
    with pytest.raises(ValueError, match=r"\['a'\]"):
        t.render("spark", {})
