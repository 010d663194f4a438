"""Check every table the stages wrote into a lake against its one written contract (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from cdna.contracts.schemas import CONTRACTS, Contract, conform
from cdna.core.lake import Lake

__all__ = ["assert_lake_conforms"]


def _check(files: list[Path], spec: Contract) -> int:
    for path in files:
        table = pq.read_table(path)
        extra = set(table.column_names) - set(spec.schema.names)
        assert spec.open_columns or not extra, (
            f"{path}: columns {sorted(extra)} are not in the {spec.name} contract"
        )
        conform(table, spec, str(path))  # raises SchemaError naming the file and column
    return len(files)


def assert_lake_conforms(lake: Lake) -> dict[str, int]:
    """Validate raw tables, transcripts, signals, snapshots and recommendations; returns files checked per table."""
    checked = {}
    for name in ("customers", "products", "holdings", "transactions", "web_events", "calls"):
        checked[name] = _check(sorted(lake.raw(name).glob("*.parquet")), CONTRACTS[name])
    checked["transcripts"] = _check(
        sorted(lake.transcripts.glob("date=*/*.parquet")), CONTRACTS["transcripts"]
    )
    checked["signals"] = _check(sorted(lake.signals.glob("date=*/*.parquet")), CONTRACTS["signals"])
    checked["feature_snapshot"] = _check(
        sorted(lake.snapshots.glob("date=*/*.parquet")), CONTRACTS["feature_snapshot"]
    )
    checked["recommendations"] = _check(
        sorted(lake.recommendations.glob("date=*/*.parquet")), CONTRACTS["recommendations"]
    )
    return checked
