"""The recommenders `recmart evaluate` judges, built from the training clicks.

- `popularity`: the most clicked products of training, the same list for everyone;
- one per candidate source alone: the blend with only that source's weight (same seeds,
  same recency), so each row says what the source brings by itself;
- `served_blend`: the blend as served, every source at its weight.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from recmart.evaluation.protocol import Recommender
from recmart.recsources import tables as sources
from recmart.recsources.blend import BlendSettings, blend


@dataclasses.dataclass(frozen=True)
class SourceSettings:
    """The batch side's settings (see `recmart.recsources.tables` for each)."""
    # Tuned on the validation split of the RSC15 sample (train_tr -> train_valid), with
    # bench/quality/tune.py; bench/quality/RESULTS.md has the command and the figures.
    sr_steps: int = 5
    sr_power: float = 1.0
    sr_row_power: float = 0.5
    sn_window: int = 50
    sn_power: float = 0.5
    sn_damping: float = 0.1
    sn_length_power: float = 0.0
    sn_row_power: float = 0.5
    half_life_days: float | None = 3.0
    two_hop_discount: float = 0.3
    two_hop_fan_out: int = 10
    max_neighbours: int = 100


def build_tables(train: sources.Sessions, settings: SourceSettings = SourceSettings()):
    """({source: table}, popularity list) from the training sessions."""
    direct = {
        "sequential_rules": sources.sequential_rules(train, settings.sr_steps, settings.sr_power,
                                                     settings.sr_row_power, settings.half_life_days,
                                                     settings.max_neighbours),
        "session_neighbours": sources.session_neighbours(train, settings.sn_window, settings.sn_power,
                                                         settings.sn_damping, settings.sn_length_power,
                                                         settings.sn_row_power, settings.half_life_days,
                                                         settings.max_neighbours),
    }
    tables = {name: sources.completed(table, settings.two_hop_discount, settings.two_hop_fan_out,
                                      settings.max_neighbours) for name, table in direct.items()}
    return tables, sources.popularity(train)


def _blender(tables, popular, settings: BlendSettings) -> Recommender:
    def recommend(history: Sequence[str], n: int) -> list[str]:
        s = settings if n == settings.top_n else dataclasses.replace(settings, top_n=n)
        return [pid for pid, _ in blend(history, tables, popular, s)]
    return recommend


def recommenders(tables, popular, settings: BlendSettings = BlendSettings()) -> dict[str, Recommender]:
    """{name: recommender}: popularity, each source alone, the served blend."""
    top = [pid for pid, _ in popular]
    out: dict[str, Recommender] = {"popularity": lambda history, n: top[:n]}
    for source in settings.weights:
        alone = dataclasses.replace(settings, weights={source: 1.0})
        out[source] = _blender(tables, popular, alone)
    out["served_blend"] = _blender(tables, popular, settings)
    return out
