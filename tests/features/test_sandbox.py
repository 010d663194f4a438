"""The analyst SQL sandbox (issue #14 item 3): masked tables only, no files, one SELECT, row and time limits."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cdna.cli.app import main
from cdna.contracts.schemas import SIGNALS
from cdna.core.lake import Lake
from cdna.features.sandbox import SandboxError, SandboxOptions, run_sandboxed, sandbox_tables
from cdna.features.snapshot import FeatureSet
from cdna.features.store import materialize

README_QUERY = "SELECT segment_name, count(*) FROM segments GROUP BY 1"


@pytest.fixture(scope="module")
def demo_lake(fs: FeatureSet, bank: Path, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The demo's layout: raw tables, unmasked transcripts, mined signals AND a `signals` feature view."""
    root = tmp_path_factory.mktemp("sandbox")
    shutil.copytree(bank / "raw", root / "raw")
    shutil.copytree(bank / "transcripts", root / "transcripts")
    lake = Lake.at(root)
    materialize(fs, lake, date(2025, 6, 30))
    mined = pa.table(
        {
            "customer_id": ["C0000001"],
            "ts": pa.array([datetime(2025, 6, 1, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
            "source": ["call"],
            "source_id": ["K1"],
            "kind": ["intent"],
            "label": ["card_issue"],
            "score": [0.9],
            "evidence": ["카드 발급 문의드려요"],
            "model_version": ["v1"],
        }
    ).cast(SIGNALS.schema)
    (lake.signals / "date=2025-06-01").mkdir(parents=True)
    pq.write_table(mined, lake.signals / "date=2025-06-01" / "part.parquet")
    return lake


def _cli(lake: Lake, sql: str, *more: str) -> int:
    return main(["--json", "features", "sql", sql, "--lake", str(lake.root), *more])


def test_readme_example_works_on_a_demo_lake(demo_lake: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    # The demo has both LAKE/signals/ and LAKE/features/signals/: this used to fail with
    # "View with name signals already exists".
    assert _cli(demo_lake, README_QUERY) == 0
    out = json.loads(capsys.readouterr().out)
    n = pq.read_metadata(next(demo_lake.snapshots.glob("date=*/snapshot.parquet"))).num_rows
    assert sum(r["count_star()"] for r in out["rows"]) == n and len(out["rows"]) >= 2


def test_tables_are_masked_ones_only(demo_lake: Lake) -> None:
    tables = sandbox_tables(demo_lake)
    assert {"segments", "signals", "snapshots", "signal_events", "raw_transactions"} <= set(tables)
    assert not [t for t in tables if "transcript" in t or "audit" in t or "truth" in t]
    assert "memo" not in tables["raw_transactions"].schema.names
    assert "merchant" not in tables["raw_transactions"].schema.names
    assert "audio_path" not in tables["raw_calls"].schema.names
    with pytest.raises(SandboxError, match="memo"):
        run_sandboxed(demo_lake, "SELECT memo FROM raw_transactions")
    got = run_sandboxed(demo_lake, "SELECT evidence FROM signal_events").table.to_pylist()
    assert got == [{"evidence": "카드 발급 문의드려요"}]


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "/etc/passwd"),
        ("SELECT * FROM read_text('{root}/transcripts/*/*.parquet')", "file"),
        ("SELECT * FROM read_parquet('{root}/raw/transactions/*.parquet')", "file"),
        ("COPY (SELECT 1 AS x) TO '{root}/features/segments/date=2025-06-30/evil.parquet'", "COPY"),
        ("ATTACH '{root}/evil.db' AS evil", "ATTACH"),
        ("INSTALL httpfs", "INSTALL"),
        ("LOAD httpfs", "LOAD"),
        ("EXPORT DATABASE '{root}/dump'", "EXPORT"),
        ("SET enable_external_access = true", "SET"),
        ("CREATE TABLE x AS SELECT 1", "CREATE"),
        ("SELECT 1; COPY (SELECT 1) TO '/tmp/x.csv'", "exactly one"),
    ],
)
def test_files_and_side_effects_are_refused(demo_lake: Lake, sql: str, says: str) -> None:
    before = sorted(str(p) for p in demo_lake.root.rglob("*"))
    with pytest.raises(SandboxError, match=says):
        run_sandboxed(demo_lake, sql.format(root=demo_lake.root))
    assert sorted(str(p) for p in demo_lake.root.rglob("*")) == before


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "COPY (SELECT 1) TO '/tmp/cdna-sandbox.csv'",
        "ATTACH ':memory:' AS m",
    ],
)
def test_cli_refuses_with_exit_2_and_a_clear_error(
    demo_lake: Lake, sql: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(demo_lake, sql) == 2
    err = capsys.readouterr().err
    assert "sandbox" in err and "root:" not in err
    assert not Path("/tmp/cdna-sandbox.csv").exists()


def test_row_limit_and_time_limit(demo_lake: Lake) -> None:
    res = run_sandboxed(demo_lake, "SELECT * FROM raw_transactions", SandboxOptions(max_rows=7))
    assert res.table.num_rows == 7 and res.truncated
    res = run_sandboxed(demo_lake, "SELECT count(*) AS n FROM raw_customers", SandboxOptions(max_rows=7))
    assert not res.truncated and res.table.to_pylist()[0]["n"] > 0
    with pytest.raises(SandboxError, match="time limit"):
        run_sandboxed(demo_lake, "SELECT count(*) FROM range(100000000000)", SandboxOptions(timeout_s=0.5))


def test_feature_views_join_on_the_date_partition(demo_lake: Lake) -> None:
    t = run_sandboxed(
        demo_lake,
        "SELECT p.age_band, avg(t.txn_count_90d) AS f FROM profile p JOIN transactions t "
        "USING (customer_id, date) GROUP BY 1",
    ).table
    assert t.num_rows >= 3
    days = run_sandboxed(demo_lake, "SELECT DISTINCT date FROM segments").table.column(0).to_pylist()
    assert days == [date(2025, 6, 30)]


def test_out_may_not_write_into_the_lake(demo_lake: Lake, tmp_path: Path) -> None:
    inside = demo_lake.features / "segments" / "date=2025-06-30" / "extra.parquet"
    assert _cli(demo_lake, README_QUERY, "--out", str(inside)) == 2 and not inside.exists()
    outside = tmp_path / "segments.csv"
    assert _cli(demo_lake, README_QUERY, "--out", str(outside)) == 0
    assert outside.read_text(encoding="utf-8").splitlines()[0] == '"segment_name","count_star()"'
