"""Load a snapshot of the batch models into the recommendation store (for a Dagster asset).

    stats = load_snapshot(store, neighbours_rows, trending_rows, version="2026-11-20",
                          products=product_rows)

Rows are shaped like the lake tables: ITEM_NEIGHBOURS (`product_id, neighbour_id, rank,
score, ...`), TRENDING_PRODUCTS (`scope, product_id, rank, trend_score, ...`) and
RAW_PRODUCTS (`product_id, name, master_category, ...`) for names and categories. The
store writes only what changed and then switches its current-snapshot pointer; see
`store/snapshot.py`. The Dagster asset `recommendation_snapshot` reads these rows from the
lake and calls this.

The session-aware sources are stored pre-blended: one row per product (`blend_sources`), the
sum of source weight x score over the union of the sources' rows at `SOURCE_WEIGHTS`, so the
handler scores one row per seed, and reads records half the size. `recmart evaluate` and the
quality report build their in-memory items with the same function
(`recmart.evaluation.recommenders.snapshot_items`), so they judge exactly what is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from recmart.realtime.scoring import ScoringSettings, blend_row
from recmart.realtime.store.base import (
    POPULAR,
    Neighbour,
    ProductInfo,
    RecommendationStore,
    TrendingEntry,
)
from recmart.realtime.store.snapshot import _score, blend_score

# The weights the stored blend is made with: the scorer's defaults (as tuned).
SOURCE_WEIGHTS: tuple[tuple[str, float], ...] = ScoringSettings().source_weights

MAX_NEIGHBOURS = 50
MAX_TRENDING = 100


def _require(row: Mapping, columns: tuple[str, ...], table: str) -> None:
    missing = [c for c in columns if row.get(c) is None]
    if missing:
        raise ValueError(f"{table} row without {', '.join(missing)}: {dict(row)!r}")


def group_neighbours(rows: Iterable[Mapping], limit: int = MAX_NEIGHBOURS) -> dict[str, list[Neighbour]]:
    """{product: [(neighbour, score)] best first}, at most `limit` each, self-pairs dropped."""
    ranked: dict[str, dict[str, tuple[int, float]]] = {}
    for row in rows:
        _require(row, ("product_id", "neighbour_id", "rank", "score"), "item_neighbours")
        pid, nid = str(row["product_id"]), str(row["neighbour_id"])
        if pid == nid:
            continue
        entry = (int(row["rank"]), float(row["score"]))
        current = ranked.setdefault(pid, {}).get(nid)
        if current is None or entry < current:
            ranked[pid][nid] = entry
    return {
        pid: [(nid, score) for nid, (rank, score) in sorted(by_nid.items(), key=lambda kv: (kv[1][0], -kv[1][1], kv[0]))][:limit]
        for pid, by_nid in ranked.items()
    }


def group_trending(rows: Iterable[Mapping], limit: int = MAX_TRENDING) -> dict[str, list[TrendingEntry]]:
    """{scope: [(product, trend_score)] best first}, at most `limit` each."""
    ranked: dict[str, dict[str, tuple[int, float]]] = {}
    for row in rows:
        _require(row, ("scope", "product_id", "rank", "trend_score"), "trending_products")
        scope, pid = str(row["scope"]), str(row["product_id"])
        entry = (int(row["rank"]), float(row["trend_score"]))
        current = ranked.setdefault(scope, {}).get(pid)
        if current is None or entry < current:
            ranked[scope][pid] = entry
    return {
        scope: [(pid, score) for pid, (rank, score) in sorted(by_pid.items(), key=lambda kv: (kv[1][0], -kv[1][1], kv[0]))][:limit]
        for scope, by_pid in ranked.items()
    }


def blend_product(rows: Mapping[str, Iterable[Neighbour]],
                  weights: Iterable[tuple[str, float]] = SOURCE_WEIGHTS) -> tuple[Neighbour, ...]:
    """One product's {source: rows} as its stored blended row: the scores at the precision the
    store kept per source (six significant digits), blended (`scoring.blend_row`), each sum at
    the precision the store keeps it (`snapshot.blend_score`), best first, ties by id."""
    rounded = {source: [(str(nid), _score(s)) for nid, s in row] for source, row in rows.items()}
    row = ((nid, blend_score(s)) for nid, s in blend_row(rounded, tuple(weights)))
    return tuple(sorted(row, key=lambda kv: (-kv[1], kv[0])))


def blend_sources(sources: Mapping[str, Mapping[str, Iterable[Neighbour]]],
                  weights: Iterable[tuple[str, float]] = SOURCE_WEIGHTS) -> dict[str, tuple[Neighbour, ...]]:
    """{product: blended row} of {source: {product: rows}}: what the store holds for each product
    that any source knows (a product whose blend is empty, e.g. only in a source of weight 0, has none)."""
    weights = tuple(weights)
    products = sorted({pid for table in sources.values() for pid in table})
    blends = {}
    for pid in products:
        row = blend_product({source: table[pid] for source, table in sources.items() if table.get(pid)}, weights)
        if row:
            blends[pid] = row
    return blends


def product_infos(rows: Iterable[Mapping]) -> dict[str, ProductInfo]:
    infos = {}
    for row in rows:
        _require(row, ("product_id",), "products")
        infos[str(row["product_id"])] = ProductInfo(row.get("name"), row.get("master_category"))
    return infos


def load_snapshot(
    store: RecommendationStore,
    neighbours: Iterable[Mapping],
    trending: Iterable[Mapping],
    version: str,
    products: Iterable[Mapping] | None = None,
    max_neighbours: int = MAX_NEIGHBOURS,
    max_trending: int = MAX_TRENDING,
    sources: Mapping[str, Mapping[str, list[Neighbour]]] | None = None,
    popular: list[TrendingEntry] | None = None,
    preblend: bool = True,
    blends: Mapping[str, tuple[Neighbour, ...]] | None = None,
) -> dict:
    """Make these rows the store's current snapshot, labelled `version`; returns load statistics.

    `products` None keeps the product names and categories already loaded. Loading the
    same rows under the same version twice writes nothing the second time. `sources`
    {source: {product: rows}} and `popular` [(product, share)] are the session-aware
    candidate sources and their popularity fill (`recmart.recsources.snapshot`), stored
    with the snapshot: `popular` as the trending scope POPULAR. The sources are stored as one
    blended row per product (`blend_sources`); `preblend` False stores them as separate rows
    instead, the layout before (rt-sessions-2), which only the benchmark's reference uses.
    `blends`, when given, is `blend_sources(sources)` made already (the daily run makes it once
    for the snapshot and the next day's quality report).
    """
    if not version or not isinstance(version, str):
        raise ValueError(f"version must be a non-empty string, got {version!r}")
    neighbour_lists = group_neighbours(neighbours, max_neighbours)
    trending_lists = group_trending(trending, max_trending)
    infos = product_infos(products) if products is not None else None
    if popular:
        trending_lists[POPULAR] = list(popular)[:max_trending]
    if preblend:
        if blends is None:
            blends = blend_sources(sources or {})
        stats = store.load_snapshot(neighbour_lists, trending_lists, version, infos, blends=blends)
        stats["blend_rows"] = sum(len(row) for row in blends.values())
    else:
        stats = store.load_snapshot(neighbour_lists, trending_lists, version, infos, sources)
    stats["neighbour_rows"] = sum(len(v) for v in neighbour_lists.values())
    stats["trending_rows"] = sum(len(v) for v in trending_lists.values())
    stats["source_rows"] = sum(len(row) for table in (sources or {}).values() for row in table.values())
    return stats
