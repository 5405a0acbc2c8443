"""Candidate-source tables, computed in batch from training clicks (session, item, time).

Each source is a pure function from training sessions (`sessions_from_clicks`) to
`{item: [(neighbour, score), ...]}`, best first, at most `max_neighbours` per item, an item
never its own neighbour: the shape of the store's per-product row, so the real-time handler
reads one row per recent product. Scores are divided by the row item's count ** row_power:
at 1 a conditional frequency (per occurrence of the item, how much the neighbour follows or
accompanies it), so rows of different items and sources are on one scale and blend by
weights; below 1 a seed seen often keeps more say than a rare one, which the validation
figures preferred. A half-life in days, when given, weighs each training session by how
recent it is.

- `sequential_rules`: what is clicked after what, weighted by the distance in events
  (session-rec's `sr`, which scores the current item's rules only);
- `session_neighbours`: what shares a session with what, each session's pairs weighted
  by their distance and the neighbour damped by its popularity: an item-to-item form of
  V-SKNN, whose sessions-like-this vote the same way when summed over the session's items;
- `completed`: a table's short rows filled with neighbours of neighbours;
- `popularity`: the most clicked items, the fill when the sources run out.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

Table = dict[str, list[tuple[str, float]]]
Sessions = Mapping[str, Sequence[tuple[str, float]]]  # session -> [(item, time)], time order


def sessions_from_clicks(clicks: Iterable[tuple[str, str, float]]) -> dict[str, list[tuple[str, float]]]:
    """{session: [(item, time)] in time order}; equal times keep the input's order.

    Every source takes this grouping, so a caller computing several groups the clicks once.
    """
    grouped: dict[str, list[tuple[float, int, str]]] = defaultdict(list)
    for n, (session, item, time) in enumerate(clicks):
        grouped[session].append((time, n, item))
    return {s: [(item, time) for time, _, item in sorted(rows)] for s, rows in grouped.items()}


def _weighted(sessions: Sessions, half_life_days: float | None):
    """(items, weight) per session: a session ending `age` days before the newest click of
    training weighs 0.5 ** (age / half_life_days) (1 without a half-life), so what was
    clicked lately, which the next day's sessions resemble most, counts for more."""
    newest = max((rows[-1][1] for rows in sessions.values() if rows), default=0.0)
    for rows in sessions.values():
        if not rows:
            continue
        weight = 1.0 if half_life_days is None else 0.5 ** ((newest - rows[-1][1]) / (half_life_days * 86400.0))
        yield [item for item, _ in rows], weight


def _top(rows: Mapping[str, Mapping[str, float]], counts: Mapping[str, float], row_power: float,
         max_neighbours: int) -> Table:
    """Each row's best `max_neighbours`, scores divided by the row item's count**row_power; ties by id."""
    table: Table = {}
    for item, scores in rows.items():
        best = heapq.nsmallest(max_neighbours, scores.items(), key=lambda kv: (-kv[1], kv[0]))
        s = counts[item] ** row_power
        table[item] = [(nb, score / s) for nb, score in best if score > 0]
    return table


def sequential_rules(sessions: Sessions, steps: int = 10, power: float = 1.0, row_power: float = 1.0,
                     half_life_days: float | None = None, max_neighbours: int = 100) -> Table:
    """a -> b scores the clicks of b within `steps` events after a click of a, each 1 / distance**power.

    Divided by a's clicks (those with a successor) ** row_power: at 1, the expected weight
    of b after one click of a. Repeats of a itself are skipped (the current product is
    never served).
    """
    rules: dict[str, Counter] = defaultdict(Counter)
    seen: Counter = Counter()
    weight = [0.0] + [1.0 / d ** power for d in range(1, steps + 1)]
    for items, sw in _weighted(sessions, half_life_days):
        n = len(items)
        for p in range(n - 1):
            a = items[p]
            seen[a] += sw
            row = rules[a]
            for q in range(p + 1, min(n, p + steps + 1)):
                b = items[q]
                if b != a:
                    row[b] += sw * weight[q - p]
    return _top(rules, seen, row_power, max_neighbours)


def session_neighbours(sessions: Sessions, window: int = 50, power: float = 0.5, damping: float = 0.5,
                       length_power: float = 0.0, row_power: float = 1.0, half_life_days: float | None = None,
                       max_neighbours: int = 100) -> Table:
    """a -> b scores the sessions holding both, each pair 1 / distance**power, both directions.

    A session counts each item once (its first click), at most its first `window` distinct
    items (very long sessions are rare, and quadratic), divided by its length**length_power
    (V-SKNN's cosine: a long session says less about each of its pairs). The score is
    divided by a's sessions ** row_power and by b's sessions ** damping: at damping 0 it is
    a co-occurrence frequency, which favours the popular; at 1 a lift. Damping is V-SKNN's
    idf weighting in this form.
    """
    co: dict[str, Counter] = defaultdict(Counter)
    sessions_with: Counter = Counter()
    for items, sw in _weighted(sessions, half_life_days):
        distinct = list(dict.fromkeys(items))[:window]
        for a in distinct:
            sessions_with[a] += sw
        share = sw / len(distinct) ** length_power
        for p, a in enumerate(distinct):
            row = co[a]
            for q, b in enumerate(distinct):
                if q != p:
                    row[b] += share / abs(q - p) ** power
    for row in co.values():
        for b in row:
            row[b] /= sessions_with[b] ** damping
    return _top(co, sessions_with, row_power, max_neighbours)


def completed(table: Table, discount: float = 0.3, fan_out: int = 10, max_neighbours: int = 100) -> Table:
    """The table with each row short of `max_neighbours` filled with neighbours of neighbours.

    A rare product co-occurs with few others, so its row alone leaves the blend short of
    candidates; the rows of its best `fan_out` neighbours (their best 2 x `fan_out` each)
    say what comes near those, and a product reached that way scores discount x s1 x s2
    (summed over the paths), below the direct neighbours of the same strength. Computed
    in batch, so serving still reads one row per product.
    """
    out: Table = {}
    for item, row in table.items():
        if len(row) >= max_neighbours or discount <= 0:
            out[item] = row
            continue
        have = {nb for nb, _ in row}
        reached: dict[str, float] = {}
        for nb, s1 in row[:fan_out]:
            for nb2, s2 in table.get(nb, ())[:2 * fan_out]:
                if nb2 != item and nb2 not in have:
                    reached[nb2] = reached.get(nb2, 0.0) + discount * s1 * s2
        extra = heapq.nsmallest(max_neighbours - len(row), reached.items(), key=lambda kv: (-kv[1], kv[0]))
        out[item] = row + extra
    return out


def popularity(sessions: Sessions, n: int = 100) -> list[tuple[str, float]]:
    """The `n` most clicked items with their share of all clicks, ties by id."""
    counts = Counter(i for rows in sessions.values() for i, _ in rows)
    total = sum(counts.values()) or 1
    return [(i, c / total) for i, c in heapq.nsmallest(n, counts.items(), key=lambda kv: (-kv[1], kv[0]))]
