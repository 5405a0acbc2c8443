"""Stable per-id randomness: the same id and salt give the same numbers on every run.

Traits that belong to an id (a product's popularity, a user's taste) come from a hash of
the id rather than from a shared random stream, so they do not change when the set of
ids, or their order, changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def hash64(ids: Sequence[str] | np.ndarray, salt: str) -> np.ndarray:
    """A uint64 per id from blake2b(salt, id)."""
    prefix = f"{salt}\x1f"
    return np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(f"{prefix}{i}".encode(), digest_size=8).digest(), "little")
            for i in ids
        ),
        dtype=np.uint64,
        count=len(ids),
    )


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def unit_floats(hashes: np.ndarray, stream: int) -> np.ndarray:
    """Uniform floats in [0, 1), one per hash; each `stream` number gives an independent draw."""
    with np.errstate(over="ignore"):
        mixed = _splitmix64(hashes + np.uint64(stream) * _GOLDEN)
    return (mixed >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
