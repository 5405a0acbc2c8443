"""One name per table: `<layer>_<name>` for its view, its Glue table, its asset and (upper-cased)
its constant in recmart.tables; `<layer>/<name>` for its folder."""

from __future__ import annotations

import recmart.tables as tables
from recmart.schema import Table
from recmart.tables import TABLES


def test_every_table_constant_is_its_sql_name_upper_cased_and_listed_once():
    constants = {name: value for name, value in vars(tables).items() if isinstance(value, Table)}
    assert {name: t.sql_name.upper() for name, t in constants.items()} == {name: name for name in constants}
    assert sorted(t.sql_name for t in TABLES) == sorted(t.sql_name for t in constants.values())
    assert len({t.sql_name for t in TABLES}) == len(TABLES)


def test_folder_view_and_asset_key_are_one_name():
    for t in TABLES:
        assert t.path == f"{t.layer}/{t.name}"
        assert t.sql_name == t.asset_key == t.path.replace("/", "_")
