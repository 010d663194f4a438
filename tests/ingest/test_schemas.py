"""Data contracts: conforming tables, clear errors on unusable schemas."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cdna.contracts.schemas import (
    CONTRACTS,
    FEATURE_SNAPSHOT,
    SIGNALS,
    TRANSACTIONS,
    TS,
    conform,
    contract,
    read_table,
)
from cdna.core.errors import SchemaError


def test_every_boundary_table_has_a_contract() -> None:
    for name in (
        "customers",
        "products",
        "holdings",
        "transactions",
        "web_events",
        "calls",
        "transcripts",
        "signals",
        "feature_snapshot",
        "recommendations",
    ):
        assert name in CONTRACTS
        assert CONTRACTS[name].required, name


def test_conform_casts_and_orders_columns() -> None:
    table = pa.table(
        {
            "amount": [1500, 2300],
            "customer_id": ["C1", "C2"],
            "txn_id": ["T1", "T2"],
            "direction": ["out", "in"],
            "ts": pa.array([1_700_000_000_000_000, 1_700_000_100_000_000], pa.int64()).cast(TS),
        }
    )
    out = conform(table, TRANSACTIONS)
    assert out.schema.names == TRANSACTIONS.schema.names
    assert out.column("amount").type == pa.float64()
    assert out.column("memo").null_count == 2


def test_missing_required_column_names_source_and_column() -> None:
    table = pa.table({"customer_id": ["C1"], "ts": pa.array([0], pa.int64()).cast(TS)})
    with pytest.raises(SchemaError) as err:
        conform(table, SIGNALS, "signals/date=2025-01-01/x.parquet")
    assert "signals/date=2025-01-01/x.parquet" in str(err.value) and "source_id" in str(err.value)


def test_uncastable_column_is_named() -> None:
    table = pa.table({"customer_id": ["C1"], "as_of": ["not a date"]})
    with pytest.raises(SchemaError, match="as_of"):
        conform(table, FEATURE_SNAPSHOT)


def test_open_contract_keeps_feature_columns(tmp_path: Path) -> None:
    path = tmp_path / "snap.parquet"
    pq.write_table(
        pa.table(
            {
                "customer_id": ["C1"],
                "as_of": pa.array([19000], pa.int32()).cast(pa.date32()),
                "recency_days": [3],
            }
        ),
        path,
    )
    out = read_table(path, FEATURE_SNAPSHOT)
    assert out.column_names == ["customer_id", "as_of", "recency_days"]


def test_unknown_contract_lists_known_ones() -> None:
    with pytest.raises(SchemaError, match="transactions"):
        contract("txns")
