"""The serving-time blend: a session's newest clicks and the source tables -> the top N.

Each of the newest `window` distinct products of the session seeds candidates with its
row of every source; a seed's weight halves every `half_life_events` events back from the
newest click (recency in events: within a session the order of clicks says more than
their clock times), and each source's contribution is scaled by its weight. The blend is
a pure function of its input: the same history and tables give the same list.

Never recommended: the product of the newest click. Slots the sources cannot fill are
filled from popularity, below every blended score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from recmart.recsources.tables import Table


def _default_weights() -> dict[str, float]:
    # Tuned on the validation split of the RSC15 sample, like the half-lives below
    # (bench/quality/RESULTS.md): the session neighbours carry most of the ranking, the
    # rules sharpen what follows the newest click.
    return {"sequential_rules": 1.0, "session_neighbours": 4.0}


@dataclass(frozen=True)
class BlendSettings:
    top_n: int = 20
    window: int = 10  # newest distinct products that seed candidates
    half_life_events: float = 1.5
    # a seed `back` events old also weighs 1 / (1 + back) ** harmonic_power (V-SKNN's "div"
    # decay at 1): a long tail that the halving alone does not give
    harmonic_power: float = 0.5
    # per source; a source in the tables but not here is not blended
    weights: Mapping[str, float] = field(default_factory=_default_weights)


def seeds(history: Sequence[str], settings: BlendSettings) -> list[tuple[str, int]]:
    """[(product, events back from the newest click)] of the newest distinct products, newest first."""
    out: list[tuple[str, int]] = []
    seen: set[str] = set()
    for back, item in enumerate(reversed(history)):
        if item not in seen:
            seen.add(item)
            out.append((item, back))
            if len(out) == settings.window:
                break
    return out


def blend(history: Sequence[str], tables: Mapping[str, Table], popular: Sequence[tuple[str, float]] = (),
          settings: BlendSettings = BlendSettings()) -> list[tuple[str, float]]:
    """Up to `top_n` (product, score), best first; ties by product id.

    `history` is the session's products, oldest first; `tables` {source: table} needs only
    the rows of the seeds (what the handler reads from the store).
    """
    if not history:
        return list(popular[:settings.top_n])
    current = history[-1]
    scores: dict[str, float] = {}
    for item, back in seeds(history, settings):
        recency = 0.5 ** (back / settings.half_life_events) / (1 + back) ** settings.harmonic_power
        for source, w in settings.weights.items():
            if w == 0.0:
                continue
            row = tables.get(source, {}).get(item)
            if not row:
                continue
            sw = w * recency
            for nb, s in row:
                if nb in scores:
                    scores[nb] += sw * s
                else:
                    scores[nb] = sw * s
    scores.pop(current, None)
    top = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:settings.top_n]
    if len(top) < settings.top_n:
        floor = top[-1][1] / 2 if top else 1.0
        taken = {current, *(p for p, _ in top)}
        filled = 0
        for pid, _ in popular:
            if len(top) == settings.top_n:
                break
            if pid not in taken:
                taken.add(pid)
                top.append((pid, floor / (1 + filled)))
                filled += 1
    return top
