"""Reject files and run records never hold personal data unmasked (issue 14, item 2)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa

from cdna.cli.app import main
from cdna.ingest.importer import rejects_csv, withhold_values

HEADER = "txn_id,customer_id,ts,amount,direction,memo\n"
GOOD = "T2,C2,2025-01-03 10:00:00,1002,out,스타벅스\n"


def test_rejected_row_with_a_resident_number_and_a_phone_is_written_masked(tmp_path: Path) -> None:
    path = tmp_path / "txns.csv"
    path.write_text(HEADER + "850215-2345678,,2025-01-03,010-1234-5678,out,m\n" + GOOD, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["--quiet", "validate", "transactions", str(path), "--out", str(out)]) == 3
    with open(out / "transactions.rejects.csv", encoding="utf-8", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["line"] == "2"
    assert "2345678" not in json.dumps(row) and "1234-5678" not in json.dumps(row)
    assert row["raw"].startswith("[RRN]") and "[PHONE]" in row["reason"] + row["raw"]


def test_rejected_rows_in_the_run_record_are_masked(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    path = tmp_path / "txns.csv"
    path.write_text(HEADER + "T1,C1,2025-01-03,010-1234-5678,out,m\n" + GOOD, encoding="utf-8")
    Path(lake).mkdir()
    main(["--quiet", "validate", "transactions", str(path), "--lake", str(lake)])
    records = list((lake / "_runs").glob("validate-*.json"))
    text = "".join(p.read_text(encoding="utf-8") for p in records)
    assert records and "1234-5678" not in text and "[PHONE]" in text


def test_without_a_masker_the_raw_row_is_left_out_and_values_withheld() -> None:
    rejects = pa.table(
        {"line": [2], "reason": ["bad amount: '010-1234-5678' is not a valid number"], "raw": ["x"]}
    )
    rows = list(csv.reader(io.StringIO(rejects_csv(rejects, Path("a.csv")))))
    assert rows[1][1:] == ["2", "bad amount: '…' is not a valid number", ""]
    assert withhold_values("bad kind: 'it''s' is not one of a, b") == "bad kind: '…' is not one of a, b"
