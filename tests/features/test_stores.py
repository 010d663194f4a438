"""Offline and online stores, segments, the HTML report, foreign data and the CLI."""

from __future__ import annotations

import os
import sqlite3
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cdna.cli.app import app, main
from cdna.core.errors import ConfigError, UnknownCustomerError
from cdna.core.lake import Lake
from cdna.features.online import SqliteOnlineStore, write_sqlite_store
from cdna.features.report import write_report
from cdna.features.sandbox import run_sandboxed
from cdna.features.segments import SegmentOptions, elbow_k, fit_segments
from cdna.features.snapshot import FeatureSet, snapshot
from cdna.features.store import materialize, segment_snapshot


@pytest.fixture(scope="module")
def materialized(fs: FeatureSet, bank: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, object]:
    import shutil

    root = tmp_path_factory.mktemp("mat")
    shutil.copytree(bank / "raw", root / "raw")
    lake = Lake.at(root)
    return lake, materialize(fs, lake, date(2025, 6, 30))


def test_materialize_writes_offline_and_online(fs: FeatureSet, materialized: tuple) -> None:
    lake, res = materialized
    assert set(res.view_files) >= {
        "profile",
        "transactions",
        "holdings",
        "web",
        "calls",
        "signals",
        "derived",
        "segments",
    }
    for path in res.view_files.values():
        assert "date=2025-06-30" in str(path) and pq.read_metadata(path).num_rows == res.snapshot.rows
    snap = pq.read_table(res.snapshot.path).to_pandas().set_index("customer_id")
    store = SqliteOnlineStore(res.online_path)
    for cid in snap.index[:25]:
        vec = store.get(cid)
        for col in ("recency_days", "txn_count_90d", "product_count", "age_band", "held_mortgage"):
            want = snap.loc[cid, col]
            assert (vec[col] is None and pd.isna(want)) or vec[col] == want, (cid, col)
        assert pytest.approx(snap.loc[cid, "txn_amount_90d"], rel=1e-6) == vec["txn_amount_90d"]
        assert isinstance(vec["segment_name"], str)
    with pytest.raises(UnknownCustomerError):
        store.get("nobody")
    assert store.info()["as_of"] == "2025-06-30"
    store.close()


def test_online_swap_is_atomic_for_open_readers(tmp_path: Path) -> None:
    v1 = tmp_path / "v1.parquet"
    v2 = tmp_path / "v2.parquet"
    pd.DataFrame({"customer_id": ["A", "B"], "x": [1.0, 2.0]}).to_parquet(v1)
    pd.DataFrame({"customer_id": ["A", "B"], "x": [10.0, 20.0], "y": ["new", "new"]}).to_parquet(v2)
    path = tmp_path / "online" / "features.sqlite"
    write_sqlite_store(f"read_parquet('{v1}')", path, {"as_of": "1"})
    reader = SqliteOnlineStore(path)
    old_con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # a second reader mid-query
    assert reader.get("A") == {"x": 1.0}
    write_sqlite_store(f"read_parquet('{v2}')", path, {"as_of": "2"})
    assert old_con.execute("SELECT count(*) FROM vectors").fetchone() == (2,)  # old file still readable
    assert reader.get("A") == {"x": 10.0, "y": "new"}  # reader switched to the new file
    assert reader.info()["as_of"] == "2"
    assert not [p for p in os.listdir(path.parent) if p.endswith(".tmp")]


def test_sql_over_offline_store(materialized: tuple) -> None:
    lake, res = materialized
    t = run_sandboxed(lake, "SELECT count(*) AS n, count(DISTINCT segment_id) AS k FROM segments").table
    assert t.to_pylist() == [{"n": res.snapshot.rows, "k": res.segmentation.k_}]
    t = run_sandboxed(
        lake,
        "SELECT p.age_band, avg(t.txn_count_90d) AS f FROM profile p JOIN transactions t "
        "USING (customer_id, date) GROUP BY 1",
    ).table
    assert t.num_rows >= 3


def test_elbow_k_finds_the_knee() -> None:
    assert elbow_k({2: 100.0, 3: 40.0, 4: 30.0, 5: 25.0, 6: 22.0}) == 3


def test_segments_choose_k_by_silhouette_and_name_by_profile(
    fs: FeatureSet, materialized: tuple, tmp_path: Path
) -> None:
    _, res = materialized
    df, seg = segment_snapshot(fs, res.snapshot.path)
    # issue 17: the configured k (4, as in the study) is used; the best silhouette is reported beside it
    assert seg.k_ == fs.config.segments_k == 4
    assert seg.best_k_ == max(seg.silhouette_, key=seg.silhouette_.get)
    assert set(seg.inertia_) == set(range(fs.config.segments_k_min, fs.config.segments_k_max + 1))
    assert len(set(seg.labels_)) == seg.k_ and len(seg.labels_) == len(df)
    prof = seg.profile_
    # segment 0 is the most valuable: more frequent and more spend than the last segment
    assert prof.loc[0, "frequency_median"] >= prof.loc[seg.k_ - 1, "frequency_median"]
    assert prof["name"].is_unique
    html = write_report(df, seg, tmp_path, "test").read_text()
    assert html.count("data:image/png;base64,") >= 5 and "실루엣" in html


def test_foreign_online_retail_through_column_map(fs: FeatureSet, tmp_path: Path, shared_data: Path) -> None:
    from cdna.contracts.schemas import contract
    from cdna.core.config import load_config
    from cdna.ingest.importer import load_mapping
    from cdna.ingest.validate import validate_file

    result = validate_file(
        shared_data / "online_retail_sample.csv",
        contract("transactions"),
        load_mapping(load_config(environ={}), "transactions", "online_retail", []),
    )
    lake = tmp_path / "retail"
    (lake / "raw" / "transactions").mkdir(parents=True)
    pq.write_table(result.valid, lake / "raw" / "transactions" / "online_retail.parquet")
    tx = result.valid.to_pandas()
    day = date(2011, 12, 9)
    snap = snapshot(fs, lake, day, tmp_path / "snap.parquet")
    got = pq.read_table(snap.path).to_pandas().set_index("customer_id")
    assert snap.rows == tx["customer_id"].nunique() > 400
    # brute-force RFM for a few customers
    kst = tx.assign(d=tx["ts"].dt.tz_convert("Asia/Seoul").dt.date)
    for cid in got.index[:20]:
        mine = kst[kst["customer_id"] == cid]
        assert got.loc[cid, "recency_days"] == (day - mine["d"].max()).days
        assert got.loc[cid, "txn_count_365d"] == len(mine)
    df, seg = segment_snapshot(fs, snap.path)
    assert seg.k_ == 4 and seg.profile_["customers"].sum() == len(df)


def test_segment_options_validate_size() -> None:
    df = pd.DataFrame({"recency_days": [1], "txn_count_365d": [2], "spend_amount_365d": [3.0]})
    with pytest.raises(Exception, match="too few"):
        fit_segments(df, SegmentOptions())


def test_cli_snapshot_show_sql_and_errors(bank: Path, tmp_path: Path) -> None:
    import shutil

    lake = tmp_path / "lake"
    shutil.copytree(bank / "raw", lake / "raw")
    runner = CliRunner()
    out = tmp_path / "snap.parquet"
    r = runner.invoke(
        app,
        ["--json", "features", "snapshot", "--lake", str(lake), "--as-of", "2025-06-30", "--out", str(out)],
    )
    assert r.exit_code == 0, r.output
    assert pq.read_metadata(out).num_rows == 300
    r = runner.invoke(app, ["features", "materialize", "--lake", str(lake)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["features", "show", "C0000001", "--lake", str(lake)])
    assert r.exit_code == 0 and "recency_days" in r.output and "segment_name" in r.output
    r = runner.invoke(
        app, ["--json", "features", "sql", "SELECT count(*) AS n FROM snapshots", "--lake", str(lake)]
    )
    assert r.exit_code == 0 and '"n": 300' in r.output
    r = runner.invoke(
        app, ["features", "snapshot", "--lake", str(lake), "--as-of", "30/06/2025", "--out", str(out)]
    )
    assert isinstance(r.exception, ConfigError) and "YYYY-MM-DD" in str(r.exception)
    assert (
        main(["features", "snapshot", "--lake", str(lake), "--as-of", "30/06/2025", "--out", str(out)]) == 2
    )
    r = runner.invoke(app, ["features", "show", "NOPE", "--lake", str(lake)])
    assert isinstance(r.exception, UnknownCustomerError) and "NOPE" in str(r.exception)


def test_point_in_time_join_keeps_rows_and_applies_ttl(tmp_path: Path) -> None:
    import duckdb

    from cdna.features.store import point_in_time_join

    ts = pd.to_datetime
    rows = pd.DataFrame(
        {
            "customer_id": ["A", "B", "A", "B"],
            "event_timestamp": ts(["2025-01-31", "2025-01-31", "2025-02-28", "2025-02-28"], utc=True),
            "x": [1.0, 2.0, 3.0, 4.0],
        }
    )
    ent = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B", "C", "B"],
            "event_timestamp": ts(
                ["2025-02-27", "2025-03-01", "2025-01-30", "2025-03-01", "2026-03-01"], utc=True
            ),
        }
    )
    rows.to_parquet(tmp_path / "rows.parquet")
    ent.to_parquet(tmp_path / "ent.parquet")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    got = {}
    for full in (False, True):
        sql = point_in_time_join(
            con,
            f"read_parquet('{tmp_path / 'ent.parquet'}')",
            f"read_parquet('{tmp_path / 'rows.parquet'}')",
            ["x"],
            90,
            full_snapshots=full,
        )
        got[full] = sorted(con.execute(sql).fetchall(), key=lambda r: (r[0], str(r[1])))
    assert got[False] == got[True]
    xs = [r[2] for r in got[True]]
    # A@02-27 → Jan row; A@03-01 → Feb row; B@01-30 → none yet; C → none; B a year later → stale (TTL) → null
    assert xs == [1.0, 3.0, None, None, None]
