"""Any registered step on Spark, from a JSON-able spec (in-process, or a Pipes-launched driver).

spec: {"step": name, "partition": day, "inputs": {relation: {key: location}},
       "outputs": {statement: location}, "params": {setting: value}}
"""

from __future__ import annotations

import datetime as dt

from recmart.engine import spark as spark_engine
from recmart.steps import REGISTRY


def run(spark, spec: dict) -> dict:
    step = REGISTRY[spec["step"]]
    params = dict(spec["params"])
    params["day"] = dt.date.fromisoformat(spec["partition"])
    inputs = {name: (inp.table, spec["inputs"].get(name, {})) for name, inp in step.inputs.items()}
    outputs = {name: (table, spec["outputs"][name]) for name, table in step.outputs.items()}
    return spark_engine.run(spark, step.transform, inputs, outputs, params, metrics=step.metric_queries)
