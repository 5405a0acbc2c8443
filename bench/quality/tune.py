"""Tune the candidate sources and the blend on a train/test split: every combination of the
given values, judged on the positions where the next click is another product.

    .venv/bin/python bench/quality/tune.py TRAIN.tsv TEST.tsv sn_damping=0.1,0.2 half_life_events=1,1.5

A name of `SourceSettings` (recmart.evaluation.recommenders) sets the batch side (its tables
are rebuilt per combination), a name of `BlendSettings` (recmart.recsources.blend) the
serving side; `weight.<source>=` sets one source's blend weight. Unnamed settings keep their
defaults. Tune on a validation split only: the figures it prints are what the choice is
made on, so they say nothing about held-out data.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
import time

from recmart.evaluation.clicklog import read_clicks, sessions_of
from recmart.evaluation.protocol import evaluate
from recmart.evaluation.recommenders import (
    SourceSettings,
    as_events,
    build_sources,
    recommenders,
    snapshot_items,
)
from recmart.realtime.scoring import ScoringSettings
from recmart.recsources.tables import sessions_from_clicks


def _value(text: str):
    if text == "None":
        return None
    try:
        return int(text)
    except ValueError:
        return float(text)


def main(train_path: str, test_path: str, *specs: str) -> None:
    grid = {}
    for spec in specs:
        name, _, values = spec.partition("=")
        grid[name] = [_value(v) for v in values.split(",")]
    source_fields = {f.name for f in dataclasses.fields(SourceSettings)}
    blend_fields = {f.name for f in dataclasses.fields(ScoringSettings)} - {"source_weights"}
    for name in grid:
        if name not in source_fields | blend_fields and not name.startswith("weight."):
            raise SystemExit(f"unknown setting {name!r}: one of {sorted(source_fields | blend_fields)} or weight.<source>")
    train_clicks = read_clicks(train_path)
    train = {s: as_events(s, [c.item for c in cs], [c.time for c in cs]) for s, cs in sessions_of(train_clicks).items()}
    grouped = sessions_from_clicks((c.session, c.item, c.time) for c in train_clicks)
    test = {s: as_events(s, [c.item for c in cs], [c.time for c in cs])
            for s, cs in sessions_of(read_clicks(test_path)).items()}
    cache = {}
    print("HR@20 MRR@20 (next is another product) | HR@20 MRR@20 (all positions) | settings")
    for combo in itertools.product(*grid.values()):
        chosen = dict(zip(grid, combo, strict=True))
        source = SourceSettings(**{k: v for k, v in chosen.items() if k in source_fields})
        weights = dict(ScoringSettings().source_weights)
        weights.update({k.split(".", 1)[1]: v for k, v in chosen.items() if k.startswith("weight.")})
        blend = ScoringSettings(source_weights=tuple(weights.items()),
                                **{k: v for k, v in chosen.items() if k in blend_fields})
        if source not in cache:
            cache.clear()  # one set of tables at a time: they are the memory
            tables, popular = build_sources(grouped, source)
            cache[source] = (snapshot_items(tables), {}, popular)
        started = time.perf_counter()
        # The real-time scorer itself, as `recmart evaluate` judges it.
        served = {"served_blend": recommenders(*cache[source], blend)["served_blend"]}
        everything, other = evaluate(train, test, served)
        print(f"{other.hr_at_20:.4f} {other.mrr_at_20:.4f} | {everything.hr_at_20:.4f} {everything.mrr_at_20:.4f} | "
              f"{chosen} ({time.perf_counter() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
