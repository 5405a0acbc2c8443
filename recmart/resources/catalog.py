"""Where SQL engines learn which partitions exist: Glue Data Catalog on AWS, nothing locally.

Locally DuckDB reads the lake folders directly, so there is nothing to register; on AWS the
lake tells the catalog after every publish, so Athena sees the new partition at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import dagster as dg

from recmart.schema import Table


class PartitionCatalog(dg.ConfigurableResource, ABC):
    @abstractmethod
    def register_partition(self, table: Table, key: str, location: str) -> None:
        """Point the table's partition `key` at `location` (creating the table if needed)."""

    @abstractmethod
    def drop_partition(self, table: Table, key: str) -> None:
        """Forget the table's partition `key` (its data was cleared)."""
