"""The real-time recommender: a user's top-N from the candidate sources of what they recently touched.

Each of the user's most recent events makes its product a *seed*, weighted by the kind of
event (adding to the cart says more than viewing; removing from it says "less of this")
and by recency: in events (halving every `half_life_events` events back from the newest,
times 1 / (1 + events back) ** `harmonic_power`), which within a session says far more
than the clock, and in time (halving every `half_life_hours`), which discounts what was
touched in earlier visits. Only the newest `window` distinct products seed.

A seed's candidates come from its rows in the snapshot: the session-aware sources
(`recmart.recsources`: sequential rules, session neighbours), each scaled by its weight in
`source_weights`, when the snapshot has any for the product; otherwise (a product outside
the sources' window, or a snapshot loaded before they existed) its item neighbours. A
candidate's score is the sum of seed weight x source weight x row score. The loader blends
a product's sources into one row when the snapshot loads (`ItemInfo.blend`: source weight x
score summed over the union of the rows' entries, `blend_row`), so scoring makes one pass per
seed over that row; a product with separate rows only (a store loaded before the blend)
is blended here, the same way, at `source_weights`. A candidate's reason is the seed that
contributed most to its score. Rows as the loader writes them (best first, each candidate
once) are not scored entry by entry: `_pruned` scores only the candidates a bound says can
make the top N, with exactly the sums and reasons of scoring every entry. Slots the
candidates cannot fill are filled from trending: the seeds' master categories, then
overall, then the popularity list the sources were built with (`POPULAR`).

`recmart evaluate` and the daily `curated_recommendation_quality` report judge this function
(`recmart.evaluation.recommenders`), so what they measure is what the handler serves.

Never recommended: what the user bought within the purchase window, and the product of
their newest event (the item just viewed). All of it is a pure function of the history
and the snapshot: no wall clock, so the same input gives the same output, replays included.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice

from recmart.realtime.history import MICROS_PER_DAY, UserHistory
from recmart.realtime.store.base import POPULAR, TRENDING_ALL, ItemInfo, Neighbour, category_scope

# rt-sessions-4: seeds from the newest 4 distinct products (10 in rt-sessions-3: the same
# quality on the validation split, two fifths of the rows to score). rt-sessions-3: the
# sources pre-blended per product at load; a reason names the seed whose blended row
# contributed most.
SCORER_VERSION = "rt-sessions-4"

# Why these weights: an add-to-cart is a much stronger intent signal than a view; a removal
# is negative evidence about the product (and, through it, about its neighbours).
EVENT_WEIGHTS = {"view": 1.0, "add_to_cart": 3.0, "remove_from_cart": -2.0}

_MICROS_PER_HOUR = 3_600_000_000


@dataclass(frozen=True)
class ScoringSettings:
    top_n: int = 20
    seed_events: int = 20  # how many of the newest events seed candidates
    # Neighbour entries scored per user, shared among the seeds (each gets its best ones, at
    # least 10): bounds the worst case (20 seeds x 50 neighbours) at little cost in quality,
    # since a neighbour far down every seed's list rarely makes a blended top 20 (on the
    # benchmark's synthetic snapshot, 99.8% of the unbounded top 20 on average).
    candidate_budget: int = 200
    half_life_hours: float = 24.0
    purchase_window_days: float = 30.0
    # Recency in events, tuned with the session sources on the validation split of the
    # RSC15 sample (bench/quality/RESULTS.md): the newest click says most.
    half_life_events: float = 1.5
    harmonic_power: float = 0.5
    # Newest distinct products that seed. Tuned as above: 4 scores as well as 10 on the
    # validation split (bench/quality/RESULTS.md; 3 and fewer lose): the fifth product (4 events
    # back at the least) weighs 0.07 of the newest, so each one more costs a row's scoring and
    # changes almost no list.
    window: int = 4
    # Per session-aware source, its weight (tuned as above); a source not named is not blended.
    # The loader blends at these defaults (`recmart.realtime.loader.SOURCE_WEIGHTS`): a stored
    # blended row carries them, whatever a caller passes here.
    source_weights: tuple[tuple[str, float], ...] = (("sequential_rules", 1.0), ("session_neighbours", 4.0))
    # Blended session entries scored per seed: max(10, source_budget // seeds). A blended row
    # holds at most the union of two rows of 100, and seeds are at most `window`, so at the
    # defaults every row is scored whole (as tuned).
    source_budget: int = 2000


def blend_row(rows: Mapping[str, Sequence[tuple[str, float]]],
              weights: Sequence[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    """One product's session rows {source: rows} as one row: each candidate of any of the rows
    once, scored sum of source weight x score (a source not in `weights`, or of weight 0, is
    left out), best first, ties by product id. Nothing is cut: the union of the rows."""
    blended: dict[str, float] = {}
    for source, sw in weights:
        row = rows.get(source)
        if row and sw:
            for nid, s in row:
                c = sw * s
                if nid in blended:
                    blended[nid] += c
                else:
                    blended[nid] = c
    return tuple(sorted(blended.items(), key=lambda kv: (-kv[1], kv[0])))


def seed_weights(history: UserHistory, settings: ScoringSettings) -> dict[str, float]:
    """{product: weight} of the newest events' products (at most `window`), newest first."""
    events = history.events[-settings.seed_events:]
    if not events:
        return {}
    newest = events[-1].event_micros
    half_life = settings.half_life_hours * _MICROS_PER_HOUR
    half_life_events, harmonic = settings.half_life_events, settings.harmonic_power
    weights: dict[str, float] = {}
    for back, e in enumerate(reversed(events)):
        pid = e.product_id
        if pid not in weights and len(weights) == settings.window:
            continue  # an older event of a seed still counts; a new product does not
        decay = 0.5 ** ((newest - e.event_micros) / half_life) * 0.5 ** (back / half_life_events) / (1 + back) ** harmonic
        weights[pid] = weights.get(pid, 0.0) + EVENT_WEIGHTS.get(e.event_type, 0.0) * decay
    return weights


def excluded_products(history: UserHistory, settings: ScoringSettings) -> set[str]:
    """Products never to recommend now: bought in the window, and the one just interacted with."""
    newest = history.newest_micros
    if newest is None:
        return set()
    since = newest - int(settings.purchase_window_days * MICROS_PER_DAY)
    excluded = {p.product_id for p in history.purchases if p.purchased_micros >= since}
    if history.events:
        excluded.add(history.events[-1].product_id)
    return excluded


def trending_scopes(weights: Mapping[str, float], items: Mapping[str, ItemInfo]) -> list[str]:
    """Scopes to fill from, best first: the seeds' categories by seed weight, 'all', then POPULAR."""
    scopes: list[str] = []
    for pid, w in sorted(weights.items(), key=lambda kv: -kv[1]):
        item = items.get(pid)
        if w > 0 and item is not None and item.category:
            scope = category_scope(item.category)
            if scope not in scopes:
                scopes.append(scope)
    scopes.append(TRENDING_ALL)
    scopes.append(POPULAR)
    return scopes


def trending_scopes_of(weights: Sequence[Mapping[str, float]], items: Mapping[str, ItemInfo]) -> set[str]:
    """Every scope `trending_scopes` names for any of these users: what to read for a batch.

    One pass over all the users' seeds, and one item lookup per distinct product.
    """
    if not weights:
        return set()
    positive = {pid for user in weights for pid, w in user.items() if w > 0}
    categories = {item.category for item in map(items.get, positive) if item is not None and item.category}
    return {TRENDING_ALL, POPULAR, *map(category_scope, categories)}


def _best(scores: dict[str, float], n: int, nth: float | None = None) -> list[str]:
    """The n best positive candidates, ties broken by product id.

    The n-th best score comes from one sort of the bare floats (in C, no key function), or is
    `nth` when the caller has it; only the candidates at or above it (n, or a few more on a
    tie) are then ordered by score and product id.
    """
    if len(scores) > n:
        threshold = sorted(scores.values(), reverse=True)[n - 1] if nth is None else nth
        top = [pid for pid, s in scores.items() if s >= threshold and s > 0]
    else:
        top = [pid for pid, s in scores.items() if s > 0]
    top.sort()
    top.sort(key=scores.__getitem__, reverse=True)  # stable: equal scores stay in id order
    return top[:n]


def _reasons(top: list[str], seeds: list[tuple[float, ItemInfo]], per_seed: int) -> dict[str, str]:
    """{candidate: the seed that contributed most to it}: what each reason names.

    For a seed whose whole list was scored, a set intersection in C finds which of the
    few top candidates it lists, so the cost does not grow with the neighbour list; for
    a seed cut to its best `per_seed` (many seeds: short prefixes), scanning the prefix
    is cheaper than intersecting the whole list and then checking ranks.
    """
    wanted = set(top)
    best: dict[str, float] = {}
    reasons: dict[str, str] = {}
    get = best.get
    for w, item in seeds:
        scores = item.neighbour_scores
        n = len(item.neighbours)
        if per_seed < n and len(scores) == n:  # cut, and each neighbour listed once
            for pid, s in item.neighbours[:per_seed]:
                if pid in wanted:
                    contribution = w * s
                    if contribution > get(pid, 0.0):
                        best[pid] = contribution
                        reasons[pid] = item.product_id
        else:
            found: set[str] | list[str] = wanted.intersection(scores)
            if per_seed < n:  # a neighbour listed twice (the loader never writes that): by rank
                rank = item.neighbour_rank
                found = [pid for pid in found if rank[pid] < per_seed]
            for pid in found:
                contribution = w * scores[pid]
                if contribution > get(pid, 0.0):
                    best[pid] = contribution
                    reasons[pid] = item.product_id
    return reasons


def recommend(
    history: UserHistory,
    items: Mapping[str, ItemInfo],
    trending: Mapping[str, Sequence[tuple[str, float]]],
    settings: ScoringSettings = ScoringSettings(),
    weights: Mapping[str, float] | None = None,
) -> list[dict]:
    """Up to `top_n` `{product_id, score, reason}`, best first.

    `items` must hold the seeds (products of the newest `seed_events` events) that the
    snapshot knows; `trending` the scopes `trending_scopes` names. `weights` may pass in
    `seed_weights(history, settings)` when the caller has it already.
    """
    if weights is None:
        weights = seed_weights(history, settings)
    excluded = excluded_products(history, settings)

    seeds = [(w, items[seed]) for seed, w in weights.items() if w != 0.0 and seed in items]
    if any(item.blend or item.sources for _, item in seeds):
        return _fill(_from_sources(seeds, excluded, settings), excluded, weights, items, trending, settings)
    per_seed = max(10, settings.candidate_budget // max(1, len(seeds)))
    # The hot loop of the handler: the first seed by a comprehension (faster, and often the
    # only seed), the others by plain dict arithmetic (`in` then `+=`: cheaper than
    # `get(nid, 0.0) +`; a new candidate's w * s differs from 0.0 + w * s only in the sign
    # of a zero, which never ranks or shows).
    # Alongside, which seed listed each candidate first and which candidates were listed
    # again: a candidate that only one seed lists owes its whole score to that seed, so that
    # seed is its reason without any search (most of the top); `_reasons` searches the rest.
    scores: dict[str, float] = {}
    origin: dict[str, str] = {}
    shared: set[str] = set()
    if seeds:
        w, item = seeds[0]
        scores = {nid: w * s for nid, s in item.neighbours[:per_seed]}
        origin = dict.fromkeys(scores, item.product_id)
    for w, item in seeds[1:]:
        seed = item.product_id
        for nid, s in item.neighbours[:per_seed]:
            if nid in scores:
                scores[nid] += w * s
                shared.add(nid)
            else:
                scores[nid] = w * s
                origin[nid] = seed
    for _, item in seeds:
        if len(item.neighbour_scores) != len(item.neighbours):
            # A neighbour listed twice (the loader never writes that): let `_reasons` decide.
            shared.update(nid for nid, _ in item.neighbours[:per_seed])
    for pid in excluded:
        scores.pop(pid, None)

    top = _best(scores, settings.top_n)
    reasons = {pid: origin[pid] for pid in top if pid not in shared}
    if len(reasons) < len(top):
        reasons.update(_reasons([pid for pid in top if pid in shared], seeds, per_seed))
    chosen = [{"product_id": pid, "score": scores[pid], "reason": f"similar_to:{reasons[pid]}"} for pid in top]
    return _fill(chosen, excluded, weights, items, trending, settings)


def _from_sources(seeds: list[tuple[float, ItemInfo]], excluded: set[str], settings: ScoringSettings) -> list[dict]:
    """The blended candidates when some seed has session rows: each such seed through its
    blended row, any other through its item neighbours (weight 1); one pass per seed."""
    per_row = max(10, settings.source_budget // max(1, len(seeds)))
    indexed = _indexed_rows(seeds, per_row)
    if indexed is not None:
        found = _pruned(indexed, excluded, settings.top_n)
        if found is not None:
            return found
    rows: list[tuple[float, str, tuple]] = []
    for w, item in seeds:
        row = item.blend or (blend_row(item.sources, settings.source_weights) if item.sources else item.neighbours)
        if row:
            rows.append((w, item.product_id, row[:per_row]))
    scores: dict[str, float] = {}
    best: dict[str, float] = {}  # the largest contribution of one seed, and whose it is: the reason
    reasons: dict[str, str] = {}
    if rows:
        # The first seed by comprehensions (often the only one, and the heaviest): each
        # candidate is listed once in a blended row (the loader writes no other), so its
        # contribution is its score so far; a row listing one twice takes the loop.
        w, seed, row = rows[0]
        scores = {nid: w * s for nid, s in row}
        if len(scores) == len(row):
            best = scores.copy()
            reasons = dict.fromkeys(scores, seed)
            rows = rows[1:]
        else:
            scores = {}
    _add(rows, scores, best, reasons)
    for pid in excluded:
        scores.pop(pid, None)
    return _listed(scores, reasons, settings.top_n)


def _add(rows: Iterable[tuple[float, str, Iterable[Neighbour]]], scores: dict[str, float],
         best: dict[str, float], reasons: dict[str, str]) -> None:
    """Adds w x s of each (candidate, s) of each (w, seed, entries) to `scores`, in row order
    (the order of each sum's terms); `best` and `reasons` keep each candidate's largest
    contribution and its seed (the first seed on a tie)."""
    for w, seed, entries in rows:
        for nid, s in entries:
            c = w * s
            if nid in scores:
                scores[nid] += c
                if c > best[nid]:
                    best[nid] = c
                    reasons[nid] = seed
            else:
                scores[nid] = best[nid] = c
                reasons[nid] = seed


def _listed(scores: dict[str, float], reasons: Mapping[str, str], n: int, nth: float | None = None) -> list[dict]:
    return [{"product_id": pid, "score": scores[pid], "reason": f"similar_to:{reasons[pid]}"}
            for pid in _best(scores, n, nth)]


_IndexedRow = tuple[float, str, tuple[Neighbour, ...], dict[str, float]]  # weight, seed, row, `row_index`


def _indexed_rows(seeds: list[tuple[float, ItemInfo]], per_row: int) -> list[_IndexedRow] | None:
    """(weight, seed, row, `row_index` of the row) of each seed's row as `_from_sources` scores it,
    in seed order, or None when `_pruned` cannot take them all (a row cut, listing a candidate
    twice, not best first, a product whose separate source rows would be blended here, a weight
    not finite)."""
    rows = []
    for w, item in seeds:
        if item.blend:
            row, index = item.blend, item.blend_index
        elif item.sources:
            return None
        elif item.neighbours:
            row, index = item.neighbours, item.neighbour_index
        else:
            continue
        if index is None or len(row) > per_row or not math.isfinite(w):
            return None
        rows.append((w, item.product_id, row, index))
    return rows


def _negative_score(pair: Neighbour) -> float:
    return -pair[1]


def _pruned(rows: list[_IndexedRow], excluded: set[str], n: int) -> list[dict] | None:
    """What the loop of `_from_sources` gives, found by scoring only the candidates that can make the
    top n (exact: the same lists, scores bit for bit and reasons), or None when the bound below
    does not settle it (the caller then scores every entry).

    Rows are best first, scores non-negative (`row_index`). A candidate outside the head of every
    row of positive weight (its entries w x s <= eps, where eps is chosen from the rows' heads)
    scores at most U, the sum over those rows of w x the first score past the head; rows of
    negative weight only lower it. So the heads' candidates B hold the top n whenever the n-th
    best total in B exceeds U (by a margin far above float rounding). Every candidate of B is
    scored whole: each row's entries for B (a set intersection, in C), in seed order, as the loop
    adds them, with the same largest contribution as its reason. On the benchmark's clicks B is
    about a seventh of the rows' entries with ten seeds, and 23 of 150 with one.
    """
    positive = [(w, row, index) for w, _, row, index in rows if w > 0]
    wanted = n + len(excluded)  # candidates enough for n slots even if the excluded are among them
    if len(positive) == 1:
        w, row, _ = positive[0]
        if len(row) <= wanted:
            return None  # hardly more candidates than slots: nothing to prune
        estimate = w * row[wanted - 1][1]
        firsts = [w * row[0][1]]
    else:
        heads: list[float] = []
        size = 0
        for w, row, _ in positive:
            heads += [w * s for _, s in row[:wanted]]
            size += len(row)
        if size <= wanted:
            return None
        heads.sort(reverse=True)
        estimate = heads[wanted - 1]  # about the n-th best total, or below it
        firsts = sorted([w * row[0][1] for w, row, _ in positive])
    # eps: the largest with sum over rows of min(w x first score, eps) <= 0.9 x estimate, a bound
    # on U (water filling over the rows' first contributions, smallest first).
    budget, eps, left = 0.9 * estimate, 0.0, len(firsts)
    for first in firsts:
        level = budget / left
        if level <= first:
            eps = level
            break
        budget -= first
        left -= 1
    if not eps > 0:
        return None
    heads_of: set[str] = set()
    bound = 0.0
    for w, row, index in positive:
        d = bisect_left(row, -eps / w, key=_negative_score)  # the entries with w x s > eps, about
        heads_of.update(islice(index, d))  # the first d candidates (the index is in row order)
        if d < len(row):
            bound += w * row[d][1]
    magnitude = 0.0
    for w, _, row, _ in rows:
        magnitude += abs(w) * row[0][1]
    totals, reasons = _sums(rows, heads_of)
    for pid in excluded:
        totals.pop(pid, None)
    if len(totals) < n:
        return None
    nth = sorted(totals.values(), reverse=True)[n - 1]
    if not nth > bound + 1e-9 * magnitude:
        return None
    return _listed(totals, reasons, n, nth)


def _sums(rows: list[_IndexedRow], wanted: set[str]) -> tuple[dict[str, float], dict[str, str]]:
    """({candidate: total}, {candidate: reason}) over the `wanted` candidates of the rows: what `_add`
    gives on their entries, in seed order. A candidate a row brings first is written by
    comprehensions (in C, most of the entries); only one already scored takes the loop, `+=` in
    seed order (the same sums bit for bit) and the larger contribution as its reason."""
    totals: dict[str, float] = {}
    best: dict[str, float] = {}
    reasons: dict[str, str] = {}
    for w, seed, _, index in rows:
        listed = index.keys() & wanted
        if totals:
            again = listed & totals.keys()
            listed -= again
            for nid in again:
                c = w * index[nid]
                totals[nid] += c
                if c > best[nid]:
                    best[nid] = c
                    reasons[nid] = seed
        fresh = {nid: w * index[nid] for nid in listed}
        totals.update(fresh)
        best.update(fresh)
        reasons.update(dict.fromkeys(fresh, seed))
    return totals, reasons


def _fill(chosen: list[dict], excluded: set[str], weights: Mapping[str, float], items: Mapping[str, ItemInfo],
          trending: Mapping[str, Sequence[tuple[str, float]]], settings: ScoringSettings) -> list[dict]:
    if len(chosen) < settings.top_n:
        # Fill scores sit below every neighbour score and decrease with the fill position:
        # they only order the fill; what a fill item is, its reason says.
        floor = chosen[-1]["score"] / 2 if chosen else 1.0
        taken = excluded | {c["product_id"] for c in chosen}
        filled = 0
        for scope in trending_scopes(weights, items):
            for pid, _ in trending.get(scope, ()):
                if len(chosen) == settings.top_n:
                    break
                if pid not in taken:
                    taken.add(pid)
                    chosen.append({"product_id": pid, "score": floor / (1 + filled),
                                   "reason": f"trending:{scope}"})
                    filled += 1
    return chosen
