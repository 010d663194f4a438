"""Imports only add: content-named parts, a ledger, no-op re-imports; replace and drop are explicit (issue 15)."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cdna.cli.app import main
from cdna.contracts.parts import raw_relation, read_raw
from cdna.contracts.schemas import TRANSACTIONS, conform
from cdna.core.config import load_config
from cdna.core.lake import Lake
from cdna.ingest.imports import import_file, read_ledger
from cdna.ingest.retention import apply_purge, plan_purge

ONE_ROW = "txn_id,customer_id,ts,amount,direction,memo,merchant\nIMP-1,{cid},2025-05-02 12:30:00,48000,out,월세,집주인\n"


@pytest.fixture
def lake(world_lake: Lake, tmp_path: Path) -> Lake:
    """A private copy of the session bank's raw tables."""
    shutil.copytree(world_lake.root / "raw", tmp_path / "lake" / "raw")
    return Lake.at(tmp_path / "lake")


def _rows(lake: Lake, table: str) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in lake.raw(table).glob("*.parquet"))


def _files(lake: Lake) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(lake.root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in (lake.root / "raw").rglob("*")
        if p.is_file()
    }


def _json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out)


def _a_customer(lake: Lake) -> str:
    return str(pq.read_table(lake.raw("customers"), columns=["customer_id"]).column(0)[0])


def test_import_adds_one_row_then_the_same_file_is_a_no_op(
    lake: Lake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _rows(lake, "transactions")
    assert before > 100_000
    src = tmp_path / "transactions.csv"  # named like the table: it once replaced the whole table
    src.write_text(ONE_ROW.format(cid=_a_customer(lake)), encoding="utf-8")
    args = ["--json", "validate", "transactions", str(src), "--lake", str(lake.root)]
    assert main(args) == 0
    first = _json(capsys)
    assert first["status"] == "imported" and first["rows_added"] == 1
    assert _rows(lake, "transactions") == before + 1
    part = Path(first["valid_path"])
    assert part.parent == lake.raw("transactions") and part.name.startswith("part-")
    assert first["digest"][:16] in part.name
    assert read_raw(lake, TRANSACTIONS).num_rows == before + 1

    files = _files(lake)
    assert main(args) == 0
    again = _json(capsys)
    assert again["status"] == "already_imported" and again["rows_added"] == 0
    assert again["previous"]["part"] == part.name
    assert _files(lake) == files and _rows(lake, "transactions") == before + 1
    assert [e["status"] for e in read_ledger(lake, "transactions")] == ["imported"]


def test_a_fully_rejected_file_changes_no_table(
    lake: Lake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "calls.csv"
    src.write_text(
        "call_id,customer_id,started_at,duration_s,channel_layout\n"
        "K1,C1,not a time,12,mono\nK2,C2,2025-01-01 09:00,-3,mono\n,C3,2025-01-01 09:00,5,mono\n",
        encoding="utf-8",
    )
    files, calls = _files(lake), _rows(lake, "calls")
    assert main(["--json", "validate", "calls", str(src), "--lake", str(lake.root)]) == 3
    out = _json(capsys)
    assert out["status"] == "all_rejected" and out["rejected_rows"] == 3 and out["valid_path"] is None
    assert _files(lake) == files and _rows(lake, "calls") == calls
    with open(out["rejects_path"], encoding="utf-8", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 3
    assert read_ledger(lake, "calls")[-1]["status"] == "all_rejected"


def test_rows_whose_key_is_present_are_skipped_and_changed_ones_counted(lake: Lake, tmp_path: Path) -> None:
    existing = pq.read_table(lake.raw("transactions")).slice(0, 3)
    df = existing.to_pandas()
    df.loc[1, "amount"] = df.loc[1, "amount"] + 1  # a correction: an import must not apply it
    df.loc[2, "txn_id"] = "NEW-1"
    src = tmp_path / "mixed.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), src)
    before = _rows(lake, "transactions")
    receipt = import_file(lake, TRANSACTIONS, src)
    assert (receipt.status, receipt.rows_added, receipt.already_present, receipt.changed) == (
        "imported",
        1,
        2,
        1,
    )
    assert _rows(lake, "transactions") == before + 1
    kept = duckdb.sql(
        f"SELECT amount FROM {raw_relation(lake, TRANSACTIONS)} WHERE txn_id = '{df.loc[1, 'txn_id']}'"
    ).fetchall()
    assert kept == [(existing.column("amount")[1].as_py(),)]
    only_old = tmp_path / "old.parquet"
    pq.write_table(existing.slice(0, 1), only_old)
    again = import_file(lake, TRANSACTIONS, only_old)
    assert (again.status, again.part, again.already_present, again.changed) == ("nothing_new", None, 1, 0)


def test_readers_keep_one_row_per_key_from_the_earliest_part(lake: Lake) -> None:
    folder = lake.raw("transactions")
    base = pq.read_table(folder)
    dup = conform(base.slice(0, 5), TRANSACTIONS).to_pandas()
    dup["amount"] = -1.0
    pq.write_table(
        pa.Table.from_pandas(dup, preserve_index=False), folder / "part-20990101T000000000000Z-copy.parquet"
    )
    table = read_raw(lake, TRANSACTIONS)
    assert table.num_rows == base.num_rows
    assert -1.0 not in set(table.column("amount").to_pylist()[:5])
    (n, low) = duckdb.sql(f"SELECT count(*), min(amount) FROM {raw_relation(lake, TRANSACTIONS)}").fetchall()[
        0
    ]
    assert n == base.num_rows and low == pa.compute.min(base.column("amount")).as_py()


def test_replace_and_drop_need_yes_keep_a_backup_until_retention_and_are_recorded(
    lake: Lake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cid = _a_customer(lake)
    src = tmp_path / "transactions.csv"
    src.write_text(ONE_ROW.format(cid=cid), encoding="utf-8")
    before, root = _rows(lake, "transactions"), str(lake.root)

    assert main(["--quiet", "data", "replace", "transactions", str(src), "--lake", root]) == 2
    assert "add --yes" in " ".join(capsys.readouterr().err.split()) and _rows(lake, "transactions") == before
    assert main(["--json", "data", "replace", "transactions", str(src), "--lake", root, "--yes"]) == 0
    done = _json(capsys)
    assert done["rows_removed"] == before and done["rows_added"] == 1 and _rows(lake, "transactions") == 1
    backup = Path(done["backup"])
    assert sum(pq.ParquetFile(p).metadata.num_rows for p in backup.glob("*.parquet")) == before

    # an import of another file adds to the replaced table; dropping that one part undoes it
    other = tmp_path / "more.csv"
    other.write_text(ONE_ROW.replace("IMP-1", "IMP-2").format(cid=cid), encoding="utf-8")
    assert main(["--json", "validate", "transactions", str(other), "--lake", root]) == 0
    part = Path(_json(capsys)["valid_path"]).name
    assert main(["--quiet", "data", "drop", "transactions", "--part", part, "--lake", root]) == 2
    assert main(["--quiet", "data", "drop", "transactions", "--part", part, "--lake", root, "--yes"]) == 0
    assert _rows(lake, "transactions") == 1
    capsys.readouterr()
    assert main(["--json", "validate", "transactions", str(other), "--lake", root]) == 0
    assert _json(capsys)["status"] == "imported"  # its part was dropped: the same file imports again

    assert main(["--json", "data", "history", "transactions", "--lake", root]) == 0
    actions = [e["action"] for e in _json(capsys)["entries"]]
    assert actions == ["replace", "import", "drop", "import"]
    assert len(list(lake.runs.glob("data-*.json"))) == 2

    plan = plan_purge(lake, load_config(environ={}).retention, date(2025, 6, 30))
    backups = [i for i in plan.items if i.kind == "backups"]
    assert len(backups) == 2 and all(i.bytes > 0 for i in backups)
    apply_purge(plan)
    assert not backup.exists() and _rows(lake, "transactions") == 2


def test_replace_with_no_valid_row_changes_nothing(lake: Lake, tmp_path: Path, capsys) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("txn_id,customer_id,ts,amount,direction\nX,,2025-01-01,1,out\n", encoding="utf-8")
    files = _files(lake)
    assert (
        main(["--quiet", "data", "replace", "transactions", str(src), "--lake", str(lake.root), "--yes"]) == 2
    )
    assert "would empty the table" in " ".join(capsys.readouterr().err.split()) and _files(lake) == files


@pytest.mark.slow
def test_stages_run_on_a_lake_with_imported_parts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cdna.ingest.world.generator import synthetic_bank

    lake = synthetic_bank(tmp_path / "lake", customers=200, seed=3)
    cid = _a_customer(lake)
    src = tmp_path / "transactions.csv"
    src.write_text(ONE_ROW.format(cid=cid).replace("2025-05-02", "2025-06-29"), encoding="utf-8")
    root = str(lake.root)
    assert main(["--quiet", "validate", "transactions", str(src), "--lake", root]) == 0
    assert len(lake.raw_parts("transactions")) == 2
    assert main(["--quiet", "mine", "--lake", root]) == 0
    memo_signals = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{lake.signals}/*/*.parquet') WHERE source_id = 'IMP-1'"
    ).fetchall()[0][0]
    assert memo_signals >= 1  # the imported part's memo (월세) was mined
    capsys.readouterr()
    assert main(["--json", "features", "materialize", "--lake", root, "--as-of", "2025-06-30"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rows"] == 200
    lineage = json.loads(pq.read_schema(out["snapshot"]).metadata[b"cdna.lineage"])
    inputs = {Path(i["path"]).name for i in lineage["inputs"]}
    assert {p.name for p in lake.raw_parts("transactions")} <= inputs  # every part fed the features


def test_replace_with_rejected_rows_writes_them_masked_and_exits_3(lake: Lake, tmp_path: Path) -> None:
    src = tmp_path / "fix.csv"
    good = ONE_ROW.format(cid=_a_customer(lake))
    src.write_text(good + "IMP-9,,2025-05-02 12:30:00,1,out,연락처 010-1234-5678,x\n", encoding="utf-8")
    root = str(lake.root)
    assert main(["--quiet", "data", "replace", "transactions", str(src), "--lake", root, "--yes"]) == 3
    assert _rows(lake, "transactions") == 1
    (rejects,) = (lake.rejects / "transactions").glob("fix-replace.rejects.csv")
    text = rejects.read_text(encoding="utf-8")
    assert "missing customer_id" in text and "010-1234-5678" not in text
