"""The service's own small SQLite files (keys, audit): one way to open them, owner-only from the first byte."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

__all__ = ["open_private_db", "private_files"]

_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_files(path: Path) -> list[Path]:
    """The database file and its SQLite side files (-wal, -shm, -journal) that exist now."""
    return [p for p in (path, *(path.with_name(path.name + s) for s in _SIDE_FILES)) if p.exists()]


def _tighten(path: Path) -> None:
    for p in private_files(path):
        with contextlib.suppress(PermissionError):  # another user's file: not ours to change
            if p.stat().st_mode & 0o077:
                p.chmod(0o600)


def open_private_db(path: Path, busy_timeout_ms: int, schema: str) -> sqlite3.Connection:
    """Open (creating) a shared-connection SQLite file in autocommit mode, apply `schema`; owner-only files.

    The file is created 0600 before SQLite opens it: SQLite gives the -wal and -shm files the mode of the
    database file, so they are private too (issue #14: `audit.db-wal` was world-readable). Files of an
    older lake are tightened on open, and the folder is made owner-only.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):
        if path.parent.stat().st_mode & 0o077:
            path.parent.chmod(0o700)  # key hashes and who looked at whom are sensitive
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    _tighten(path)
    con = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    con.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    con.executescript(schema)
    _tighten(path)
    return con
