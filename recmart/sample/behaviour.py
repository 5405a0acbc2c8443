"""How the simulated shoppers choose products: popularity and a stable taste per user.

Products fall into taste groups, (gender, article_type) pairs such as ("Women", "Heels").
Every user prefers one to three groups, drawn from a hash of the seed and the user id, so a
user keeps the same taste across days and runs. Most of a user's clicks fall in those
groups, which gives item-to-item recommendations real co-interest to find; within a group,
and across the whole catalogue, popular products are clicked more (a power law).
"""

from __future__ import annotations

import numpy as np

from recmart.sample.hashing import hash64, unit_floats
from recmart.sample.store import SampleStore

MAX_TASTES = 3
# How much a user of a gender leans to products made for each gender.
_AFFINITY = {
    "female": {"Women": 1.0, "Girls": 0.15, "Unisex": 0.5, "Men": 0.05, "Boys": 0.1},
    "male": {"Men": 1.0, "Boys": 0.15, "Unisex": 0.5, "Women": 0.05, "Girls": 0.1},
    None: {},
}
_UNKNOWN_AFFINITY = 0.4
# Pareto shape of how many sessions a user has: a few users are very active.
_ACTIVITY_SHAPE = 1.3
_MAX_ACTIVITY = 100.0


class Behaviour:
    """Product and user choice for one store and seed; every method is vectorised."""

    def __init__(self, store: SampleStore, seed: int):
        self.store = store
        popularity = store.popularity
        groups = [f"{g}\x1f{a}" for g, a in zip(store.product_gender, store.product_article_type, strict=True)]
        names, group_of = np.unique(np.array(groups, dtype=object), return_inverse=True)
        self.n_groups = len(names)
        group_gender = [n.split("\x1f", 1)[0] for n in names]

        # Products ordered by group, most popular first; the running popularity sum lets one
        # searchsorted draw a product from any group in proportion to its popularity.
        self._by_group = np.lexsort((-popularity, group_of))
        self._cum = np.cumsum(popularity[self._by_group])
        sizes = np.bincount(group_of, minlength=self.n_groups)
        self._group_last = np.cumsum(sizes) - 1
        self._group_first = self._group_last - sizes + 1
        self._group_hi = self._cum[self._group_last]
        self._group_lo = np.where(self._group_first > 0, self._cum[np.maximum(self._group_first - 1, 0)], 0.0)
        self.group_mass = self._group_hi - self._group_lo
        self._global_cum = np.cumsum(popularity)

        hashes = hash64(store.user_ids, f"taste:{seed}")
        self.user_tastes, self.user_taste_count = self._tastes(hashes, store.user_gender, group_gender)
        activity = np.minimum((1.0 - unit_floats(hashes, 9)) ** (-1.0 / _ACTIVITY_SHAPE), _MAX_ACTIVITY)
        self._activity_cum = np.cumsum(activity)

    def _tastes(self, hashes, user_gender, group_gender) -> tuple[np.ndarray, np.ndarray]:
        n = len(hashes)
        tastes = np.zeros((n, MAX_TASTES), dtype=np.int32)
        count = 1 + np.minimum((unit_floats(hashes, 0) * MAX_TASTES).astype(np.int32), MAX_TASTES - 1)
        kinds = list(_AFFINITY)  # female, male, anything else
        kind_of = np.array([kinds.index(g) if g in kinds else kinds.index(None) for g in user_gender], dtype=np.int8)
        for kind, gender in enumerate(kinds):
            users = np.flatnonzero(kind_of == kind)
            if not len(users):
                continue
            affinity = _AFFINITY[gender]
            weight = self.group_mass * np.array([affinity.get(g, _UNKNOWN_AFFINITY) for g in group_gender])
            cum = np.cumsum(weight)
            for k in range(MAX_TASTES):
                u = unit_floats(hashes[users], 1 + k) * cum[-1]
                tastes[users, k] = np.minimum(np.searchsorted(cum, u, side="right"), self.n_groups - 1)
        return tastes, count

    # ---- choices ---------------------------------------------------------------------------
    def products_in_groups(self, groups: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A product of each given group, drawn by popularity with the uniforms `u`."""
        lo, hi = self._group_lo[groups], self._group_hi[groups]
        at = np.searchsorted(self._cum, lo + u * (hi - lo), side="right")
        at = np.clip(at, self._group_first[groups], self._group_last[groups])
        return self._by_group[at].astype(np.int32)

    def popular_products(self, u: np.ndarray) -> np.ndarray:
        """Products drawn by popularity over the whole catalogue."""
        at = np.searchsorted(self._global_cum, u * self._global_cum[-1], side="right")
        return np.minimum(at, self.store.n_products - 1).astype(np.int32)

    def random_groups(self, u: np.ndarray) -> np.ndarray:
        """Taste groups drawn by their share of popularity (an anonymous visitor's interest)."""
        cum = np.cumsum(self.group_mass)
        return np.minimum(np.searchsorted(cum, u * cum[-1], side="right"), self.n_groups - 1).astype(np.int32)

    def active_users(self, u: np.ndarray) -> np.ndarray:
        """Users drawn by how active they are."""
        at = np.searchsorted(self._activity_cum, u * self._activity_cum[-1], side="right")
        return np.minimum(at, self.store.n_users - 1).astype(np.int32)

    def taste_of(self, users: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One of each user's preferred groups, uniformly."""
        k = np.minimum((u * self.user_taste_count[users]).astype(np.int32), self.user_taste_count[users] - 1)
        return self.user_tastes[users, k]
