"""No training/serving skew: one day of the synthetic bank replayed through POST /v1/events leaves every touched
customer's online vector equal to that day's nightly snapshot row (issue 16)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from cdna.cli.app import main
from cdna.core.config import load_config
from cdna.core.lake import Lake
from cdna.features.online import SqliteOnlineStore
from cdna.features.snapshot import snapshot
from cdna.serve.app import create_app
from cdna.serve.keys import KeyStore, keys_path
from tests.serve.conftest import settings_for

pytestmark = pytest.mark.slow
TZ = "Asia/Seoul"


def _day_of(ts: pd.Series) -> pd.Series:
    return pd.to_datetime(ts, utc=True).dt.tz_convert(TZ).dt.date


def _take_day(folder: Path, column: str, day: date) -> pd.DataFrame:
    """Remove the rows of `day` (Korea time) from every Parquet file of `folder`; return them."""
    taken = []
    for f in sorted(folder.rglob("*.parquet")):
        df = pq.read_table(f).to_pandas()
        hit = _day_of(df[column]) == day
        if hit.any():
            taken.append(df[hit])
            table = pq.read_table(f)
            pq.write_table(table.filter(pd.Series(~hit).to_numpy()), f)
    return pd.concat(taken, ignore_index=True) if taken else pd.DataFrame()


def _iso(ts: Any) -> str:
    return pd.Timestamp(ts).tz_convert("UTC").isoformat()


def _none(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def _events(lake: Lake, day: date) -> list[dict[str, Any]]:
    """The day's rows of the raw tables (and the call signals), as events."""
    out: list[dict[str, Any]] = []
    for r in _take_day(lake.raw("transactions"), "ts", day).itertuples(index=False):
        out.append(
            {
                "event_id": r.txn_id,
                "type": "transaction",
                "customer_id": r.customer_id,
                "ts": _iso(r.ts),
                "amount": float(r.amount),
                "direction": r.direction,
                "memo": _none(r.memo),
                "merchant": _none(r.merchant),
                "channel": _none(r.channel),
            }
        )
    for r in _take_day(lake.raw("web_events"), "ts", day).itertuples(index=False):
        out.append(
            {
                "event_id": r.event_id,
                "type": "page_view",
                "customer_id": r.customer_id,
                "ts": _iso(r.ts),
                "channel": r.channel,
                "page_category": r.page_category,
                "session_id": _none(r.session_id),
                "dwell_s": _none(r.dwell_s),
            }
        )
    for r in _take_day(lake.raw("holdings"), "ts", day).itertuples(index=False):
        out.append(
            {
                "event_id": r.event_id,
                "type": f"product_{r.event}",
                "customer_id": r.customer_id,
                "ts": _iso(r.ts),
                "product_id": r.product_id,
                "channel": _none(r.channel),
            }
        )
    calls = _take_day(lake.raw("calls"), "started_at", day)
    schema = pq.read_schema(sorted(lake.signals.rglob("*.parquet"))[0])
    sig = _take_day(lake.signals, "ts", day)
    if sig.empty:  # a small bank may have no signal that day
        sig = pd.DataFrame(columns=schema.names)
    if calls.empty:
        calls = pd.DataFrame(columns=["call_id", "customer_id", "started_at", "duration_s"])
    memo = sig[sig["source"] != "call"]
    if len(memo):  # memo interests are mined by the nightly NLP, not sent as events: they stay in the lake
        (lake.signals / f"date={day}").mkdir(parents=True, exist_ok=True)
        pq.write_table(
            pa.Table.from_pandas(memo, schema=schema, preserve_index=False),
            lake.signals / f"date={day}" / "memo-kept.parquet",
        )
    for r in calls.dropna(subset=["customer_id"]).itertuples(index=False):
        s = sig[(sig["source"] == "call") & (sig["source_id"] == r.call_id)]
        intents = [{"label": x.label, "score": float(x.score)} for x in s[s["kind"] == "intent"].itertuples()]
        complaint = s.loc[s["kind"] == "complaint", "score"]
        out.append(
            {
                "event_id": r.call_id,
                "type": "call",
                "customer_id": r.customer_id,
                "ts": _iso(r.started_at),
                "duration_s": float(r.duration_s),
                "intents": intents,
                "complaint": float(complaint.max()) if len(complaint) else None,
            }
        )
    return sorted(out, key=lambda e: e["ts"])


def _same(a: Any, b: Any) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(a)))
    return str(a) == str(b)


def test_one_replayed_day_equals_the_nightly_snapshot(lake: Lake) -> None:
    store = SqliteOnlineStore(lake.online_features_db)
    day = date.fromisoformat(str(store.info()["as_of"]))
    store.close()
    events = _events(lake, day)
    assert len(events) > 20
    # the online store as the night before left it
    assert (
        main(["features", "materialize", "--lake", str(lake.root), "--as-of", str(day - timedelta(days=1))])
        == 0
    )

    keys = KeyStore(keys_path(lake.root))
    system = {"Authorization": f"Bearer {keys.create('replay', 'system')}"}
    app = create_app(settings_for(lake))
    with TestClient(app) as c:
        app.state.ctx.events.build()
        proc = app.state.ctx.events.processor()
        # the day's vectors were computed ahead: the first event of each customer starts from them
        assert proc is not None and proc.live.primed_day == day
        # several batches: a customer's later events find rows of other tables added since priming
        step = max(1, len(events) // 4)
        for i in range(0, len(events), step):
            r = c.post("/v1/events", json={"events": events[i : i + step]}, headers=system)
            assert r.status_code == 200, r.text
            assert r.json()["applied"] == len(events[i : i + step])

    touched = sorted({e["customer_id"] for e in events})
    from cdna.recommend.runner import feature_set

    fs_snap = snapshot(feature_set(load_config(environ={})), lake.root, day, lake.root / "nightly.parquet")
    snap = pd.read_parquet(fs_snap.path).set_index("customer_id")
    store = SqliteOnlineStore(lake.online_features_db)
    diffs = []
    for cid in touched:
        vec = store.get(cid)
        for col in snap.columns:
            want = snap.at[cid, col]
            want = want.item() if hasattr(want, "item") else want
            if not _same(want, vec.get(col)):
                diffs.append((cid, col, want, vec.get(col)))
    assert not diffs, f"{len(diffs)} differing values over {len(touched)} customers, e.g. {diffs[:5]}"
    assert len(touched) > 15
