"""The access log: an append-only, hash-chained SQLite table under LAKE/audit/audit.db, anchored by signed checkpoints.

Each row's hash is sha256(previous row's hash + the row's canonical JSON), so editing, deleting or
reordering any past row breaks the chain from that row on. A chain alone does not stop its administrator:
deleting the last rows, emptying the table, or rewriting a row and re-hashing everything after it all
leave a chain that verifies (issue #14). So every `checkpoint_every` rows, when the service stops, and
when the log is created, a checkpoint signs (HMAC-SHA256, with a key kept outside the lake) the sequence
number and hash of the newest row and the previous checkpoint's signature. `verify` then fails when a
signed row is missing (tail deleted, log emptied), when a signed hash differs (re-hashed chain), or when
the checkpoints themselves are missing or forged; checkpoints exported to another system (`anchors`)
also catch a log whose checkpoints were deleted with its rows.

Triggers refuse UPDATE and DELETE so that honest mistakes cannot rewrite history either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

from cdna.core.lake import Lake
from cdna.core.secrets import SecretKey
from cdna.serve.sqlite import open_private_db

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditLog",
    "Checkpoint",
    "VerifyResult",
    "audit_path",
    "canonical",
    "checkpoint_mac",
    "row_hash",
]

GENESIS = "0" * 64
_FIELDS = ("seq", "ts", "key_name", "role", "customer_id", "endpoint", "method", "purpose", "status")
_CP_FIELDS = ("n", "seq", "ts", "row_hash", "prev_mac", "key_id", "reason")


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
class Checkpoint:
    """A signed statement "row `seq` of this log had hash `row_hash`".

    Attributes:
        n: checkpoint number (1, 2, … without gaps).
        seq: the newest row when signed (0 for the empty log at creation).
        ts: when it was signed (UTC ISO).
        row_hash: that row's chain hash (GENESIS for seq 0).
        prev_mac: the previous checkpoint's mac (GENESIS for the first), so checkpoints form a chain too.
        key_id: fingerprint of the signing key (tells keys apart, reveals nothing).
        reason: created, adopted, every-N-rows, shutdown or manual.
        mac: HMAC-SHA256 over the other fields' canonical JSON.
    """

    n: int
    seq: int
    ts: str
    row_hash: str
    prev_mac: str
    key_id: str
    reason: str
    mac: str

    def to_dict(self) -> dict[str, Any]:
        """The checkpoint as a JSON-ready dict (the export format for an external system)."""
        return asdict(self)


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of checking the chain and its checkpoints.

    Attributes:
        ok: whether every row and checkpoint checks out.
        rows: rows checked.
        bad_seq: the first row that fails (its `seq`), or None.
        reason: why it fails.
        checkpoints: signed checkpoints checked.
        unanchored: rows after the newest checkpoint (verified by the chain only).
    """

    ok: bool
    rows: int
    bad_seq: int | None = None
    reason: str = ""
    checkpoints: int = 0
    unanchored: int = 0


def audit_path(lake_root: Path) -> Path:
    """Where the audit database of a lake lives."""
    return Lake(Path(lake_root)).audit_db


# One encoder: `json.dumps` with options builds a new encoder per call, a visible part of each audit row.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(row: dict[str, Any]) -> str:
    """The canonical JSON of a row's fields (sorted keys, no spaces, UTF-8)."""
    return _CANONICAL.encode({k: row[k] for k in _FIELDS})


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """sha256(prev_hash + canonical(row)) in hex."""
    return hashlib.sha256((prev_hash + canonical(row)).encode("utf-8")).hexdigest()


def checkpoint_mac(key: SecretKey, cp: dict[str, Any]) -> str:
    """HMAC-SHA256 (hex) of a checkpoint's fields, keyed by the audit key."""
    blob = json.dumps({k: cp[k] for k in _CP_FIELDS}, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key.material, blob, hashlib.sha256).hexdigest()


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
CREATE TABLE IF NOT EXISTS checkpoints (
    n INTEGER PRIMARY KEY, seq INTEGER NOT NULL, ts TEXT NOT NULL, row_hash TEXT NOT NULL,
    prev_mac TEXT NOT NULL, key_id TEXT NOT NULL, reason TEXT NOT NULL, mac TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class AuditLog:
    """Append, checkpoint, verify and export the access log; safe across threads and worker processes.

    Attributes:
        path: the SQLite file (opened read-only with `read_only=True`, for verify and export).
        key: the checkpoint signing key (None: rows are chained but never signed; `verify` then fails).
        checkpoint_every: rows between signed checkpoints.
    """

    def __init__(
        self,
        path: Path,
        key: SecretKey | None = None,
        checkpoint_every: int = 1000,
        busy_timeout_ms: int = 10000,
        read_only: bool = False,
    ) -> None:
        self.path = Path(path)
        self.key = key
        self.checkpoint_every = max(1, int(checkpoint_every))
        self._lock = threading.Lock()
        self._folded_at = monotonic()
        # WAL with synchronous=NORMAL survives process crashes; a power cut may lose the last commits (README).
        # The WAL file is trimmed back to 64 MB after each checkpoint.
        pragmas = (
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 67108864;"
        )
        if read_only:  # verify and export: never write, not even the schema
            if not self.path.is_file():
                raise FileNotFoundError(self.path)
            self._con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._con.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        else:
            self._con = open_private_db(self.path, busy_timeout_ms, pragmas + _SCHEMA)

    # ------------------------------------------------------------------ writing

    def defer_checkpoints(self) -> None:
        """Stop appends from folding the WAL into the database (an fsync that stalls a request for up to
        hundreds of ms on a busy disk); the service calls `fold_wal` from its background poll instead."""
        with self._lock:
            self._con.execute("PRAGMA wal_autocheckpoint = 0")

    def fold_wal(self, min_bytes: int = 8 << 20, max_age_s: float = 60.0) -> None:
        """Fold the WAL into the database from a separate connection (PASSIVE: never blocks appends).

        Only once the WAL holds `min_bytes` or `max_age_s` passed since the last fold: a fold ends with an
        fsync, and folding on every poll (each second under load) stalled the commits lookups wait for
        (issue #16: the slowest lookups).
        """
        now = monotonic()
        try:
            size = os.stat(self.path.with_name(self.path.name + "-wal")).st_size
        except FileNotFoundError:
            return
        if size < min_bytes and now - self._folded_at < max_age_s:
            return
        self._folded_at = now
        con = sqlite3.connect(self.path, isolation_level=None)
        try:
            con.execute("PRAGMA busy_timeout = 1000")
            con.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.OperationalError:
            pass  # busy: the next poll tries again
        finally:
            con.close()

    def sign_if_unsigned(self) -> None:
        """Sign the log's current tail when it has no checkpoint yet ("created" when empty, else "adopted").

        The service calls this when it opens the log. A log emptied together with its checkpoints looks
        new again: only checkpoints exported to another system (`verify(anchors=…)`) reveal that.
        """
        if self.key is None:
            return
        with self._lock:
            con = self._con
            con.execute("BEGIN IMMEDIATE")
            try:
                if con.execute("SELECT count(*) FROM checkpoints").fetchone()[0] == 0:
                    last = con.execute("SELECT seq FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                    self._insert_checkpoint(con, "adopted" if last else "created")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def _insert_checkpoint(self, con: sqlite3.Connection, reason: str) -> Checkpoint:
        assert self.key is not None
        last = con.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        prev = con.execute("SELECT n, mac FROM checkpoints ORDER BY n DESC LIMIT 1").fetchone()
        cp: dict[str, Any] = {
            "n": (prev[0] + 1) if prev else 1,
            "seq": last[0] if last else 0,
            "ts": _now(),
            "row_hash": last[1] if last else GENESIS,
            "prev_mac": prev[1] if prev else GENESIS,
            "key_id": self.key.key_id,
            "reason": reason,
        }
        cp["mac"] = checkpoint_mac(self.key, cp)
        con.execute("INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?, ?, ?, ?)", tuple(cp.values()))
        return Checkpoint(**cp)

    def append(self, entry: AuditEntry, when: datetime | None = None) -> int:
        """Append one entry to the chain; returns its sequence number."""
        return self.append_many([(entry, when)])[0]

    def append_many(
        self,
        items: list[tuple[AuditEntry, datetime | None]]
        | Callable[[], list[tuple[AuditEntry, datetime | None]]],
    ) -> list[int]:
        """Append entries in one transaction (group commit); returns their sequence numbers.

        `items` may be a callable, called once the write lock is held (the writer thread claims its
        entries then). Signs a checkpoint in the same transaction when `checkpoint_every` rows have passed
        since the last one.
        """
        seqs: list[int] = []
        with self._lock:
            con = self._con
            # IMMEDIATE takes the write lock before reading the tail, so two workers never fork the chain.
            con.execute("BEGIN IMMEDIATE")
            try:
                last = con.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (last[0], last[1]) if last else (0, GENESIS)
                values = []
                for entry, when in items() if callable(items) else items:
                    seq += 1
                    ts = (when or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
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
                    h = row_hash(prev, row)
                    values.append((*[row[k] for k in _FIELDS], prev, h))
                    prev = h
                    seqs.append(seq)
                con.executemany("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
                if self.key is not None:
                    signed = con.execute("SELECT max(seq) FROM checkpoints").fetchone()[0] or 0
                    if seq - signed >= self.checkpoint_every:
                        self._insert_checkpoint(con, f"every {self.checkpoint_every} rows")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return seqs

    def checkpoint(self, reason: str = "manual") -> Checkpoint | None:
        """Sign the newest row now (at shutdown, or on demand); None when it is already signed."""
        if self.key is None:
            return None
        with self._lock:
            con = self._con
            con.execute("BEGIN IMMEDIATE")
            try:
                last = con.execute("SELECT max(seq) FROM audit").fetchone()[0] or 0
                signed = con.execute("SELECT max(seq) FROM checkpoints").fetchone()[0]
                cp = self._insert_checkpoint(con, reason) if signed is None or last > signed else None
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return cp

    # ------------------------------------------------------------------ reading

    def _rows(self, where: str = "", args: tuple[Any, ...] = ()) -> Iterator[dict[str, Any]]:
        cols = (*_FIELDS, "prev_hash", "hash")
        with self._lock:
            rows = self._con.execute(
                f"SELECT {', '.join(cols)} FROM audit {where} ORDER BY seq", args
            ).fetchall()
        for r in rows:
            yield dict(zip(cols, r, strict=True))

    def checkpoints(self) -> list[Checkpoint]:
        """Every signed checkpoint, oldest first."""
        with self._lock:
            rows = self._con.execute(
                f"SELECT {', '.join((*_CP_FIELDS, 'mac'))} FROM checkpoints ORDER BY n"
            ).fetchall()
        return [Checkpoint(*r) for r in rows]

    def verify(
        self, key: SecretKey | None = None, anchors: list[dict[str, Any]] | None = None
    ) -> VerifyResult:
        """Check the chain row by row, then every checkpoint's signature and the rows it signs.

        Args:
            key: the audit key (default: the log's own); without one the log cannot be verified.
            anchors: checkpoints exported earlier to another system; each must still be in the log.
        """
        key = key or self.key
        hashes: dict[int, str] = {}
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
            hashes[seq] = row["hash"]
            prev, expected_seq = row["hash"], seq + 1
        if key is None:
            return VerifyResult(False, n, None, "no audit key: the signed checkpoints cannot be checked")
        cps = self.checkpoints()
        if not cps:
            return VerifyResult(
                False,
                n,
                None,
                "the log has no signed checkpoint: it was emptied or replaced (or never signed)",
            )
        prev_mac = GENESIS
        for i, cp in enumerate(cps, start=1):
            where = f"checkpoint {cp.n} (row {cp.seq}, {cp.reason})"
            if cp.n != i:
                return VerifyResult(
                    False, n, None, f"{where}: expected checkpoint {i} here (checkpoints deleted)"
                )
            if cp.key_id != key.key_id:
                return VerifyResult(
                    False, n, None, f"{where}: signed with key {cp.key_id}, not this key ({key.key_id})"
                )
            if not hmac.compare_digest(checkpoint_mac(key, cp.to_dict()), cp.mac):
                return VerifyResult(
                    False, n, None, f"{where}: the signature does not match (forged or edited)"
                )
            if cp.prev_mac != prev_mac:
                return VerifyResult(False, n, None, f"{where}: does not follow checkpoint {i - 1}")
            prev_mac = cp.mac
            if cp.seq == 0:
                continue
            if cp.seq not in hashes:
                return VerifyResult(
                    False,
                    n,
                    cp.seq,
                    f"row {cp.seq} was signed by {where} but is missing: rows were deleted from the end "
                    f"(the log has {n} rows)",
                )
            if hashes[cp.seq] != cp.row_hash:
                return VerifyResult(
                    False,
                    n,
                    cp.seq,
                    f"row {cp.seq}: its hash differs from the one signed by {where} "
                    "(rows edited and the chain re-hashed)",
                )
        by_n = {cp.n: cp for cp in cps}
        for anchor in anchors or []:
            got = by_n.get(int(anchor["n"]))
            if got is None or not hmac.compare_digest(got.mac, str(anchor["mac"])):
                return VerifyResult(
                    False,
                    n,
                    int(anchor.get("seq", 0)) or None,
                    f"exported checkpoint {anchor['n']} (row {anchor.get('seq')}) is "
                    f"{'missing from' if got is None else 'different in'} the log: it was truncated or replaced",
                )
        return VerifyResult(True, n, checkpoints=len(cps), unanchored=n - cps[-1].seq)

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
