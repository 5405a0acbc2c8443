"""Every asset takes its names from the table it writes: its key is the table's SQL name, its
group the table's layer, its op (run config, step keys) the same name, and it is defined
under `recmart/assets/<layer>/`; an asset writing several tables is the op of their step."""

from __future__ import annotations

import pytest

from recmart.steps import REGISTRY
from recmart.tables import TABLES

BY_KEY = {t.asset_key: t for t in TABLES}


@pytest.fixture(scope="module")
def graph():
    from recmart.definitions import defs

    return defs.resolve_asset_graph()


def test_every_table_is_written_by_the_asset_of_its_name_in_the_group_of_its_layer(graph):
    keys = {k.to_user_string(): graph.get(k) for k in graph.get_all_asset_keys()}
    assert set(BY_KEY) <= set(keys)
    for key, node in keys.items():
        table = BY_KEY.get(key)
        if table is None:  # the serving assets write stores, not lake tables
            assert node.group_name == "serving", key
            continue
        assert node.group_name == table.layer, key
        assert node.assets_def.specs_by_key[node.key].metadata["table"] == table.sql_name


def test_an_asset_op_is_named_after_its_table_or_its_step_and_lives_in_its_layers_folder(graph):
    for assets_def in {graph.get(k).assets_def for k in graph.get_all_asset_keys()}:
        keys = sorted(k.to_user_string() for k in assets_def.keys)
        op = assets_def.op.name
        module = assets_def.op.compute_fn.decorated_fn.__module__
        if len(keys) == 1:
            assert op == keys[0]
        else:
            assert op in REGISTRY, (op, keys)
        layers = {BY_KEY[k].layer for k in keys if k in BY_KEY} - {"quarantine"}  # beside cleaned events
        folder = layers.pop() if layers else "serving"
        assert module.startswith(f"recmart.assets.{folder}."), (op, module)
