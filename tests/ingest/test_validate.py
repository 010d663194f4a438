"""Validated import: good rows kept, each bad row rejected with its line and reason, exit code 3."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cdna.cli.app import main
from cdna.contracts.schemas import CALLS, TRANSACTIONS, WEB_EVENTS
from cdna.core.errors import InputError, SchemaError
from cdna.ingest.validate import ColumnMapping, validate_file

CSV = """txn_id,customer_id,ts,amount,direction,memo
T1,C1,2025-01-03 10:00:00,15000,out,스타벅스
T2,,2025-01-03 11:00:00,2000,out,GS25
T3,C2,2025-13-45,3000,out,월세
T4,C3,2025-02-01 09:00:00,삼천원,in,급여
T5,C3,2025-02-01 09:00:00,1000,sideways,급여
T1,C4,2025-02-01 09:00:00,1000,in,중복
T6,C5,2025-02-01
T7,C6,2025-03-01T08:00:00+09:00,-500,out,환불
T8,C6,2099-03-01,500,out,미래
"""


@pytest.fixture
def bad_csv(tmp_path: Path) -> Path:
    path = tmp_path / "txns.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def test_good_rows_kept_bad_rows_rejected_with_reasons(bad_csv: Path) -> None:
    result = validate_file(bad_csv, TRANSACTIONS)
    assert result.valid.column("txn_id").to_pylist() == ["T1", "T7"]
    reasons = dict(
        zip(
            result.rejects.column("line").to_pylist(),
            result.rejects.column("reason").to_pylist(),
            strict=True,
        )
    )
    assert reasons[3] == "missing customer_id"
    assert "bad ts" in reasons[4] and "2025-13-45" in reasons[4]
    assert "bad amount" in reasons[5] and "삼천원" in reasons[5]
    assert "bad direction" in reasons[6]
    assert "duplicate txn_id" in reasons[7]
    assert "malformed CSV row" in reasons[8]
    assert "in the future" in reasons[10]
    assert set(reasons) == {3, 4, 5, 6, 7, 8, 10}


def test_naive_times_are_korea_time_and_stored_utc(bad_csv: Path) -> None:
    valid = validate_file(bad_csv, TRANSACTIONS).valid
    first = valid.column("ts")[0].as_py()
    assert first.isoformat() == "2025-01-03T01:00:00+00:00"  # 10:00 KST
    assert str(valid.schema.field("ts").type) == "timestamp[us, tz=UTC]"


def test_negative_duration_rejected(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        "call_id,customer_id,started_at,duration_s,channel_layout\n"
        "K1,C1,2025-01-01 09:00,120.5,stereo_agent_left\nK2,C2,2025-01-01 10:00,-3,mono\n",
        encoding="utf-8",
    )
    result = validate_file(path, CALLS)
    assert result.valid.num_rows == 1
    assert result.rejects.column("reason").to_pylist() == ["negative duration_s: -3.0"]


def test_missing_required_column_fails_naming_file_and_column(tmp_path: Path) -> None:
    path = tmp_path / "web.csv"
    path.write_text("event_id,customer_id,ts,page\nE1,C1,2025-01-01,대출금리조회\n", encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        validate_file(path, WEB_EVENTS)
    assert str(path) in str(err.value) and "channel" in str(err.value)


def test_mapping_to_absent_source_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,cust,when,amt,dir\n1,C1,2025-01-01,5,out\n", encoding="utf-8")
    mapping = ColumnMapping(
        {"txn_id": "id", "customer_id": "customer", "ts": "when", "amount": "amt", "direction": "dir"}
    )
    with pytest.raises(SchemaError, match="'customer'"):
        validate_file(path, TRANSACTIONS, mapping)


def test_empty_and_unsupported_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        validate_file(empty, TRANSACTIONS)
    other = tmp_path / "x.xlsx"
    other.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError, match="unsupported"):
        validate_file(other, TRANSACTIONS)


def test_cli_writes_rejects_file_and_exits_3(bad_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = main(["--quiet", "validate", "transactions", str(bad_csv), "--out", str(out)])
    assert code == 3
    assert pq.read_table(out / "transactions.parquet").num_rows == 2
    with open(out / "transactions.rejects.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["line"]) for r in rows] == [3, 4, 5, 6, 7, 8, 10]
    assert all(r["reason"] and r["file"] == str(bad_csv) for r in rows)


def test_cli_into_lake_records_run(bad_csv: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    assert main(["--quiet", "validate", "transactions", str(bad_csv), "--lake", str(lake)]) == 3
    parts = list((lake / "raw" / "transactions").glob("part-*.parquet"))  # a new part, never a replaced file
    assert len(parts) == 1 and pq.read_table(parts[0]).num_rows == 2
    assert len(list((lake / "_rejects" / "transactions").glob("txns-*.rejects.csv"))) == 1
    assert list((lake / "_runs").glob("validate-*.json"))


def test_cli_unusable_schema_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "web.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["--quiet", "validate", "web_events", str(path), "--out", str(tmp_path / "o")]) == 2


def test_foreign_schema_through_named_mapping(shared_data: Path, tmp_path: Path) -> None:
    code = main(
        [
            "--quiet",
            "validate",
            "transactions",
            str(shared_data / "online_retail_sample.csv"),
            "-m",
            "online_retail",
            "--out",
            str(tmp_path),
        ]
    )
    table = pq.read_table(tmp_path / "transactions.parquet")
    assert code in (0, 3)
    assert table.num_rows > 30000
    assert table.column("customer_id").null_count == 0
    channels = set(table.column("channel").to_pylist())
    assert channels == {"online", "cancel"}
