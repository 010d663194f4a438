"""Key store, hash-chained audit log and token buckets, on their own."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cdna.core.errors import ConfigError
from cdna.core.secrets import SecretKey
from cdna.serve.audit import GENESIS, AuditEntry, AuditLog, row_hash
from cdna.serve.keys import KeyError_, KeyStore, role_allows
from cdna.serve.ratelimit import RateLimiter


def test_keys_are_stored_hashed_and_revocable(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.db")
    key = store.create("branch-01", "staff")
    assert key.startswith("cdna_") and len(key) > 40
    assert key.encode() not in (tmp_path / "keys.db").read_bytes()
    assert (tmp_path / "keys.db").stat().st_mode & 0o777 == 0o600
    rec = store.verify(key)
    assert rec is not None and (rec.name, rec.role) == ("branch-01", "staff")
    assert store.verify(key + "x") is None
    with pytest.raises(KeyError_, match="already exists"):
        store.create("branch-01", "ml")
    store.revoke("branch-01")
    assert store.verify(key) is None
    again = store.create("branch-01", "ml")  # a revoked name can be issued again, with a new key
    assert store.verify(again).role == "ml"  # type: ignore[union-attr]
    assert [r.revoked_at is not None for r in store.list()] == [True, False]
    with pytest.raises(KeyError_):
        store.revoke("nobody")
    with pytest.raises(ConfigError):
        store.create("x", "root")
    with pytest.raises(KeyError_):
        store.create("bad name!", "staff")


def test_role_order() -> None:
    assert role_allows("admin", "ml") and role_allows("ml", "staff") and role_allows("staff", "staff")
    assert not role_allows("staff", "ml") and not role_allows("ml", "admin")


KEY = SecretKey(bytes(range(32)), "test")


def _entry(i: int, purpose: str | None = "상담") -> AuditEntry:
    return AuditEntry("staff-kim", "staff", f"C{i:07d}", "/v1/customers/{id}/profile", "GET", purpose, 200)


def test_audit_chain_verifies_and_names_the_edited_row(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    log = AuditLog(path, KEY)
    log.sign_if_unsigned()
    for i in range(1, 8):
        assert log.append(_entry(i)) == i
    assert log.verify().ok and log.verify().rows == 7
    rows = log.export(date(2000, 1, 1), date(2100, 1, 1))
    assert rows[0]["prev_hash"] == GENESIS and rows[0]["hash"] == row_hash(GENESIS, rows[0])
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(rows, rows[1:], strict=False))

    con = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE audit SET customer_id = 'C0000099' WHERE seq = 3")
    # A tamperer with file access drops the guard and edits row 3: the chain still gives it away.
    con.execute("DROP TRIGGER audit_no_update")
    con.execute("UPDATE audit SET customer_id = 'C0000099' WHERE seq = 3")
    con.commit()
    res = AuditLog(path, KEY, read_only=True).verify()
    assert not res.ok and res.bad_seq == 3 and "row 3" in res.reason


def test_audit_detects_deleted_rows(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    log = AuditLog(path, KEY)
    log.sign_if_unsigned()
    for i in range(1, 6):
        log.append(_entry(i))
    con = sqlite3.connect(path)
    con.execute("DROP TRIGGER audit_no_delete")
    con.execute("DELETE FROM audit WHERE seq = 2")
    con.commit()
    res = AuditLog(path, KEY, read_only=True).verify()
    assert not res.ok and res.bad_seq == 3


def test_audit_export_uses_korean_calendar_days(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.db")
    # 2025-06-30 23:30 UTC is already 2025-07-01 08:30 in Seoul.
    log.append(_entry(1), when=datetime(2025, 6, 30, 14, 0, tzinfo=UTC))
    log.append(_entry(2), when=datetime(2025, 6, 30, 23, 30, tzinfo=UTC))
    log.append(_entry(3), when=datetime(2025, 7, 2, 1, 0, tzinfo=UTC))
    assert [r["customer_id"] for r in log.export(date(2025, 6, 30), date(2025, 6, 30))] == ["C0000001"]
    assert [r["customer_id"] for r in log.export(date(2025, 7, 1), date(2025, 7, 2))] == [
        "C0000002",
        "C0000003",
    ]


def test_token_bucket_limits_and_refills() -> None:
    now = [100.0]
    lim = RateLimiter(per_minute=60, burst=3, clock=lambda: now[0])
    assert [lim.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = lim.take("a")
    assert wait == pytest.approx(1.0)
    assert lim.retry_after(wait) == "1"
    assert lim.take("b") == 0.0  # buckets are per key
    now[0] += 2.0
    assert lim.take("a") == 0.0 and lim.take("a") == 0.0
    assert lim.take("a") > 0


def _append_many(path: str, who: str, n: int) -> None:
    log = AuditLog(Path(path), KEY, checkpoint_every=40)
    for i in range(n):
        log.append(AuditEntry(who, "staff", f"C{i:07d}", "/v1/customers/{id}/profile", "GET", None, 200))


def test_two_worker_processes_never_fork_the_chain(tmp_path: Path) -> None:
    import multiprocessing as mp

    path = tmp_path / "audit.db"
    AuditLog(path, KEY).sign_if_unsigned()  # create the schema and the first checkpoint once
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(path), f"w{j}", 150)) for j in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    res = AuditLog(path, KEY, read_only=True).verify()
    assert res.ok and res.rows == 300 and res.checkpoints >= 7  # checkpoints from both workers chain too


def test_settings_travel_to_worker_processes_unchanged(tmp_path: Path) -> None:
    from cdna.core.config import load_config
    from cdna.serve.settings import ENV_SETTINGS, ServeSettings

    s = ServeSettings.from_config(load_config(environ={}).serve, tmp_path, port=9999, workers=None)
    assert s.port == 9999 and s.workers == 1 and s.rate_limit_burst == 100
    assert ServeSettings.from_env({ENV_SETTINGS: s.to_env()}) == s
    assert s.retrain_argv()[-1] == str(tmp_path) and "recommend" in s.rescore_argv()
    with pytest.raises(ConfigError, match="cdna serve"):
        ServeSettings.from_env({})
