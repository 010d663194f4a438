"""Hand-built tiny lakes: TTL, signals, foreign-shaped files and bad input (clear errors or counted skips)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cdna.core.errors import SchemaError
from cdna.features.snapshot import FeatureSet, snapshot

DAY = date(2025, 6, 30)
# 2025-06-30 23:59:59 KST = 2025-06-30 14:59:59 UTC
END_UTC = datetime(2025, 6, 30, 14, 59, 59, tzinfo=UTC)


def _customers(root: Path, ids: list[str]) -> None:
    n = len(ids)
    table = pa.table(
        {
            "customer_id": ids,
            "birth_date": pa.array([date(1990, 7, 1)] * n, pa.date32()),
            "gender": ["F"] * n,
            "region_sido": ["서울특별시"] * n,
            "region_sigungu": ["강남구"] * n,
            "household": ["single"] * n,
            "income_band": ["30_50m"] * n,
            "occupation": [None] * n,
            "join_date": pa.array([date(2020, 1, 1)] * n, pa.date32()),
        }
    )
    path = root / "raw" / "customers" / "customers.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def _txns(root: Path, rows: list[tuple], name: str = "raw/transactions/transactions.parquet") -> Path:
    table = pa.table(
        {
            "txn_id": [r[0] for r in rows],
            "customer_id": [r[1] for r in rows],
            "ts": pa.array([r[2] for r in rows], pa.timestamp("us", tz="UTC")),
            "amount": pa.array([r[3] for r in rows], pa.float64()),
            "direction": [r[4] if len(r) > 4 else "out" for r in rows],
            "memo": [r[5] if len(r) > 5 else "스타벅스" for r in rows],
        }
    )
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def _snap(fs: FeatureSet, root: Path, tmp: Path, day: date = DAY) -> dict[str, dict]:
    res = snapshot(fs, root, day, tmp / "out.parquet")
    rows = pq.read_table(res.path).to_pylist()
    return {r["customer_id"]: r for r in rows}


def test_ttl_makes_stale_values_null_and_keeps_every_customer(fs: FeatureSet, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    _customers(root, ["A", "B", "C"])
    _txns(
        root,
        [
            ("t1", "A", datetime(2024, 5, 1, tzinfo=UTC), 100.0),  # older than the 365-day TTL
            ("t2", "B", datetime(2025, 6, 1, tzinfo=UTC), 50.0),
            ("t3", "B", END_UTC, 25.0),
        ],
    )
    got = _snap(fs, root, tmp_path)
    assert set(got) == {"A", "B", "C"}
    assert got["A"]["recency_days"] is None and got["A"]["txn_count_365d"] == 0
    assert (
        got["C"]["recency_days"] is None and got["C"]["txn_count_90d"] == 0 and got["C"]["churn_risk"] == 1.0
    )
    assert (
        got["B"]["recency_days"] == 0
        and got["B"]["txn_count_90d"] == 2
        and got["B"]["txn_amount_90d"] == 75.0
    )
    assert got["B"]["age"] == 34 and got["B"]["age_band"] == "30s" and got["B"]["tenure_days"] == 2007


def test_minimal_transactions_file_anywhere_in_the_lake(fs: FeatureSet, tmp_path: Path) -> None:
    """Only the contract's required columns; a file name containing `transactions` outside raw/."""
    root = tmp_path / "lake"
    _customers(root, ["A", "B"])
    path = root / "my_transactions_2025.parquet"
    pq.write_table(
        pa.table(
            {
                "customer_id": ["A", "A", "B"],
                "ts": pa.array(
                    [
                        datetime(2025, 4, 2, tzinfo=UTC),
                        datetime(2025, 3, 1, tzinfo=UTC),
                        datetime(2025, 7, 1, tzinfo=UTC),
                    ],
                    pa.timestamp("us", tz="UTC"),
                ),
                "amount": [10.0, -4.0, 7.0],
                "txn_id": ["t1", "t2", "t3"],
                "direction": ["out", "out", "out"],
            }
        ),
        path,
    )
    got = _snap(fs, root, tmp_path)
    # 2025-04-02 00:00 UTC is 09:00 KST the same day: 89 days before 2025-06-30
    assert (
        got["A"]["recency_days"] == 89
        and got["A"]["txn_count_90d"] == 1
        and got["A"]["txn_amount_90d"] == 10.0
    )
    assert got["B"]["recency_days"] is None and got["B"]["txn_count_90d"] == 0


def test_missing_column_is_a_clear_error(fs: FeatureSet, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    _customers(root, ["A"])
    path = root / "raw" / "transactions" / "bad.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(
        pa.table({"customer_id": ["A"], "ts": pa.array([END_UTC], pa.timestamp("us", tz="UTC"))}), path
    )
    with pytest.raises(SchemaError, match=r"bad\.parquet.*missing required column.*amount"):
        snapshot(fs, root, DAY, tmp_path / "out.parquet")


def test_wrong_type_is_a_clear_error(fs: FeatureSet, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    _customers(root, ["A"])
    path = root / "raw" / "transactions" / "typed.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "customer_id": ["A"],
                "ts": pa.array([END_UTC], pa.timestamp("us", tz="UTC")),
                "amount": ["12,000원"],
                "txn_id": ["t1"],
                "direction": ["out"],
            }
        ),
        path,
    )
    with pytest.raises(SchemaError, match=r"typed\.parquet.*'amount' has type VARCHAR"):
        snapshot(fs, root, DAY, tmp_path / "out.parquet")


def test_duplicates_and_future_events_are_counted_skips(fs: FeatureSet, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    _customers(root, ["A"])
    t = datetime(2025, 6, 20, tzinfo=UTC)
    _txns(
        root,
        [
            ("t1", "A", t, 100.0),
            ("t1", "A", t, 100.0),
            ("t2", "A", t, 5.0),
            ("t3", "A", datetime(2099, 1, 1, tzinfo=UTC), 1e9),
        ],
    )
    res = snapshot(fs, root, date(2100, 1, 1), tmp_path / "out.parquet")
    row = pq.read_table(res.path).to_pylist()[0]
    assert res.lineage["skipped"]["transactions"] == {"future_time": 1, "duplicate_id": 1}
    # the far-future as-of sees neither the duplicate nor the future-dated event
    assert row["txn_count_365d"] == 0  # 2025-06-20 is outside the 365-day TTL of 2100-01-01
    res = snapshot(fs, root, DAY, tmp_path / "out2.parquet")
    row = pq.read_table(res.path).to_pylist()[0]
    assert row["txn_count_90d"] == 2 and row["txn_amount_90d"] == 105.0
    side = json.loads((tmp_path / "out2.parquet.lineage.json").read_text())
    assert side["skipped"]["transactions"]["duplicate_id"] == 1


def test_signals_features(fs: FeatureSet, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    _customers(root, ["A", "B"])
    _txns(
        root,
        [
            ("t1", "A", datetime(2025, 6, 10, tzinfo=UTC), 300.0, "out", "무엇"),
            ("t2", "A", datetime(2025, 6, 11, tzinfo=UTC), 100.0, "out", "무엇"),
        ],
    )
    ts = pa.timestamp("us", tz="UTC")
    sig = pa.table(
        {
            "customer_id": ["A", "A", "A", "A", "A", "B"],
            "ts": pa.array(
                [
                    datetime(2025, 6, 20, tzinfo=UTC),
                    datetime(2025, 4, 5, tzinfo=UTC),
                    datetime(2025, 6, 25, tzinfo=UTC),
                    datetime(2025, 6, 10, tzinfo=UTC),
                    datetime(2025, 6, 11, tzinfo=UTC),
                    datetime(2025, 7, 5, tzinfo=UTC),
                ],
                ts,
            ),
            "source": ["call", "call", "call", "memo", "memo", "call"],
            "source_id": ["c1", "c2", "c3", "t1", "t2", "c9"],
            "kind": ["intent", "intent", "complaint", "interest", "interest", "intent"],
            "label": [
                "mortgage_inquiry",
                "mortgage_inquiry",
                "complaint",
                "wedding",
                "travel",
                "mortgage_inquiry",
            ],
            "score": [0.9, 0.8, 0.7, 1.0, 1.0, 0.9],
            "evidence": [None] * 6,
            "model_version": ["test"] * 6,
        }
    )
    path = root / "signals" / "date=2025-06-30" / "part.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.concat_tables([sig, sig.slice(0, 1)]), path)  # the first signal twice
    res = snapshot(fs, root, DAY, tmp_path / "sig.parquet")
    assert res.lineage["skipped"]["signals"] == {"duplicate_id": 1}
    got = {r["customer_id"]: r for r in pq.read_table(res.path).to_pylist()}
    a, b = got["A"], got["B"]
    assert a["intent_mortgage_inquiry_30d"] == 1 and a["intent_mortgage_inquiry_90d"] == 2
    assert a["intent_mortgage_inquiry_days_since"] == 10
    assert 0.6 < a["intent_mortgage_inquiry_decay"] < 0.9 + 0.8
    assert 0 < a["complaint_score"] <= 0.7 and a["complaint_count_90d"] == 1
    assert a["interest_wedding"] > 0 and a["interest_travel"] > 0
    # spend categories come from the memo signals (source_id = txn_id), not from the memo text
    assert a["spend_share_wedding"] == pytest.approx(0.75) and a["spend_share_travel"] == pytest.approx(0.25)
    # B's only signal is after the as-of
    assert b["intent_mortgage_inquiry_90d"] == 0 and b["intent_mortgage_inquiry_days_since"] is None


def test_text_timestamps_are_parsed_and_bad_ones_counted(fs: FeatureSet, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    _customers(root, ["A"])
    path = root / "raw" / "transactions" / "text.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "customer_id": ["A", "A"],
                "ts": ["2025-06-29 10:00:00", "어제"],
                "amount": [3.0, 4.0],
                "txn_id": ["t1", "t2"],
                "direction": ["out", "out"],
            }
        ),
        path,
    )
    res = snapshot(fs, root, DAY, tmp_path / "out.parquet")
    row = pq.read_table(res.path).to_pylist()[0]
    assert res.lineage["skipped"]["transactions"] == {"null_time": 1}
    assert row["txn_count_90d"] == 1 and row["recency_days"] == 1


def test_a_file_without_the_contracts_required_columns_is_refused(fs: FeatureSet, tmp_path: Path) -> None:
    """Issue 12: the feature store reads the transactions contract, not a laxer schema of its own."""
    root = tmp_path / "lake"
    _customers(root, ["A"])
    path = root / "raw" / "transactions" / "bare.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(
        pa.table(
            {"customer_id": ["A"], "ts": pa.array([END_UTC], pa.timestamp("us", tz="UTC")), "amount": [1.0]}
        ),
        path,
    )
    with pytest.raises(
        SchemaError, match=r"bare\.parquet.*missing required column\(s\) \['txn_id', 'direction'\]"
    ):
        snapshot(fs, root, DAY, tmp_path / "out.parquet")
