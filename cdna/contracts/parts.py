"""Read a raw table as the union of its parts, one row per key (issue 15).

Imports add parts and skip rows whose key a table already holds, so parts are disjoint on the key; a part
copied in by hand or an older layout may still repeat a key, and then the row of the earliest part wins
(an import never overrides data: `cdna data replace` does). Keys are the contracts' `key`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cdna.contracts.schemas import Contract, conform
from cdna.core.errors import LakeError
from cdna.core.lake import Lake

__all__ = ["first_per_key", "raw_relation", "read_raw"]


def _parts(lake: Lake, spec: Contract) -> list[Path]:
    parts = lake.raw_parts(spec.name)
    if not parts:
        raise LakeError(
            f"table {spec.name!r} is missing from the lake: no Parquet file under {lake.raw(spec.name)}",
            hint=f"run `cdna world --out {lake.root}` or `cdna validate {spec.name} FILE --lake {lake.root}`",
        )
    return parts


def first_per_key(table: pa.Table, spec: Contract) -> pa.Table:
    """`table` with only the first row of each key of `spec` (all rows when the contract has no key)."""
    if not spec.key or table.num_rows < 2:
        return table
    index = table.select(list(spec.key)).append_column("_i", pa.array(np.arange(table.num_rows)))
    first = index.group_by(list(spec.key), use_threads=False).aggregate([("_i", "min")]).column("_i_min")
    if len(first) == table.num_rows:
        return table
    return table.take(pc.sort_indices(first))


def read_raw(lake: Lake, spec: Contract) -> pa.Table:
    """Every part of a raw table, conformed to its contract, one row per key (the earliest part's).

    Raises:
        LakeError: the table has no part.
        SchemaError: a part does not fit the contract (names the file).
    """
    parts = _parts(lake, spec)
    tables = [conform(pq.read_table(p), spec, str(p)) for p in parts]
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    return first_per_key(table, spec) if len(parts) > 1 else table


def raw_relation(lake: Lake, spec: Contract) -> str:
    """A DuckDB relation (FROM-clause text) over every part of a raw table, one row per key.

    Raises:
        LakeError: the table has no part.
    """
    parts = _parts(lake, spec)
    files = "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in parts) + "]"
    if len(parts) == 1 or not spec.key:
        return f"read_parquet({files}, union_by_name = true, hive_partitioning = false)"
    key = ", ".join(f'"{k}"' for k in spec.key)
    return (
        f"(SELECT * EXCLUDE (filename, file_row_number) FROM read_parquet({files}, union_by_name = true, "
        "hive_partitioning = false, filename = true, file_row_number = true) "
        f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY list_position({files}, filename), "
        "file_row_number) = 1)"
    )
