"""The audit writer never stalls the service (issue #15 item 4) and lookups still fail closed without their row."""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from cdna.core.lake import Lake
from cdna.core.secrets import SecretKey
from cdna.serve.app import create_app
from cdna.serve.audit import AuditEntry, AuditLog, audit_path
from cdna.serve.audit_writer import WITHHELD_STATUS, AuditWriter
from tests.serve.conftest import Keys, settings_for
from tests.serve.live import live_server

KEY = SecretKey(bytes(range(32)), "test")
PROFILE = "/v1/customers/C0000002/profile"

_LOCKER = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.execute("ROLLBACK")
"""


def _lock(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the audit database's write lock for `seconds`."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _LOCKER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def _entry(i: int) -> AuditEntry:
    return AuditEntry("k", "staff", f"C{i:07d}", "/v1/customers/{id}/profile", "GET", "counseling", 200)


def test_writer_group_commits_and_resolves_each_future(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.db", KEY, checkpoint_every=50)
    writer = AuditWriter(log, capacity=1000)
    tickets = [writer.submit(_entry(i)) for i in range(120)]  # queued before the thread starts: batched
    writer.start()
    assert sorted(t.future.result(timeout=10) for t in tickets) == list(range(1, 121))
    writer.close()
    # One transaction took all 120 rows (one checkpoint for them), and the shutdown had nothing left to sign.
    assert log.verify().ok and [(c.seq, c.reason) for c in log.checkpoints()] == [(120, "every 50 rows")]


def test_a_caller_that_gave_up_is_recorded_as_withheld(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    log = AuditLog(path, KEY, busy_timeout_ms=50)
    log.sign_if_unsigned()
    writer = AuditWriter(log, capacity=10)
    writer.start()
    locker = _lock(path, 1.5)
    try:
        waited, gave_up = writer.submit(_entry(1)), writer.submit(_entry(2))
        time.sleep(0.3)
        assert writer.backlog()["backlog"] == 2 and writer.backlog()["last_error"]
        assert gave_up.future.cancel()  # the request timed out: it answered 503
        assert waited.future.result(timeout=10) >= 1
    finally:
        locker.wait()
    writer.close()
    rows = AuditLog(path, read_only=True).export(date(2000, 1, 1), date(2100, 1, 1))
    assert {r["customer_id"]: r["status"] for r in rows} == {"C0000001": 200, "C0000002": WITHHELD_STATUS}
    assert writer.backlog()["backlog"] == 0


def test_a_full_queue_refuses_instead_of_blocking(lake: Lake, keys: Keys) -> None:
    app = create_app(settings_for(lake, audit_queue=1, audit_timeout_s=0.3))
    path = audit_path(lake.root)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get(PROFILE, headers=keys.h()).status_code == 200
        locker = _lock(path, 2.0)
        try:
            codes = [client.get(PROFILE, headers=keys.h()).status_code for _ in range(3)]
        finally:
            locker.wait()
        assert codes == [503, 503, 503]
        time.sleep(0.5)  # the writer catches up once the lock is gone
    # The warm-up, then the two lookups that waited (in flight and queued) as withheld; the third found the
    # queue full and was refused without waiting, so it never reached the log.
    rows = AuditLog(path, read_only=True).export(date(2000, 1, 1), date(2100, 1, 1))
    assert [r["status"] for r in rows] == [200, WITHHELD_STATUS, WITHHELD_STATUS]


def test_lookup_fails_closed_naming_the_audit_store_then_recovers(lake: Lake, keys: Keys) -> None:
    app = create_app(settings_for(lake, audit_timeout_s=0.5))
    path = audit_path(lake.root)
    with TestClient(app, raise_server_exceptions=False) as client:
        locker = _lock(path, 5.0)  # long enough for a loaded machine to ask /readyz while it holds
        try:
            r = client.get(PROFILE, headers=keys.h())
            ready = client.get("/readyz").json()
        finally:
            locker.wait()
        assert r.status_code == 503 and r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert body["type"] == "/problems/audit-unavailable" and "audit store" in body["detail"]
        assert "audit/audit.db" in body["detail"] and "C0000002" not in r.text  # no data leaves
        assert ready["audit"]["backlog"] >= 1 and "locked" in ready["audit"]["last_error"]
        assert client.get(PROFILE, headers=keys.h()).status_code == 200
    rows = AuditLog(path, read_only=True).export(date(2000, 1, 1), date(2100, 1, 1))
    assert [r["status"] for r in rows] == [WITHHELD_STATUS, 200]  # the withheld answer is on record too


@pytest.mark.slow
def test_healthz_answers_at_once_while_the_audit_db_is_locked_for_15_s(lake: Lake, keys: Keys) -> None:
    app = create_app(settings_for(lake, audit_timeout_s=2.0))
    path = audit_path(lake.root)
    with live_server(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        assert http.get(PROFILE, headers=keys.h()).status_code == 200
        locker = _lock(path, 15.0)
        lookups: list[httpx.Response] = []

        def lookup() -> None:
            with httpx.Client(base_url=base, timeout=30) as c:
                lookups.append(c.get(PROFILE, headers=keys.h()))

        threads = [threading.Thread(target=lookup) for _ in range(4)]
        for t in threads:
            t.start()
        seconds: list[float] = []
        while locker.poll() is None:
            t0 = time.perf_counter()
            assert http.get("/healthz").status_code == 200
            seconds.append(time.perf_counter() - t0)
            time.sleep(0.05)
        for t in threads:
            t.join()
        # The rows that waited are written once the writer's next retry finds the lock gone.
        deadline = time.monotonic() + 10
        backlog = http.get("/readyz").json()["audit"]
        while backlog["backlog"] and time.monotonic() < deadline:
            time.sleep(0.2)
            backlog = http.get("/readyz").json()["audit"]
        after = http.get(PROFILE, headers=keys.h())
    # Before issue #15 every /healthz waited out the 10 s busy timeout while the lock was held.
    print(
        f"/healthz under a 15 s audit lock: n={len(seconds)} median {statistics.median(seconds) * 1000:.1f} ms, "
        f"p95 {sorted(seconds)[int(len(seconds) * 0.95)] * 1000:.1f} ms, max {max(seconds) * 1000:.1f} ms"
    )
    assert len(seconds) > 100
    assert sorted(seconds)[int(len(seconds) * 0.95)] < 0.05 and max(seconds) < 1.0
    assert [r.status_code for r in lookups] == [503] * 4
    assert all(r.json()["type"] == "/problems/audit-unavailable" for r in lookups)
    assert after.status_code == 200 and backlog["backlog"] == 0
