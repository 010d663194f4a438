"""API keys: random bearer tokens stored only as SHA-256 hashes in LAKE/serve/keys.db, with a role each.

Keys carry 256 random bits, so a fast hash is enough (no password stretching needed): a stolen database
reveals neither the keys nor a way to guess them.
"""

from __future__ import annotations

import hashlib
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
        self._con = open_private_db(
            self.path,
            5000,
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
        return KeyRecord(row[0], row[1], row[2], when, row[4])

    def verify(self, key: str) -> KeyRecord | None:
        """The active record of `key`, or None when it is unknown or revoked."""
        if not key.startswith(_PREFIX) or len(key) > 200:
            return None
        with self._lock:
            row = self._con.execute(
                "SELECT name, role, created_at, revoked_at, prefix FROM keys WHERE hash = ? AND revoked_at IS NULL",
                (hash_key(key),),
            ).fetchone()
        return KeyRecord(*row) if row else None

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
