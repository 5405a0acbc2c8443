"""Versioned snapshots of item neighbours and trending, loaded by delta. Pure logic.

Every key (a product for neighbours, a scope for trending) is one stored record with two
slots, each a (generation, document) pair: slot 1 holds the newest document, slot 0 the
one before. A reader pinned to generation G sees slot 1 if it was written at or before G,
else slot 0 if that was, else nothing (`visible`). A document of None is a tombstone: the
key is absent from that generation on.

A load of generation N = current + 1 compares every key's new document with what readers
of N would see now, and writes only the keys that differ (`plan_load`), moving the
document readers of the current generation see into slot 0. Then the store switches the
single current-generation pointer. So:

- readers of the current generation are never disturbed by a load in progress, and a
  reader that has cached the pointer keeps reading a whole generation (the current and
  the previous one stay readable);
- a load that died half-way leaves slot-1 documents of generation N behind; the next
  load of N diffs against them too (they are what readers of N would see), so it repairs
  exactly what it must;
- unchanged keys cost nothing: a daily load writes only what changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import itemgetter

import msgspec

from recmart.realtime.jsontext import loads


@dataclass(frozen=True, slots=True)
class Slots:
    g1: int
    d1: str | None
    g0: int | None = None
    d0: str | None = None


def visible(slots: Slots | None, generation: int) -> str | None:
    """The document a reader pinned to `generation` sees (None: absent)."""
    if slots is None:
        return None
    if slots.g1 <= generation:
        return slots.d1
    if slots.g0 is not None and slots.g0 <= generation:
        return slots.d0
    return None


@dataclass
class LoadPlan:
    puts: dict[str, Slots] = field(default_factory=dict)
    deletes: list[str] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.puts or self.deletes)


def plan_load(current: Mapping[str, Slots], documents: Mapping[str, str], generation: int) -> LoadPlan:
    """The writes that make `documents` exactly what readers of `generation` see."""
    plan = LoadPlan()
    previous = generation - 1
    for key in sorted(set(current) | set(documents)):  # sorted: the same input writes in the same order
        slots = current.get(key)
        new = documents.get(key)
        seen_now = visible(slots, generation)
        seen_before = visible(slots, previous)
        if seen_now == new:
            plan.unchanged += new is not None
            # A tombstone nobody can see past any more is garbage.
            if slots is not None and new is None and seen_before is None:
                plan.deletes.append(key)
            continue
        if new is None and seen_before is None:
            plan.deletes.append(key)  # a leftover of a failed load, absent for every reader
            continue
        if seen_before is None:
            plan.added += new is not None
            plan.puts[key] = Slots(generation, new)
        else:
            if new is None:
                plan.removed += 1
            else:
                plan.updated += 1
            if slots is None:  # visible(None, ...) is None: seen_before came from these slots
                raise RuntimeError(f"plan_load: {key!r} was visible before generation {generation} without slots")
            before_generation = slots.g1 if slots.g1 <= previous else slots.g0
            plan.puts[key] = Slots(generation, new, before_generation, seen_before)
    return plan


# ---- documents ------------------------------------------------------------------------------

_FIRST, _SECOND = itemgetter(0), itemgetter(1)


def _dumps(obj: object) -> str:
    # json.dumps, not jsontext.dumps: documents are compared as text by the next load (plan_load),
    # so they keep the spelling they were first stored with (json's floats: 1e-05, not 1e-5).
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _score(x: float) -> float:
    # Six significant digits: stable through float noise between runs, and compact.
    return float(f"{float(x):.6g}")


def blend_score(x: float) -> float:
    """A blended session-source score as stored: twelve significant digits. A blend of scores
    of six (`_score`) at weights like 1 and 4 is exact in that many, so what is stored is the
    float nearest the exact sum (within float order of summing the rows at serving time), and
    it reads back bit for bit."""
    return float(f"{float(x):.12g}")


def item_document(neighbours: list[tuple[str, float]], name: str | None, category: str | None,
                  sources: Mapping[str, list[tuple[str, float]]] | None = None,
                  blend: list[tuple[str, float]] | None = None) -> str:
    doc: dict[str, object] = {"n": [[nid, _score(s)] for nid, s in neighbours], "name": name, "cat": category}
    # The session-aware candidate sources, only when the product has any: a snapshot
    # without them stores exactly the documents it did before they existed, so loading
    # it again writes nothing. "b": the one pre-blended row the loader writes (rt-sessions-3);
    # "s": the per-source rows of the layout before it ({source: rows}), still read.
    rows = {source: [[nid, _score(s)] for nid, s in row] for source, row in (sources or {}).items() if row}
    if rows:
        doc["s"] = rows
    if blend:
        doc["b"] = [[nid, blend_score(s)] for nid, s in blend]
    return _dumps(doc)


def trending_document(entries: list[tuple[str, float]]) -> str:
    return _dumps([[pid, _score(s)] for pid, s in entries])


def _pairs(rows: list) -> tuple[tuple[str, float], ...]:
    # (n[0], n[1]) of each pair, zipped in C: a warm Lambda parses every product it meets.
    return tuple(zip(map(_FIRST, rows), map(_SECOND, rows), strict=True))


# An item document as the loader writes it, decoded by msgspec straight into the tuples the
# scorer reads: a third to a half of the time of decoding it into lists and zipping them into
# pairs (bench/realtime/RESULTS.md, 2026-12-03). Pairs of exactly [str, number]; a number keeps its
# JSON type (int or float), as the generic decoder gives it. A document this does not fit (a
# pair of another shape, a name that is not text, NaN, no "n", not JSON to msgspec) is parsed
# by the generic path below, so every document reads as it did, and fails as it did.
_Pair = tuple[str, int | float]


class _ItemDocument(msgspec.Struct):
    n: tuple[_Pair, ...]
    name: str | None = None
    cat: str | None = None
    s: dict[str, tuple[_Pair, ...]] | None = None
    b: tuple[_Pair, ...] | None = None


_decode_item = msgspec.json.Decoder(_ItemDocument).decode


def parse_item_document(doc: str) -> tuple[tuple[tuple[str, float], ...], str | None, str | None,
                                           dict[str, tuple[tuple[str, float], ...]], tuple[tuple[str, float], ...]]:
    """(neighbours, name, category, {source: rows}, blended session row)."""
    try:
        typed = _decode_item(doc)
    except (msgspec.DecodeError, UnicodeEncodeError, RecursionError):
        return _parse_item_document(doc)
    return typed.n, typed.name, typed.cat, typed.s or {}, typed.b or ()


def _parse_item_document(doc: str) -> tuple[tuple[tuple[str, float], ...], str | None, str | None,
                                            dict[str, tuple[tuple[str, float], ...]], tuple[tuple[str, float], ...]]:
    obj = loads(doc)
    sources = obj.get("s")
    blend = obj.get("b")
    return (_pairs(obj["n"]), obj.get("name"), obj.get("cat"),
            {source: _pairs(rows) for source, rows in sources.items()} if sources else {},
            _pairs(blend) if blend else ())


def parse_trending_document(doc: str) -> tuple[tuple[str, float], ...]:
    return tuple((e[0], e[1]) for e in loads(doc))
