"""The store's transactional database (RDS PostgreSQL in production, SQLite locally)."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa
from pydantic import Field


class SourceDatabase(dg.ConfigurableResource):
    url: str = Field(description="SQLAlchemy URL of the source database (RECMART_SOURCE_DB).")

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url, pool_pre_ping=True)
