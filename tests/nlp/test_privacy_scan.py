"""`cdna privacy scan`: a mined synthetic bank is clean; planted personal data is found and placed (issue 14)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cdna.core.config import load_config
from cdna.core.lake import Lake
from cdna.nlp.privacy_scan import scan_lake, scan_text


@pytest.fixture(scope="module")
def mined_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """A 150-customer bank with its signals mined (masked evidence written to LAKE/signals/)."""
    from cdna.ingest.world.generator import synthetic_bank
    from cdna.nlp.store import run_mine

    lake = synthetic_bank(tmp_path_factory.mktemp("privacy") / "lake", customers=150, seed=11)
    run_mine(lake, load_config(environ={}).nlp)
    return lake


def _scan(lake: Lake) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cdna", "--json", "privacy", "scan", "--lake", str(lake.root)],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_fresh_mined_lake_is_clean(mined_lake: Lake) -> None:
    report = scan_lake(mined_lake)
    assert report.files["parquet"] > 0 and report.values > 0
    assert report.clean, [f.__dict__ for f in report.findings[:10]]


@pytest.mark.slow
def test_planted_rrn_and_spoken_phone_are_found_with_their_places(mined_lake: Lake, tmp_path: Path) -> None:
    signals = sorted(mined_lake.signals.rglob("*.parquet"))[0]
    table = pq.read_table(signals)
    planted = table.slice(0, 1)
    evidence = pa.array(["고객 주민번호 850215-2345678 확인 요청"], planted.schema.field("evidence").type)
    planted = planted.set_column(planted.schema.get_field_index("evidence"), "evidence", evidence)
    pq.write_table(pa.concat_tables([table, planted]), signals)
    report_html = mined_lake.root / "reports" / "recommend" / "planted.html"
    report_html.parent.mkdir(parents=True, exist_ok=True)
    report_html.write_text(
        "<html><body>\n<h1>보고서</h1>\n<table><tr><td>연락처 공일공 일이삼사 오육칠팔 입니다</td></tr></table>\n"
        "</body></html>\n",
        encoding="utf-8",
    )
    proc = _scan(mined_lake)
    assert proc.returncode == 1, proc.stderr
    result = json.loads(proc.stdout)
    places = {(p["path"], p["where"], p["type"]) for p in result["places"]}
    row = table.num_rows  # the planted row is the last one
    assert (mined_lake.rel(signals), f"column evidence, row {row}", "RRN") in places
    assert (mined_lake.rel(report_html), "line 3", "PHONE") in places
    assert result["findings"] == 2
    # The report names the places but never repeats the numbers.
    assert "2345678" not in proc.stdout and "일이삼사" not in proc.stdout


def test_sqlite_text_columns_and_json_are_read(tmp_path: Path) -> None:
    lake = Lake.at(tmp_path / "lake", create=True)
    db = lake.root / "serve" / "notes.db"
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, score REAL)")
        con.execute(
            "INSERT INTO notes (body, score) VALUES ('상담 메모: 카드 4111-1111-1111-1111 분실', 0.5)"
        )
        con.execute("INSERT INTO notes (body, score) VALUES ('{\"vector\": [1234567890, 0.123, 5678]}', 1)")
    (lake.root / "_runs").mkdir()
    (lake.root / "_runs" / "x.json").write_text(
        json.dumps(
            {"started_at": 1701388800000, "reason": "계좌 110-123-456789 거절"}, ensure_ascii=False, indent=1
        ),
        encoding="utf-8",
    )
    (lake.root / "raw" / "customers").mkdir(parents=True)
    (lake.root / "raw" / "customers" / "memo.txt").write_text("주민번호 850215-2345678", encoding="utf-8")
    report = scan_lake(lake)
    found = {(f.path, f.where, f.type) for f in report.findings}
    assert found == {("serve/notes.db", "notes.body, rowid 1", "CARD"), ("_runs/x.json", "line 3", "ACCOUNT")}


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("split_feature=1 2 3 4 5 6 7 8 9 10 11 12 13", False),  # a model file's numbers
        ("start_time: 1701388800000", False),  # epoch milliseconds
        ("phone=010-1234-5678", True),  # written on its own, still a phone
        ("9501011234567", True),  # a resident number with a valid date
        ("최근 거래 3건, 금액 1,234,567원", False),
    ],
)
def test_bare_numbers_count_only_with_a_personal_shape(text: str, found: bool) -> None:
    assert bool(scan_text(text)) is found


@pytest.mark.slow
def test_transcripts_are_owner_only(mined_lake: Lake) -> None:
    files = sorted(mined_lake.transcripts.rglob("*.parquet"))
    assert files
    assert all(f.stat().st_mode & 0o077 == 0 for f in files)
    assert mined_lake.transcripts.stat().st_mode & 0o077 == 0
