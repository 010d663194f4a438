"""The service's own small SQLite files (keys, audit): one way to open them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["open_private_db"]


def open_private_db(path: Path, busy_timeout_ms: int, schema: str) -> sqlite3.Connection:
    """Open (creating) a shared-connection SQLite file in autocommit mode, apply `schema`, owner-only on creation."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = not path.exists()
    con = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    con.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    con.executescript(schema)
    if fresh:
        path.chmod(0o600)  # key hashes and who looked at whom are sensitive
    return con
