"""Point-in-time correctness: snapshots equal a brute-force recomputation from events before each as-of."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cdna.features.snapshot import FeatureSet, snapshot, training_set

KST = ZoneInfo("Asia/Seoul")
AS_OFS = [date(2024, 11, 30), date(2025, 3, 14), date(2025, 6, 29)]


def _end(day: date) -> pd.Timestamp:
    return pd.Timestamp(datetime.combine(day, dtime.max, tzinfo=KST)).tz_convert("UTC")


def _read(lake: Path, table: str) -> pd.DataFrame:
    return pq.read_table(lake / "raw" / table).to_pandas()


def brute_force(lake: Path, day: date, ttl_days: int = 365) -> pd.DataFrame:
    """Recompute a few features reading only events at or before the end of `day` (Korea time)."""
    end = _end(day)
    cust = _read(lake, "customers")[["customer_id"]]
    tx = _read(lake, "transactions")
    tx = tx[tx["ts"] <= end]
    in_ttl = tx[tx["ts"] > end - timedelta(days=ttl_days)]
    last = in_ttl.groupby("customer_id")["ts"].max().dt.tz_convert(KST).dt.date
    recency = last.map(lambda d: (day - d).days).rename("recency_days")
    w90 = tx[tx["ts"] > end - timedelta(days=90)]
    agg = (
        w90.groupby("customer_id")["amount"]
        .agg(["count", "sum"])
        .rename(columns={"count": "txn_count_90d", "sum": "txn_amount_90d"})
    )
    web = _read(lake, "web_events")
    web = web[(web["ts"] <= end) & (web["ts"] > end - timedelta(days=30))]
    visits = web.groupby("customer_id").size().rename("web_visits_30d")
    hold = _read(lake, "holdings")
    hold = hold[hold["ts"] <= end].assign(net=lambda h: h["event"].map({"open": 1, "close": -1}))
    held = (hold.groupby(["customer_id", "product_id"])["net"].sum() > 0).groupby("customer_id").sum()
    out = cust.set_index("customer_id").join([recency, agg, visits, held.rename("product_count")])
    for c in ("txn_count_90d", "txn_amount_90d", "web_visits_30d", "product_count"):
        out[c] = out[c].fillna(0)
    return out.sort_index()


@pytest.mark.parametrize("day", AS_OFS)
def test_snapshot_equals_brute_force(fs: FeatureSet, bank: Path, tmp_path: Path, day: date) -> None:
    res = snapshot(fs, bank, day, tmp_path / "snap.parquet")
    got = pq.read_table(res.path).to_pandas().set_index("customer_id").sort_index()
    want = brute_force(bank, day)
    assert res.rows == len(want) == len(got)
    assert (got["as_of"].astype(str) == str(day)).all()
    for col in ("txn_count_90d", "web_visits_30d", "product_count"):
        assert got[col].astype(int).tolist() == want[col].astype(int).tolist(), col
    pd.testing.assert_series_equal(
        got["txn_amount_90d"].astype(float),
        want["txn_amount_90d"].astype(float),
        check_names=False,
        rtol=1e-9,
    )
    assert got["recency_days"].astype("Int64").tolist() == want["recency_days"].astype("Int64").tolist()
    # the bank really has activity in the window, so the comparison is not vacuous
    assert got["txn_count_90d"].sum() > 1000 and got["recency_days"].notna().mean() > 0.9


def _copy_lake(src: Path, dst: Path) -> Path:
    shutil.copytree(src / "raw", dst / "raw")
    return dst


def _move_txn(lake: Path, txn_id: str, ts: pd.Timestamp) -> None:
    path = lake / "raw" / "transactions" / "transactions.parquet"
    t = pq.read_table(path).to_pandas()
    t.loc[t["txn_id"] == txn_id, "ts"] = ts
    pq.write_table(pa.Table.from_pandas(t, schema=pq.read_schema(path), preserve_index=False), path)


def test_event_one_second_past_as_of_changes_nothing(fs: FeatureSet, bank: Path, tmp_path: Path) -> None:
    day = date(2025, 3, 14)
    base = snapshot(fs, bank, day, tmp_path / "base.parquet")
    tx = _read(bank, "transactions")
    later = tx[tx["ts"] > _end(day) + timedelta(days=10)].iloc[0]
    cid = later["customer_id"]
    # moved to one second after the end of the as-of day: invisible
    lake = _copy_lake(bank, tmp_path / "moved")
    _move_txn(lake, later["txn_id"], _end(day) + timedelta(seconds=1))
    moved = snapshot(fs, lake, day, tmp_path / "moved.parquet")
    a = pq.read_table(base.path).to_pandas()
    b = pq.read_table(moved.path).to_pandas()
    pd.testing.assert_frame_equal(a, b)
    # moved to the last microsecond of the day: it counts, and the customer's recency becomes 0
    _move_txn(lake, later["txn_id"], _end(day))
    inside = pq.read_table(snapshot(fs, lake, day, tmp_path / "inside.parquet").path).to_pandas()
    before = a.set_index("customer_id").loc[cid]
    after = inside.set_index("customer_id").loc[cid]
    assert after["txn_count_90d"] == before["txn_count_90d"] + 1
    assert after["recency_days"] == 0


def test_training_set_matches_snapshots_and_keeps_row_order(
    fs: FeatureSet, bank: Path, tmp_path: Path
) -> None:
    ids = _read(bank, "customers")["customer_id"].tolist()[:40]
    rows = [(cid, d) for d in AS_OFS for cid in ids]
    rows = rows[::-1] + rows[:5]  # reversed order plus duplicate rows
    ent = pd.DataFrame(rows, columns=["customer_id", "as_of"])
    ent_path = tmp_path / "entities.parquet"
    ent.to_parquet(ent_path)
    res = training_set(fs, bank, ent_path, tmp_path / "train.parquet")
    got = pq.read_table(res.path).to_pandas()
    assert res.rows == len(ent)
    assert got["customer_id"].tolist() == ent["customer_id"].tolist()
    assert got["as_of"].astype(str).tolist() == ent["as_of"].astype(str).tolist()
    for day in AS_OFS:
        snap = pq.read_table(snapshot(fs, bank, day, tmp_path / f"s{day}.parquet").path).to_pandas()
        snap = snap.set_index("customer_id").loc[ids].reset_index()
        part = got[got["as_of"].astype(str) == str(day)].drop_duplicates("customer_id")
        part = part.set_index("customer_id").loc[ids].reset_index()
        pd.testing.assert_frame_equal(
            part.reset_index(drop=True), snap.reset_index(drop=True), check_dtype=False
        )


def test_lineage_records_view_versions_and_inputs(fs: FeatureSet, bank: Path, tmp_path: Path) -> None:
    import json

    res = snapshot(fs, bank, date(2025, 6, 29), tmp_path / "snap.parquet")
    meta = json.loads(pq.read_schema(res.path).metadata[b"cdna.lineage"])
    assert set(meta["views"]) >= {"profile", "transactions", "holdings", "web", "calls", "signals"}
    assert all(len(v) == 12 for v in meta["views"].values())
    assert any("transactions" in i["path"] for i in meta["inputs"])
    assert any(r.startswith("world:") for r in meta["runs"])
    assert json.loads((tmp_path / "snap.parquet.lineage.json").read_text())["views"] == meta["views"]
    # a definition change is a new version
    changed = FeatureSet(fs.config.model_copy(update={"ttl_days": 180}), fs.catalog, fs.intents, fs.memo)
    assert {v.name: v.version for v in changed.views}["transactions"] != meta["views"]["transactions"]
