"""The access log: an append-only, hash-chained SQLite table under LAKE/audit/audit.db.

Each row's hash is sha256(previous row's hash + the row's canonical JSON), so editing, deleting or
reordering any past row breaks the chain from that row on; `verify` names the first row that fails.
Triggers refuse UPDATE and DELETE so that honest mistakes cannot rewrite history either.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cdna.serve.sqlite import open_private_db

__all__ = ["GENESIS", "AuditEntry", "AuditLog", "VerifyResult", "audit_path", "canonical", "row_hash"]

GENESIS = "0" * 64
_FIELDS = ("seq", "ts", "key_name", "role", "customer_id", "endpoint", "method", "purpose", "status")


@dataclass(frozen=True)
class AuditEntry:
    """One access to a customer's data.

    Attributes:
        key_name: the API key's name (who looked).
        role: the key's role.
        customer_id: whom they looked at (as requested, truncated to 64 characters).
        endpoint: the route, e.g. /v1/customers/{id}/recommendations.
        method: the HTTP method.
        purpose: the X-Purpose header, if given (truncated to 200 characters).
        status: the HTTP status of the answer.
    """

    key_name: str
    role: str
    customer_id: str
    endpoint: str
    method: str
    purpose: str | None
    status: int


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of checking the chain.

    Attributes:
        ok: whether every row checks out.
        rows: rows checked.
        bad_seq: the first row that fails (its `seq`), or None.
        reason: why that row fails.
    """

    ok: bool
    rows: int
    bad_seq: int | None = None
    reason: str = ""


def audit_path(lake_root: Path) -> Path:
    """Where the audit database of a lake lives."""
    return Path(lake_root) / "audit" / "audit.db"


def canonical(row: dict[str, Any]) -> str:
    """The canonical JSON of a row's fields (sorted keys, no spaces, UTF-8)."""
    return json.dumps({k: row[k] for k in _FIELDS}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """sha256(prev_hash + canonical(row)) in hex."""
    return hashlib.sha256((prev_hash + canonical(row)).encode("utf-8")).hexdigest()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, key_name TEXT NOT NULL, role TEXT NOT NULL,
    customer_id TEXT NOT NULL, endpoint TEXT NOT NULL, method TEXT NOT NULL, purpose TEXT,
    status INTEGER NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


class AuditLog:
    """Append, verify and export the access log; safe across threads and worker processes.

    Attributes:
        path: the SQLite file.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        # WAL with synchronous=NORMAL survives process crashes; a power cut may lose the last commits (README).
        # The WAL file is trimmed back to 64 MB after each checkpoint.
        pragmas = (
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 67108864;"
        )
        self._con = open_private_db(self.path, 10000, pragmas + _SCHEMA)

    def defer_checkpoints(self) -> None:
        """Stop appends from folding the WAL into the database (an fsync that stalls a request for up to
        hundreds of ms on a busy disk); the service calls `checkpoint` from its background poll instead."""
        with self._lock:
            self._con.execute("PRAGMA wal_autocheckpoint = 0")

    def checkpoint(self) -> None:
        """Fold the WAL into the database from a separate connection (PASSIVE: never blocks appends)."""
        con = sqlite3.connect(self.path, isolation_level=None)
        try:
            con.execute("PRAGMA busy_timeout = 1000")
            con.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.OperationalError:
            pass  # busy: the next poll tries again
        finally:
            con.close()

    def append(self, entry: AuditEntry, when: datetime | None = None) -> int:
        """Append one entry to the chain; returns its sequence number."""
        ts = (when or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
        with self._lock:
            con = self._con
            # IMMEDIATE takes the write lock before reading the tail, so two workers never fork the chain.
            con.execute("BEGIN IMMEDIATE")
            try:
                last = con.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
                row = {
                    "seq": seq,
                    "ts": ts,
                    "key_name": entry.key_name,
                    "role": entry.role,
                    "customer_id": entry.customer_id[:64],
                    "endpoint": entry.endpoint,
                    "method": entry.method,
                    "purpose": entry.purpose[:200] if entry.purpose else None,
                    "status": int(entry.status),
                }
                con.execute(
                    "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*[row[k] for k in _FIELDS], prev, row_hash(prev, row)),
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return seq

    def _rows(self, where: str = "", args: tuple[Any, ...] = ()) -> Iterator[dict[str, Any]]:
        cols = (*_FIELDS, "prev_hash", "hash")
        with self._lock:
            rows = self._con.execute(
                f"SELECT {', '.join(cols)} FROM audit {where} ORDER BY seq", args
            ).fetchall()
        for r in rows:
            yield dict(zip(cols, r, strict=True))

    def verify(self) -> VerifyResult:
        """Recompute the chain from the first row; the result names the first row that does not fit."""
        prev, expected_seq, n = GENESIS, 1, 0
        for row in self._rows():
            n += 1
            seq = row["seq"]
            if seq != expected_seq:
                return VerifyResult(
                    False, n, seq, f"row {seq}: expected row {expected_seq} here (rows deleted?)"
                )
            if row["prev_hash"] != prev:
                return VerifyResult(
                    False, n, seq, f"row {seq}: prev_hash does not match row {seq - 1}'s hash"
                )
            if row_hash(prev, row) != row["hash"]:
                return VerifyResult(False, n, seq, f"row {seq}: content does not match its hash (row edited)")
            prev, expected_seq = row["hash"], seq + 1
        return VerifyResult(True, n)

    def export(self, start: date, end: date, tz: str = "Asia/Seoul") -> list[dict[str, Any]]:
        """Rows of the calendar days start..end (inclusive, in `tz`), with their hashes."""
        zone = ZoneInfo(tz)
        lo = datetime.combine(start, time.min, zone).astimezone(UTC).isoformat(timespec="microseconds")
        hi = datetime.combine(end + timedelta(days=1), time.min, zone).astimezone(UTC)
        return list(self._rows("WHERE ts >= ? AND ts < ?", (lo, hi.isoformat(timespec="microseconds"))))

    def count(self) -> int:
        """Rows in the log."""
        with self._lock:
            return int(self._con.execute("SELECT count(*) FROM audit").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        self._con.close()
