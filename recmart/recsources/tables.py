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

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter

import numpy as np

Table = dict[str, list[tuple[str, float]]]
Sessions = Mapping[str, Sequence[tuple[str, float]]]  # session -> [(item, time)], time order

# Written for speed (the pair loops as numpy arrays), the functions give the very same tables
# as the plain loops in their comments (bench/quality/tables_before.py, which
# recmart_tests/recsources/test_tables_fast.py compares them to), to the last bit of every
# score: each sum adds the same terms in the same order from 0.0 (a float sum's last bits
# depend on its order), each term is the same IEEE operation on the same doubles (powers are
# Python's), and each ranking is the same total order (score descending, then id).

_second = itemgetter(1)  # the time of an (item, time), the score of an (item, score)


def sessions_from_clicks(clicks: Iterable[tuple[str, str, float]]) -> dict[str, list[tuple[str, float]]]:
    """{session: [(item, time)] in time order}; equal times keep the input's order.

    Every source takes this grouping, so a caller computing several groups the clicks once.
    """
    grouped: defaultdict[str, list[tuple[str, float]]] = defaultdict(list)
    for session, item, time in clicks:
        grouped[session].append((item, time))
    for rows in grouped.values():
        rows.sort(key=_second)  # stable: equal times keep the input's order
    return dict(grouped)


def _best(scores: Mapping[str, float], k: int) -> list[tuple[str, float]]:
    """The `k` best (item, score) of `scores`: score descending, ties by id (what
    `heapq.nsmallest(k, scores.items(), key=lambda kv: (-kv[1], kv[0]))` returns)."""
    if k <= 0 or not scores:
        return []
    if len(scores) > k:
        threshold = sorted(scores.values(), reverse=True)[k - 1]
        ranked = [kv for kv in scores.items() if kv[1] >= threshold]
    else:
        ranked = list(scores.items())
    ranked.sort()  # by id (ids are distinct)
    ranked.sort(key=_second, reverse=True)  # stable: equal scores stay in id order
    del ranked[k:]
    return ranked


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


def _ranked(names: list[str], a: np.ndarray, b: np.ndarray, score: np.ndarray,
            limit: int | np.ndarray, positive: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (a, b, score) that are among a's best `limit` (per a when an array), by score
    descending then b's id (string order), and (when `positive`) score > 0; grouped by a,
    best first."""
    rank = np.empty(len(names), dtype=np.int64)
    rank[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names), dtype=np.int64)
    # one integer key for (a, -score, rank of b) when it fits: the scores' dense rank (equal
    # scores, 0.0 and -0.0 too, share one, as they tie in a sort); the pairs are distinct
    levels, level = np.unique(-score, return_inverse=True)
    if len(names) ** 2 * (len(levels) + 1) < 2 ** 62:
        best = np.argsort((a * len(levels) + level.reshape(-1)) * len(names) + rank[b])
    else:
        best = np.lexsort((rank[b], -score, a))
    a, b, score = a[best], b[best], score[best]
    first = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
    place = np.arange(len(a)) - np.repeat(first, np.diff(np.r_[first, len(a)]))
    keep = place < (limit if isinstance(limit, int) else limit[a])
    if positive:
        keep &= score > 0
    return a[keep], b[keep], score[keep]


def _sums(a: np.ndarray, b: np.ndarray, terms: np.ndarray, order: np.ndarray, width: int):
    """(a, b, sum) per distinct (a, b) in (a, b) order, each sum of its terms from 0.0 in
    `order` (which sorts the terms by (a, b) and, within a pair, in their turn):
    `np.bincount` adds its weights one by one in array order, as `row[b] += term` does."""
    key = (a * width + b)[order]
    new = np.empty(len(key), dtype=bool)
    new[:1] = True
    np.not_equal(key[1:], key[:-1], out=new[1:])
    total = np.bincount(np.cumsum(new) - 1, weights=terms[order])
    return a[order][new], b[order][new], total


def _summed_top(names: list[str], rows: list[int], a: np.ndarray, b: np.ndarray, terms: np.ndarray,
                turn: np.ndarray, counts: list[float], row_power: float, max_neighbours: int,
                damping: float | None = None, both_ways: bool = False) -> Table:
    """The table of the plain form `row[a][b] += term` taken in `turn` order per (a, b), then
    (when given) `row[a][b] /= counts[b] ** damping`, then each row's best `max_neighbours`
    divided by counts[a] ** row_power (the plain `_top`): to the same bits.
    `both_ways`: each term goes to row[b][a] as well.

    Item k is `names[k]`; `rows` are the row items in the order the plain loop creates them.
    Each (a, b) sum adds its terms from 0.0 in `turn` order, as the plain loop does:
    `np.bincount` adds its weights one by one in array order, and the terms are sorted by
    (a, b, turn). Divisions are IEEE divisions of the same doubles. Ranks by score
    descending, then id (string order), keeps the best `max_neighbours` that score > 0.
    Powers are Python's, of the same items as the plain form's, and a division by zero
    raises ZeroDivisionError where the plain form's would.
    """
    table: Table = {names[k]: [] for k in rows}
    scale = np.ones(len(names), dtype=np.float64)
    for k in rows:
        scale[k] = counts[k] ** row_power
    if not len(terms):
        return table
    key = a * len(names) + b
    span = int(turn.max()) + 1
    if len(names) ** 2 * span < 2 ** 62:
        order = np.argsort(key * span + turn)  # distinct values: no ties to break
    else:
        order = np.lexsort((turn, key))
    a, b, total = _sums(a, b, terms, order, len(names))
    if both_ways:
        a, b, total = np.concatenate([a, b]), np.concatenate([b, a]), np.concatenate([total, total])
    if damping is None:
        score = total
    else:
        damped = np.ones(len(names), dtype=np.float64)
        for k in np.unique(b).tolist():
            damped[k] = counts[k] ** damping
        if not damped.all():
            raise ZeroDivisionError("float division by zero")
        score = total / damped[b]
    a, b, score = _ranked(names, a, b, score, max_neighbours)
    if not scale[a].all():
        raise ZeroDivisionError("float division by zero")
    score = score / scale[a]
    for x, row in _grouped(names, a, b, score).items():
        table[names[x]] = row
    return table


def sequential_rules(sessions: Sessions, steps: int = 10, power: float = 1.0, row_power: float = 1.0,
                     half_life_days: float | None = None, max_neighbours: int = 100) -> Table:
    """a -> b scores the clicks of b within `steps` events after a click of a, each 1 / distance**power.

    Divided by a's clicks (those with a successor) ** row_power: at 1, the expected weight
    of b after one click of a. Repeats of a itself are skipped (the current product is
    never served).
    """
    # Plain form: a Counter per item, `rules[a][b] += sw * weight[q - p]` for q in the
    # `steps` after p, b != a, for p in each session in turn, then `_top`: the turn of a term
    # is (p, q) over all clicks in order.
    weight = [0.0] + [1.0 / d ** power for d in range(1, steps + 1)]
    ids: dict[str, int] = {}
    rows: dict[int, None] = {}  # the row items, in the order the plain loop creates them
    seen: list[float] = []
    flat: list[int] = []
    ends: list[int] = []
    weights: list[float] = []
    for items, sw in _weighted(sessions, half_life_days):
        last = len(items) - 1
        for p, a in enumerate(items):
            k = ids.get(a)
            if k is None:
                k = ids[a] = len(ids)
                seen.append(0.0)
            if p < last:
                seen[k] += sw
                rows[k] = None
            flat.append(k)
        ends.append(len(flat))
        weights.append(sw)
    item = np.array(flat, dtype=np.int64)
    length = np.array([0] + ends, dtype=np.int64)
    length = length[1:] - length[:-1]
    session = np.repeat(np.arange(len(ends), dtype=np.int64), length)
    end = np.array(ends, dtype=np.int64)[session]
    at = np.arange(len(flat), dtype=np.int64)
    sw_of = np.array(weights, dtype=np.float64)
    reach = min(steps, int(length.max(initial=1)) - 1)
    firsts, seconds, turns, terms = [], [], [], []
    for d in range(1, reach + 1):
        here = np.flatnonzero(at + d < end)
        here = here[item[here] != item[here + d]]
        firsts.append(item[here])
        seconds.append(item[here + d])
        terms.append(sw_of[session[here]] * np.float64(weight[d]))
        turns.append(here * reach + (d - 1))
    return _summed_top(list(ids), list(rows), *_joined(firsts, seconds, terms, turns), seen, row_power,
                       max_neighbours)


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
    # Plain form: a Counter per item, `co[a][b] += share / abs(q - p) ** power` for each
    # ordered pair (p, q) of each session in turn, then `co[a][b] /= sessions_with[b] **
    # damping`, then `_top`. A session adds to each (a, b) once, so the turn is the session.
    ids: dict[str, int] = {}  # item -> id, in the order the plain loop creates the rows
    flat: list[int] = []
    lengths: list[int] = []
    shares: list[float] = []
    sessions_with: list[float] = []
    for items, sw in _weighted(sessions, half_life_days):
        distinct = list(dict.fromkeys(items))[:window]
        for a in distinct:
            k = ids.get(a)
            if k is None:
                k = ids[a] = len(ids)
                sessions_with.append(0.0)
            sessions_with[k] += sw
            flat.append(k)
        lengths.append(len(distinct))
        shares.append(sw / len(distinct) ** length_power)
    longest = max(lengths, default=0)
    spread = [1.0] + [d ** power for d in range(1, longest)]  # spread[d] = d ** power (0 unused)
    item = np.array(flat, dtype=np.int64)
    length = np.array(lengths, dtype=np.int64)
    session = np.repeat(np.arange(len(lengths), dtype=np.int64), length)
    end = np.cumsum(length)[session]
    at = np.arange(len(flat), dtype=np.int64)
    share = np.array(shares, dtype=np.float64)
    firsts, seconds, turns, terms = [], [], [], []
    for d in range(1, longest):
        p = np.flatnonzero(at + d < end)
        # (a, b) and (b, a) get the same terms in the same order, so the same sum: one of them
        firsts.append(np.minimum(item[p], item[p + d]))
        seconds.append(np.maximum(item[p], item[p + d]))
        turns.append(session[p])
        terms.append(share[session[p]] / np.float64(spread[d]))
    return _summed_top(list(ids), list(range(len(ids))), *_joined(firsts, seconds, terms, turns),
                       sessions_with, row_power, max_neighbours, damping, both_ways=True)


def _joined(firsts: list[np.ndarray], seconds: list[np.ndarray], terms: list[np.ndarray],
            turns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The per-distance pieces as four arrays (a, b, term, turn)."""
    def joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
    return joined(firsts, np.int64), joined(seconds, np.int64), joined(terms, np.float64), joined(turns, np.int64)


def completed(table: Table, discount: float = 0.3, fan_out: int = 10, max_neighbours: int = 100) -> Table:
    """The table with each row short of `max_neighbours` filled with neighbours of neighbours.

    A rare product co-occurs with few others, so its row alone leaves the blend short of
    candidates; the rows of its best `fan_out` neighbours (their best 2 x `fan_out` each)
    say what comes near those, and a product reached that way scores discount x s1 x s2
    (summed over the paths), below the direct neighbours of the same strength. Computed
    in batch, so serving still reads one row per product.
    """
    # Plain form: per short row, `reached[nb2] = reached.get(nb2, 0.0) + discount * s1 * s2`
    # for nb, s1 in row[:fan_out], for nb2, s2 in table.get(nb, ())[:2 * fan_out], nb2 neither
    # the item nor in its row; then the best `max_neighbours - len(row)` of `reached` by
    # (-score, id) appended. Here the paths in that order, summed per (item, nb2) in order.
    ids: dict[str, int] = {item: k for k, item in enumerate(table)}
    flat_nb: list[int] = []
    flat_s: list[float] = []
    starts: list[int] = []
    firsts: list[int] = []  # len(row[:fan_out]) of a short row, else 0
    heads: list[int] = []  # len(row[:2 * fan_out])
    for row in table.values():
        starts.append(len(flat_nb))
        n = len(row)
        firsts.append(len(range(n)[:fan_out]) if n < max_neighbours and discount > 0 else 0)
        heads.append(len(range(n)[:2 * fan_out]))
        for nb, s in row:
            k = ids.get(nb)
            if k is None:
                k = ids[nb] = len(ids)
            flat_nb.append(k)
            flat_s.append(s)
    names = list(ids)
    rows = len(table)
    nb_of = np.array(flat_nb, dtype=np.int64)
    s_of = np.array(flat_s, dtype=np.float64)
    start = np.array(starts, dtype=np.int64)
    # level 1: (item, position of nb in the flat rows), item by item, nb in row order
    count1 = np.array(firsts, dtype=np.int64)
    item1 = np.repeat(np.arange(rows, dtype=np.int64), count1)
    pos1 = _within(count1) + start[item1]
    # level 2: the head of nb's row, when nb has a row
    nb1 = nb_of[pos1]
    has_row = nb1 < rows
    count2 = np.where(has_row, np.array(heads, dtype=np.int64)[np.minimum(nb1, rows - 1)], 0)
    item2 = np.repeat(item1, count2)
    pos2 = _within(count2) + np.repeat(np.where(has_row, start[np.minimum(nb1, rows - 1)], 0), count2)
    terms = np.float64(discount) * np.repeat(s_of[pos1], count2) * s_of[pos2]
    nb2 = nb_of[pos2]
    # neither the item nor one of its direct neighbours
    direct = np.repeat(np.arange(rows, dtype=np.int64), np.diff(np.r_[start, len(flat_nb)])) * len(names) + nb_of
    direct.sort()
    wanted = item2 * len(names) + nb2
    found = np.zeros(len(wanted), dtype=bool)
    if len(direct):
        found = direct[np.minimum(np.searchsorted(direct, wanted), len(direct) - 1)] == wanted
    keep = (nb2 != item2) & ~found
    item2, nb2, terms = item2[keep], nb2[keep], terms[keep]
    extra: dict[int, list[tuple[str, float]]] = {}
    if len(terms):
        a, b, total = _sums(item2, nb2, terms, np.argsort(wanted[keep], kind="stable"), len(names))
        room = max_neighbours - np.array([len(row) for row in table.values()], dtype=np.int64)
        a, b, total = _ranked(names, a, b, total, room, positive=False)
        extra = _grouped(names, a, b, total)
    return {item: row + extra.get(k, []) if len(row) < max_neighbours and discount > 0 else row
            for k, (item, row) in enumerate(table.items())}


def _grouped(names: list[str], a: np.ndarray, b: np.ndarray, score: np.ndarray) -> dict[int, list[tuple[str, float]]]:
    """{a: [(name of b, score)]} of (a, b, score) grouped by a, in their order."""
    pairs = list(zip(np.array(names, dtype=object)[b].tolist(), score.tolist(), strict=True))
    cuts = (np.flatnonzero(a[1:] != a[:-1]) + 1).tolist()
    return {x: pairs[i:j] for x, i, j in zip(a[[0] + cuts].tolist() if len(a) else [], [0] + cuts,
                                             cuts + [len(a)], strict=False)}


def _within(counts: np.ndarray) -> np.ndarray:
    """0 .. count - 1 for each count, concatenated."""
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - counts, counts)


def popularity(sessions: Sessions, n: int = 100) -> list[tuple[str, float]]:
    """The `n` most clicked items with their share of all clicks, ties by id."""
    counts = Counter(i for rows in sessions.values() for i, _ in rows)
    total = sum(counts.values()) or 1
    return [(i, c / total) for i, c in _best(counts, n)]
