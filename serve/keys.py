"""API keys: random bearer tokens stored only as SHA-256 hashes in LAKE/serve/keys.db, with a role each.

Keys carry 256 random bits, so a fast hash is enough (no password stretching needed): a stolen database
reveals neither the keys nor a way to guess them.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cdna.core.errors import CdnaError, ConfigError
from cdna.core.lake import Lake
from cdna.serve.sqlite import open_private_db

__all__ = ["ROLES", "KeyError_", "KeyRecord", "KeyStore", "hash_key", "keys_path", "role_allows"]

ROLES = ("staff", "ml", "admin", "system")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_PREFIX = "cdna_"


class KeyError_(CdnaError):  # noqa: N801 - `KeyError` is a builtin
    """A key name that is malformed, taken, or unknown."""

    exit_code = 2


@dataclass(frozen=True)
class KeyRecord:
    """One issued key (never the key itself).

    Attributes:
        name: who or what holds the key (unique among active keys).
        role: staff, ml, admin or system (event producers).
        created_at: UTC ISO time of issue.
        revoked_at: UTC ISO time of revocation, or None while active.
        prefix: the first characters of the key, to tell keys apart in listings.
    """

    name: str
    role: str
    created_at: str
    revoked_at: str | None = None
    prefix: str = ""


def keys_path(lake_root: Path) -> Path:
    """Where the key database of a lake lives."""
    return Lake(Path(lake_root)).keys_db


def hash_key(key: str) -> str:
    """Hex SHA-256 of a key (what the database stores)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def role_allows(have: str, need: str) -> bool:
    """Whether role `have` may do what needs role `need` (staff < ml < admin; `system` apart).

    `system` is the key of a machine that sends events (call center, web logs, core banking): it may post
    events and nothing else, and reads no customer (issue #16); admin may do both.
    """
    if need == "system" or have == "system":
        return have == need or (need == "system" and have == "admin")
    return ROLES.index(have) >= ROLES.index(need)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class KeyStore:
    """The key database: `create`, `revoke`, `verify`, `list`.

    Attributes:
        path: the SQLite file.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        # hash -> active record (or None): a lookup's key check without a query (issue #16: the query was
        # the largest part of a lookup). Any process's commit (`cdna keys revoke`, another worker) bumps
        # the file change counter in the database header — a rollback journal writes the file itself —
        # and this store's own writes clear the cache too, so a revoked key is refused on its next request.
        self._cache: dict[str, KeyRecord | None] = {}
        self._version: tuple[int, bytes] | None = None
        self._header: tuple[int, int] | None = None  # (inode, fd) of the file whose counter is read
        self._con = open_private_db(
            self.path,
            5000,
            "PRAGMA journal_mode = DELETE;"
            "CREATE TABLE IF NOT EXISTS keys (hash TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, "
            "prefix TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT);"
            "CREATE UNIQUE INDEX IF NOT EXISTS keys_active_name ON keys (name) WHERE revoked_at IS NULL;",
        )

    def create(self, name: str, role: str) -> str:
        """Issue a new key for `name` with `role`; returns the key (shown once, stored hashed)."""
        if role not in ROLES:
            raise ConfigError(f"unknown role {role!r}", hint=f"use one of: {', '.join(ROLES)}")
        if not _NAME.match(name):
            raise KeyError_(
                f"key name {name!r} is not allowed",
                hint="use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
            )
        key = _PREFIX + secrets.token_urlsafe(32)
        try:
            with self._lock:
                self._con.execute(
                    "INSERT INTO keys VALUES (?, ?, ?, ?, ?, NULL)",
                    (hash_key(key), name, role, key[:9], _now()),
                )
                self._cache.clear()
        except sqlite3.IntegrityError:
            raise KeyError_(
                f"an active key named {name!r} already exists in {self.path}",
                hint=f"revoke it first with `cdna keys revoke {name}`, or choose another name",
            ) from None
        return key

    def revoke(self, name: str) -> KeyRecord:
        """Revoke the active key named `name`; a KeyError_ when there is none."""
        with self._lock:
            row = self._con.execute(
                "SELECT name, role, created_at, revoked_at, prefix FROM keys WHERE name = ? AND revoked_at IS NULL",
                (name,),
            ).fetchone()
            if row is None:
                raise KeyError_(
                    f"no active key named {name!r} in {self.path}", hint="list keys with `cdna keys list`"
                )
            when = _now()
            self._con.execute(
                "UPDATE keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", (when, name)
            )
            self._cache.clear()
        return KeyRecord(row[0], row[1], row[2], when, row[4])

    def verify(self, key: str) -> KeyRecord | None:
        """The active record of `key`, or None when it is unknown or revoked."""
        if not key.startswith(_PREFIX) or len(key) > 200:
            return None
        h = hash_key(key)
        with self._lock:
            version = self._file_version()
            if version != self._version:
                self._cache.clear()
                self._version = version
            elif h in self._cache:
                return self._cache[h]
            row = self._con.execute(
                "SELECT name, role, created_at, revoked_at, prefix FROM keys WHERE hash = ? AND revoked_at IS NULL",
                (h,),
            ).fetchone()
            rec = KeyRecord(*row) if row else None
            if len(self._cache) > 10_000:  # random wrong keys must not grow it without bound
                self._cache.clear()
            self._cache[h] = rec
        return rec

    def _file_version(self) -> tuple[int, bytes]:
        """(inode, file change counter) of the key database: it changes with every committed write."""
        ino = os.stat(self.path).st_ino
        if self._header is None or self._header[0] != ino:
            if self._header is not None:
                os.close(self._header[1])
            self._header = (ino, os.open(self.path, os.O_RDONLY))
        return ino, os.pread(self._header[1], 4, 24)  # SQLite header: file change counter at offset 24

    def list(self) -> list[KeyRecord]:
        """Every key ever issued, oldest first (revoked ones included)."""
        with self._lock:
            rows = self._con.execute(
                "SELECT name, role, created_at, revoked_at, prefix FROM keys ORDER BY created_at, rowid"
            ).fetchall()
        return [KeyRecord(*r) for r in rows]

    def close(self) -> None:
        """Close the database."""
        self._con.close()
        if self._header is not None:
            os.close(self._header[1])
            self._header = None
