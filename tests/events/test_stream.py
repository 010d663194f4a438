"""`cdna stream` killed with SIGKILL mid-stream and restarted: every event applied exactly once in effect."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date

import pandas as pd
import pytest

from cdna.core.config import load_config
from cdna.core.lake import Lake
from cdna.features.online import SqliteOnlineStore
from cdna.features.snapshot import snapshot

pytestmark = pytest.mark.slow

DAY = date(2025, 7, 1)


def _ledger_count(lake: Lake) -> int:
    if not lake.events_ledger.exists():
        return 0
    con = sqlite3.connect(lake.events_ledger)
    try:
        return int(con.execute("SELECT count(*) FROM seen").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def _lake_rows(lake: Lake) -> int:
    """Page-view rows the consumer appended under LAKE/events/ (a killed batch's rows stay, once)."""
    import pyarrow.parquet as pq

    n = 0
    for f in lake.events.glob("date=*/web_events/*.parquet"):
        try:
            n += pq.read_metadata(f).num_rows
        except OSError:
            continue
    return n


def _stream(lake: Lake, url: str, *extra: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "cdna", "stream", "--source", url, "--lake", str(lake.root)]
    cmd += ["--consumer", "worker-1", "--batch", "20", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ})


def test_sigkill_mid_stream_and_restart_applies_every_event_once(lake: Lake, redis_url: str) -> None:
    import redis

    from cdna.recommend.runner import feature_set

    fs = feature_set(load_config(environ={}))
    customers = [f"C{i:07d}" for i in range(1, 31)]
    base = pd.read_parquet(snapshot(fs, lake.root, DAY, lake.root / "base.parquet").path).set_index(
        "customer_id"
    )
    r = redis.Redis.from_url(redis_url)
    n = 0
    for j in range(10):
        for cid in customers:
            ev = {
                "event_id": f"WEB-{cid}-{j}",
                "type": "page_view",
                "customer_id": cid,
                "ts": f"2025-07-01T{9 + j:02d}:{n % 60:02d}:00+09:00",
                "channel": "app",
                "page_category": "전세대출",
            }
            r.xadd("cdna:events", {"event": json.dumps(ev, ensure_ascii=False)})
            n += 1
    assert n == 300

    first = _stream(lake, redis_url)
    deadline = time.monotonic() + 240
    # kill it mid-batch: a batch's rows are in the lake but its ids are not in the ledger yet
    while not (_ledger_count(lake) >= 40 and _lake_rows(lake) > _ledger_count(lake)):
        assert first.poll() is None, first.stdout.read().decode() if first.stdout else ""
        assert time.monotonic() < deadline, "the consumer applied nothing in time"
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    killed_at = _ledger_count(lake)
    assert 40 <= killed_at < 300 and _lake_rows(lake) > killed_at

    second = _stream(lake, redis_url, "--exit-when-idle")
    out, _ = second.communicate(timeout=600)
    assert second.returncode == 0, out.decode()
    assert _ledger_count(lake) == 300
    assert r.xpending("cdna:events", "cdna")["pending"] == 0

    # exactly once in effect: each customer's online page-view count grew by its 10 events, no more, no less,
    # and equals the nightly snapshot of that day over the lake's rows (events/ included)
    store = SqliteOnlineStore(lake.online_features_db)
    after = pd.read_parquet(snapshot(fs, lake.root, DAY, lake.root / "after.parquet").path).set_index(
        "customer_id"
    )
    for cid in customers:
        vec = store.get(cid)
        assert vec["as_of"] == str(DAY)
        assert vec["web_visits_30d"] == base.at[cid, "web_visits_30d"] + 10, cid
        assert vec["web_visits_30d"] == after.at[cid, "web_visits_30d"], cid
        assert abs(vec["web_jeonse_loan_decay"] - after.at[cid, "web_jeonse_loan_decay"]) < 1e-5, cid
