"""Row-level resilience of imports: over-long lines are rejected rows, bad headers stop, rejects are safe."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from cdna.cli.app import main
from cdna.contracts.schemas import TRANSACTIONS
from cdna.core.errors import InputError
from cdna.ingest.importer import rejects_csv, spreadsheet_safe
from cdna.ingest.lines import copy_without, original_line_numbers, scan_lines
from cdna.ingest.validate import validate_file

HEADER = "txn_id,customer_id,ts,amount,direction,memo\n"


def _row(i: int, memo: str = "스타벅스") -> str:
    return f"T{i},C{i % 7},2025-01-03 10:00:00,{1000 + i},out,{memo}\n"


def test_long_lines_are_rejected_rows_with_their_original_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "txns.csv"
    lines = [HEADER, _row(1), _row(2, "x" * 5000), _row(3), "T4,C1\n", _row(5, "y" * 3000), _row(6)]
    path.write_text("".join(lines), encoding="utf-8")
    result = validate_file(path, TRANSACTIONS, max_line_bytes=1000)
    assert result.valid.column("txn_id").to_pylist() == ["T1", "T3", "T6"]
    reasons = dict(
        zip(
            result.rejects.column("line").to_pylist(),
            result.rejects.column("reason").to_pylist(),
            strict=True,
        )
    )
    assert set(reasons) == {3, 5, 6}
    assert "longer than 1,000 bytes" in reasons[3] and "longer than 1,000 bytes" in reasons[6]
    assert "malformed CSV row" in reasons[5]  # line 5 counted in the original file, not the copy
    raw = dict(
        zip(result.rejects.column("line").to_pylist(), result.rejects.column("raw").to_pylist(), strict=True)
    )
    assert raw[3].startswith("T2,C2,") and "bytes)" in raw[3] and len(raw[3]) < 300


def test_long_last_line_without_newline_and_gzip(tmp_path: Path) -> None:
    text = HEADER + _row(1) + _row(2) + _row(3, "z" * 4000).rstrip("\n")
    path = tmp_path / "txns.csv.gz"
    path.write_bytes(gzip.compress(text.encode("utf-8")))
    result = validate_file(path, TRANSACTIONS, max_line_bytes=2000)
    assert result.valid.column("txn_id").to_pylist() == ["T1", "T2"]
    assert result.rejects.column("line").to_pylist() == [4]


def test_scan_finds_long_lines_across_chunk_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    limit = 100_000
    body = [HEADER, _row(1), _row(2, "a" * 2_500_000), _row(3), _row(4, "b" * 1_200_000), _row(5)]
    path.write_text("".join(body), encoding="utf-8")
    scan = scan_lines(path, limit)
    assert scan.header == HEADER.strip().encode()
    assert [x.line for x in scan.long_lines] == [3, 5] and scan.lines == 6
    assert scan.long_lines[0].head.startswith(b"T2,C2,") and scan.long_lines[1].head.startswith(b"T4,C4,")
    copy = copy_without(path, scan.long_lines, tmp_path / "copy.csv")
    assert copy.read_text(encoding="utf-8") == "".join(body[i] for i in (0, 1, 3, 5))


def test_line_number_map() -> None:
    copy = np.array([2, 3, 4, 5], dtype=np.int64)
    assert original_line_numbers(copy, [3, 4, 7]).tolist() == [2, 5, 6, 8]
    assert original_line_numbers(copy, []).tolist() == [2, 3, 4, 5]


def test_long_header_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a" * 5000 + "\n1\n", encoding="utf-8")
    with pytest.raises(InputError, match="header line is longer"):
        validate_file(path, TRANSACTIONS, max_line_bytes=1000)


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("txn_id,customer_id,ts,amount,direction,amount", "'amount' (columns 4, 6)"),
        ("txn_id,customer_id,ts,Amount,direction,amount", "'Amount' (columns 4, 6)"),
        ("txn_id,customer_id,ts,amount,direction,", "column(s) 6 without a name"),
        ("txn_id;customer_id;;amount;direction;memo", "column(s) 3 without a name"),
    ],
)
def test_repeated_or_unnamed_header_columns_are_named(tmp_path: Path, header: str, named: str) -> None:
    sep = ";" if ";" in header else ","
    path = tmp_path / "x.csv"
    path.write_text(
        header + "\n" + sep.join(["T1", "C1", "2025-01-03", "5", "out", "m"]) + "\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as err:
        validate_file(path, TRANSACTIONS)
    assert named in str(err.value) and str(path) in str(err.value)


def test_cli_repeated_header_exits_2_and_writes_nothing(tmp_path: Path, capsys) -> None:
    path = tmp_path / "x.csv"
    path.write_text(HEADER.replace("memo", "amount") + _row(1), encoding="utf-8")
    code = main(["--quiet", "validate", "transactions", str(path), "--lake", str(tmp_path / "lake")])
    assert code == 2
    assert "'amount' (columns 4, 6)" in capsys.readouterr().err
    assert not (tmp_path / "lake" / "raw").exists()


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_reject_csv_escapes_formula_cells(start: str) -> None:
    cell = f'{start}HYPERLINK("http://x","y")'
    rejects = pa.table({"line": [2], "reason": [cell], "raw": [cell]})
    rows = list(csv.reader(io.StringIO(rejects_csv(rejects, Path("a.csv"), redact=str))))
    assert rows[1][2] == rows[1][3] == "'" + cell
    assert spreadsheet_safe("T1,=1+1") == "T1,=1+1" and spreadsheet_safe("") == ""


def test_formula_rows_in_a_real_import_are_escaped_in_the_rejects_file(tmp_path: Path) -> None:
    path = tmp_path / "txns.csv"
    path.write_text(
        HEADER + '=HYPERLINK("http://evil","x"),,2025-01-03,1,out,m\n' + _row(2), encoding="utf-8"
    )
    out = tmp_path / "out"
    assert main(["--quiet", "validate", "transactions", str(path), "--out", str(out)]) == 3
    with open(out / "transactions.rejects.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1 and rows[0]["raw"].startswith("'=HYPERLINK(")
