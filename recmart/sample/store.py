"""What a click simulation needs to know about the store: its products and its users."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import sqlalchemy as sa

from recmart.sample.hashing import hash64
from recmart.source.database import connect, require_columns
from recmart.source.schema import products, users

# Product popularity follows a power law over a stable ranking of the catalogue, so the same
# products are the store's hits whichever seed drives the clicks.
_POPULARITY_EXPONENT = 1.05
_POPULARITY_OFFSET = 5.0


@dataclass(frozen=True, eq=False)
class SampleStore:
    """Products and users, each sorted by id so that the order the database returns is irrelevant."""

    product_ids: np.ndarray  # str
    product_gender: np.ndarray  # str or None
    product_article_type: np.ndarray  # str or None
    product_price_cents: np.ndarray  # int64; -1 when the product has no price
    popularity: np.ndarray  # float64, sums to 1
    user_ids: np.ndarray  # str
    user_gender: np.ndarray  # "female", "male" or None

    @classmethod
    def build(
        cls,
        product_rows: Iterable[tuple[str, str | None, str | None, Decimal | None]],
        user_rows: Iterable[tuple[str, str | None]],
    ) -> SampleStore:
        """From (product_id, gender, article_type, price) and (user_id, gender) rows."""
        product_rows = sorted(product_rows, key=lambda r: r[0])
        if not product_rows:
            raise ValueError("the store has no products: a click needs a product to click on")
        user_rows = sorted(user_rows, key=lambda r: r[0])
        ids = [r[0] for r in product_rows]
        rank = np.argsort(np.argsort(hash64(ids, "popularity"), kind="stable"), kind="stable")
        weight = (rank + _POPULARITY_OFFSET) ** -_POPULARITY_EXPONENT
        return cls(
            product_ids=np.array(ids, dtype=object),
            product_gender=np.array([r[1] for r in product_rows], dtype=object),
            product_article_type=np.array([r[2] for r in product_rows], dtype=object),
            product_price_cents=np.array(
                [-1 if r[3] is None else int((Decimal(r[3]) * 100).to_integral_value()) for r in product_rows],
                dtype=np.int64,
            ),
            popularity=weight / weight.sum(),
            user_ids=np.array([r[0] for r in user_rows], dtype=object),
            user_gender=np.array([r[1] for r in user_rows], dtype=object),
        )

    @classmethod
    def from_engine(cls, engine: sa.Engine) -> SampleStore:
        """Load the products and users of a source database (see `recmart.source.schema`)."""
        with connect(engine) as conn:
            require_columns(conn, products, users)
            product_rows = conn.execute(
                sa.select(products.c.product_id, products.c.gender, products.c.article_type, products.c.price)
            ).all()
            user_rows = conn.execute(sa.select(users.c.user_id, users.c.gender)).all()
        return cls.build(product_rows, user_rows)

    @property
    def n_products(self) -> int:
        return len(self.product_ids)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)
