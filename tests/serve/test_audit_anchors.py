"""The audit log resists its own administrator (issue #14 item 4): every tampering is caught by `verify`."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from cdna.core.secrets import KeyMissingError, SecretKey, create_key_file, load_key
from cdna.serve.audit import GENESIS, AuditEntry, AuditLog, row_hash

KEY = SecretKey(bytes(range(32)), "test")
OTHER = SecretKey(bytes(range(1, 33)), "attacker")


def _entry(i: int, status: int = 200) -> AuditEntry:
    return AuditEntry(
        "staff-kim", "staff", f"C{i:07d}", "/v1/customers/{id}/profile", "GET", "counseling", status
    )


def _signed_log(path: Path, rows: int = 12, every: int = 5) -> AuditLog:
    """A log as a service leaves it: rows, a checkpoint every `every` rows and one at shutdown."""
    log = AuditLog(path, KEY, checkpoint_every=every)
    log.sign_if_unsigned()
    for i in range(1, rows + 1):
        log.append(_entry(i))
    log.checkpoint("shutdown")
    return log


def _admin(path: Path) -> sqlite3.Connection:
    """The administrator's own connection, with the append-only triggers dropped."""
    con = sqlite3.connect(path, isolation_level=None)
    for trigger in ("audit_no_update", "audit_no_delete", "checkpoints_no_update", "checkpoints_no_delete"):
        con.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    return con


def _rehash_from(con: sqlite3.Connection, seq: int) -> None:
    cols = ("seq", "ts", "key_name", "role", "customer_id", "endpoint", "method", "purpose", "status")
    prev = con.execute("SELECT hash FROM audit WHERE seq = ?", (seq - 1,)).fetchone()
    prev_hash = prev[0] if prev else GENESIS
    for r in con.execute(
        f"SELECT {', '.join(cols)} FROM audit WHERE seq >= ? ORDER BY seq", (seq,)
    ).fetchall():
        row = dict(zip(cols, r, strict=True))
        h = row_hash(prev_hash, row)
        con.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev_hash, h, row["seq"]))
        prev_hash = h


def test_an_untouched_log_verifies_with_its_checkpoints(tmp_path: Path) -> None:
    log = _signed_log(tmp_path / "audit.db")
    cps = log.checkpoints()
    assert [(c.n, c.seq, c.reason) for c in cps] == [
        (1, 0, "created"),
        (2, 5, "every 5 rows"),
        (3, 10, "every 5 rows"),
        (4, 12, "shutdown"),
    ]
    res = log.verify()
    assert res.ok and res.rows == 12 and res.checkpoints == 4 and res.unanchored == 0
    assert log.checkpoint("shutdown") is None  # the tail is already signed


def test_edited_row_fails(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    _signed_log(path).close()
    _admin(path).execute("UPDATE audit SET customer_id = 'C0000099' WHERE seq = 3")
    res = AuditLog(path, KEY, read_only=True).verify()
    assert not res.ok and res.bad_seq == 3 and "edited" in res.reason


def test_deleted_middle_row_fails(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    _signed_log(path).close()
    _admin(path).execute("DELETE FROM audit WHERE seq = 6")
    res = AuditLog(path, KEY, read_only=True).verify()
    assert not res.ok and res.bad_seq == 7 and "deleted" in res.reason


def test_deleted_tail_fails(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    _signed_log(path).close()
    _admin(path).execute("DELETE FROM audit WHERE seq >= 11")
    res = AuditLog(path, KEY, read_only=True).verify()
    assert not res.ok and res.bad_seq == 12 and "deleted from the end" in res.reason


def test_emptied_log_fails_with_or_without_its_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    _signed_log(path).close()
    con = _admin(path)
    con.execute("DELETE FROM audit")
    res = AuditLog(path, KEY, read_only=True).verify()
    assert not res.ok and res.rows == 0 and "missing" in res.reason
    con.execute("DELETE FROM checkpoints")
    res = AuditLog(path, KEY, read_only=True).verify()
    assert not res.ok and "no signed checkpoint" in res.reason


def test_swapped_rows_fail(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    _signed_log(path).close()
    con = _admin(path)
    cols = "ts, key_name, role, customer_id, endpoint, method, purpose, status, prev_hash, hash"
    r4 = con.execute(f"SELECT {cols} FROM audit WHERE seq = 4").fetchone()
    r5 = con.execute(f"SELECT {cols} FROM audit WHERE seq = 5").fetchone()
    sets = ", ".join(f"{c.strip()} = ?" for c in cols.split(","))
    con.execute(f"UPDATE audit SET {sets} WHERE seq = 4", r5)
    con.execute(f"UPDATE audit SET {sets} WHERE seq = 5", r4)
    res = AuditLog(path, KEY, read_only=True).verify()
    assert not res.ok and res.bad_seq == 4


@pytest.mark.parametrize(("edited", "signed_at"), [(11, 12), (3, 5)])
def test_rehashed_chain_fails_at_the_next_checkpoint(tmp_path: Path, edited: int, signed_at: int) -> None:
    path = tmp_path / "audit.db"
    _signed_log(path).close()
    con = _admin(path)
    con.execute("UPDATE audit SET customer_id = 'C0000099', status = 404 WHERE seq = ?", (edited,))
    _rehash_from(con, edited)
    log = AuditLog(path, KEY, read_only=True)
    assert log.verify(KEY).ok is False
    res = log.verify()
    assert res.bad_seq == signed_at and "re-hashed" in res.reason


def test_forged_or_foreign_checkpoints_fail(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    _signed_log(path).close()
    res = AuditLog(path, read_only=True).verify(OTHER)
    assert not res.ok and "not this key" in res.reason
    con = _admin(path)
    con.execute("UPDATE checkpoints SET seq = 11 WHERE n = 4")
    res = AuditLog(path, KEY, read_only=True).verify()
    assert not res.ok and "signature does not match" in res.reason
    assert not AuditLog(path, read_only=True).verify(None).ok  # without the key nothing is vouched for


def test_exported_checkpoints_catch_a_truncation_that_removed_them_too(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    log = _signed_log(path)
    anchors = [c.to_dict() for c in log.checkpoints()]
    log.close()
    con = _admin(path)
    con.execute("DELETE FROM audit WHERE seq >= 11")
    con.execute("DELETE FROM checkpoints WHERE n = 4")
    log = AuditLog(path, KEY, read_only=True)
    assert log.verify().ok  # the log alone cannot tell: a valid prefix …
    res = log.verify(anchors=json.loads(json.dumps(anchors)))
    assert not res.ok and "exported checkpoint 4" in res.reason  # … but the external copy can


def test_key_outside_the_lake_only_and_private(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    with pytest.raises(KeyMissingError, match="inside the lake"):
        create_key_file(lake / "audit.key", lake)
    key = create_key_file(tmp_path / "keys" / "audit.key", lake)
    assert stat.S_IMODE((tmp_path / "keys" / "audit.key").stat().st_mode) == 0o600
    assert load_key("audit", tmp_path / "keys" / "audit.key", None, lake, environ={}) == key
    shutil.copy(tmp_path / "keys" / "audit.key", lake / "copy.key")
    (lake / "copy.key").chmod(0o600)
    with pytest.raises(KeyMissingError, match="inside the lake"):
        load_key("audit", lake / "copy.key", None, lake, environ={})
    (tmp_path / "keys" / "audit.key").chmod(0o644)
    with pytest.raises(KeyMissingError, match="readable by other users"):
        load_key("audit", tmp_path / "keys" / "audit.key", None, lake, environ={})
    assert load_key("audit", None, "K", lake, environ={"K": "ab" * 32}).material == bytes([0xAB] * 32)
    with pytest.raises(KeyMissingError, match="at least"):
        load_key("audit", None, "K", lake, environ={"K": "short"})
    assert "material" not in repr(key) and key.material.hex() not in repr(key)


def test_audit_files_are_private_wal_and_shm_included(tmp_path: Path) -> None:
    path = tmp_path / "lake" / "audit" / "audit.db"
    log = _signed_log(path)
    side = [path, path.with_name("audit.db-wal"), path.with_name("audit.db-shm")]
    assert all(p.exists() for p in side)
    assert {stat.S_IMODE(p.stat().st_mode) for p in side} == {0o600}
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    log.close()


def _as_nobody(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["su", "nobody", "-s", "/bin/sh", "-c", command], capture_output=True, text=True, check=False
    )


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("su") is None, reason="needs root to act as another user"
)
def test_another_user_reads_nothing_of_the_audit_or_the_transcripts() -> None:
    import tempfile

    from cdna.ingest.world.generator import synthetic_bank

    # Under /tmp itself: pytest's own temporary root is owner-only, which would hide everything anyway.
    top = Path(tempfile.mkdtemp(prefix="cdna-nobody-", dir="/tmp"))
    try:
        top.chmod(0o755)
        lake = synthetic_bank(top / "lake", customers=40, seed=3)
        lake.root.chmod(0o755)
        log = _signed_log(lake.audit_db)  # the WAL and SHM stay while the log is open
        control = lake.root / "README.txt"
        control.write_text("readable\n")
        control.chmod(0o644)
        assert _as_nobody(f"cat '{control}'").stdout == "readable\n"  # the check can see what is readable
        private = [p for area in (lake.audit, lake.transcripts) for p in area.rglob("*") if p.is_file()]
        assert lake.audit_db.with_name("audit.db-wal") in private
        assert any(p.suffix == ".parquet" for p in private)
        for p in private:
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
            proc = _as_nobody(f"cat '{p}' > /dev/null")
            assert proc.returncode != 0 and "Permission denied" in proc.stderr, p
        for area in (lake.audit, lake.transcripts):
            assert _as_nobody(f"ls '{area}'").returncode != 0
        log.close()
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _tamper_edit(con: sqlite3.Connection) -> None:
    con.execute("UPDATE audit SET customer_id = 'C0000099' WHERE seq = 3")


def _tamper_delete_middle(con: sqlite3.Connection) -> None:
    con.execute("DELETE FROM audit WHERE seq = 6")


def _tamper_delete_tail(con: sqlite3.Connection) -> None:
    con.execute("DELETE FROM audit WHERE seq >= 11")


def _tamper_empty(con: sqlite3.Connection) -> None:
    con.execute("DELETE FROM audit")
    con.execute("DELETE FROM checkpoints")


def _tamper_swap(con: sqlite3.Connection) -> None:
    a = con.execute("SELECT customer_id FROM audit WHERE seq = 4").fetchone()[0]
    b = con.execute("SELECT customer_id FROM audit WHERE seq = 5").fetchone()[0]
    con.execute("UPDATE audit SET customer_id = ? WHERE seq = 4", (b,))
    con.execute("UPDATE audit SET customer_id = ? WHERE seq = 5", (a,))


def _tamper_rehash(con: sqlite3.Connection) -> None:
    con.execute("UPDATE audit SET status = 404 WHERE seq = 8")
    _rehash_from(con, 8)


@pytest.mark.parametrize(
    "tamper",
    [_tamper_edit, _tamper_delete_middle, _tamper_delete_tail, _tamper_empty, _tamper_swap, _tamper_rehash],
)
def test_cdna_audit_verify_exits_1_on_each_tampering(
    tmp_path: Path, tamper: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from cdna.cli.app import main
    from cdna.core.lake import Lake

    lake = Lake.at(tmp_path / "lake", create=True)
    key_file = tmp_path / "audit.key"
    key_file.write_text(KEY.material.hex())
    key_file.chmod(0o600)
    log = AuditLog(lake.audit_db, load_key("audit", key_file, None, lake.root), checkpoint_every=5)
    log.sign_if_unsigned()
    for i in range(1, 13):
        log.append(_entry(i))
    log.checkpoint("shutdown")
    log.close()
    args = ["audit", "verify", "--lake", str(lake.root), "--key-file", str(key_file)]
    assert main(args) == 0
    capsys.readouterr()
    tamper(_admin(lake.audit_db))  # type: ignore[operator]
    assert main(args) == 1
    assert "fails verification" in capsys.readouterr().err
