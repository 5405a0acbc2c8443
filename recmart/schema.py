"""One schema definition per table, and everything derived from it.

A `Table` is the single source of truth for a lake table: its Spark schema, its
Parquet (Arrow) schema, its DuckDB view, its Glue `TableInput` and its Athena DDL
are all computed here and never written by hand elsewhere.

This module imports neither pyspark nor pyarrow at import time, so that the
real-time handler can share table names without pulling them into a Lambda.
"""

from __future__ import annotations

from dataclasses import dataclass

# Logical types and their spelling in every system we derive a schema for.
#            logical      spark (DDL)        duckdb            glue/athena
_TYPES = {
    "string": ("string", "VARCHAR", "string"),
    "int32": ("int", "INTEGER", "int"),
    "int64": ("bigint", "BIGINT", "bigint"),
    "double": ("double", "DOUBLE", "double"),
    "bool": ("boolean", "BOOLEAN", "boolean"),
    "money": ("decimal(18,2)", "DECIMAL(18,2)", "decimal(18,2)"),
    "timestamp": ("timestamp", "TIMESTAMPTZ", "timestamp"),
    "date": ("date", "DATE", "date"),
}


def duckdb_type(logical: str) -> str:
    """A logical type as DuckDB spells it."""
    return _TYPES[logical][1]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    doc: str = ""

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise ValueError(f"column {self.name!r}: unknown type {self.type!r}; one of {sorted(_TYPES)}")


@dataclass(frozen=True)
class Table:
    """A lake table: `<layer>/<name>/<partition_col>=<key>/part-*.parquet`."""

    layer: str
    name: str
    columns: tuple[Column, ...]
    doc: str
    partition_column: str | None = "event_date"
    # A second Hive level inside each partition (raw clickstream: arrival day, then event day).
    subpartition_column: str | None = None
    # The columns that identify a row within a partition (one row per key and day). With
    # `Column.nullable`, it generates the table's checks (recmart.assets.table_checks).
    key: tuple[str, ...] = ()
    # A day without rows is the good case (quarantine: nothing refused), so its generated
    # checks pass on it; any other table's empty day is a warning that names it.
    may_be_empty: bool = False

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name}: duplicate column names")
        if {self.partition_column, self.subpartition_column} & set(names):
            raise ValueError(f"table {self.name}: partition columns are not data columns")
        missing = set(self.key) - set(names) - {self.partition_column, self.subpartition_column}
        if missing:
            raise ValueError(f"table {self.name}: key columns {sorted(missing)} are not columns")

    # ---- naming -------------------------------------------------------------------------
    @property
    def path(self) -> str:
        """Path of the table folder relative to the lake root."""
        return f"{self.layer}/{self.name}"

    @property
    def sql_name(self) -> str:
        """Name of the DuckDB view / Glue table: `<layer>_<name>`."""
        return f"{self.layer}_{self.name}"

    @property
    def asset_key(self) -> str:
        """Key of the Dagster asset that writes the table: its SQL name, so the asset, its op,
        the view, the Glue table and the constant in `recmart.tables` (upper-cased) are one
        name; only the folder (`path`) spells it with a slash."""
        return self.sql_name

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def partition_columns(self) -> list[str]:
        return [c for c in (self.partition_column, self.subpartition_column) if c]

    def partition_path(self, key: str) -> str:
        if not self.partition_column:
            raise ValueError(f"table {self.name} is not partitioned")
        return f"{self.path}/{self.partition_column}={key}"

    # ---- derived schemas ---------------------------------------------------------------
    def spark_schema(self, with_partition: bool = False):
        from pyspark.sql import types as T

        spark = {
            "string": T.StringType(),
            "int32": T.IntegerType(),
            "int64": T.LongType(),
            "double": T.DoubleType(),
            "bool": T.BooleanType(),
            "money": T.DecimalType(18, 2),
            "timestamp": T.TimestampType(),
            "date": T.DateType(),
        }
        fields = [T.StructField(c.name, spark[c.type], c.nullable) for c in self.columns]
        if with_partition:
            fields += [T.StructField(p, T.DateType(), False) for p in self.partition_columns]
        return T.StructType(fields)

    def arrow_schema(self, with_partition: bool = False):
        import pyarrow as pa

        arrow = {
            "string": pa.string(),
            "int32": pa.int32(),
            "int64": pa.int64(),
            "double": pa.float64(),
            "bool": pa.bool_(),
            "money": pa.decimal128(18, 2),
            "timestamp": pa.timestamp("us", tz="UTC"),
            "date": pa.date32(),
        }
        fields = [pa.field(c.name, arrow[c.type], nullable=c.nullable) for c in self.columns]
        if with_partition:
            fields += [pa.field(p, pa.date32(), nullable=False) for p in self.partition_columns]
        return pa.schema(fields)

    def duckdb_view_sql(self, table_uri: str) -> str:
        """CREATE VIEW over the table's Parquet files; an empty typed view when there are none."""
        cols = ", ".join(f'"{c}"' for c in self.column_names + self.partition_columns)
        if self.partition_columns:
            levels = "/".join(f"{p}=*" for p in self.partition_columns)
            types = ", ".join(f"'{p}': DATE" for p in self.partition_columns)
            source = (
                f"read_parquet('{table_uri}/{levels}/*.parquet', "
                f"hive_partitioning=true, hive_types={{{types}}}, union_by_name=true)"
            )
        else:
            source = f"read_parquet('{table_uri}/*.parquet', union_by_name=true)"
        return f'CREATE OR REPLACE VIEW "{self.sql_name}" AS SELECT {cols} FROM {source}'

    def duckdb_empty_view_sql(self) -> str:
        cols = [f'CAST(NULL AS {_TYPES[c.type][1]}) AS "{c.name}"' for c in self.columns]
        cols += [f'CAST(NULL AS DATE) AS "{p}"' for p in self.partition_columns]
        return f'CREATE OR REPLACE VIEW "{self.sql_name}" AS SELECT {", ".join(cols)} WHERE false'

    def glue_table_input(self, location: str) -> dict:
        """The Glue `TableInput` for CreateTable/UpdateTable."""
        return {
            "Name": self.sql_name,
            "Description": self.doc,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE", "parquet.compression": "SNAPPY"},
            "PartitionKeys": [{"Name": p, "Type": "date"} for p in self.partition_columns],
            "StorageDescriptor": {
                "Columns": [
                    {"Name": c.name, "Type": _TYPES[c.type][2], "Comment": c.doc[:255]} for c in self.columns
                ],
                "Location": location,
                "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                "SerdeInfo": {
                    "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                    "Parameters": {"serialization.format": "1"},
                },
            },
        }
