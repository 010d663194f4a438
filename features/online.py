"""The online store: the latest feature vector per customer in one SQLite file, swapped in atomically.

A materialisation writes a new file beside the live one and renames it over it; readers holding the old
file keep reading it (POSIX keeps the inode) and reopen when they see a new inode, so a reader never sees a
half-written store. Vectors are JSON arrays whose column names live once in the file's `meta` table. `OnlineStore` is the interface a Redis backend would implement.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson

from cdna.core.errors import LakeError, UnknownCustomerError

__all__ = ["OnlineStore", "SqliteOnlineStore", "write_sqlite_store"]


class OnlineStore(ABC):
    """Latest feature vector per customer (SQLite today; a Redis backend implements the same methods)."""

    @abstractmethod
    def get(self, customer_id: str) -> dict[str, Any]:
        """The customer's feature vector, or UnknownCustomerError."""

    @abstractmethod
    def info(self) -> dict[str, Any]:
        """Metadata of the live materialisation (as_of, rows, view versions)."""

    @abstractmethod
    def put_many(self, rows: Mapping[str, Mapping[str, Any]]) -> int:
        """Write (insert or replace) vectors of some customers into the live materialisation (issue #16)."""

    def stored(self, customer_id: str) -> str | bytes | None:
        """The row as stored (unparsed), for caches that render it once per content; None when unknown.

        Equal values mean an equal row; a backend that cannot tell returns None always (no caching).
        """
        return None


def _json_expr(name: str, duck_type: str) -> str:
    q = '"' + name.replace('"', '""') + '"'
    t = duck_type.upper()
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        return f"CASE WHEN isnan({q}) THEN NULL ELSE round({q}, 6) END"
    if t.startswith("DATE") or t.startswith("TIMESTAMP"):
        return f"CAST({q} AS VARCHAR)"
    return q


def write_sqlite_store(relation_sql: str, path: Path, meta: dict[str, Any]) -> int:
    """Materialise a DuckDB relation (one row per customer_id) into a new SQLite file, then swap it in.

    `relation_sql` is a FROM clause such as `read_parquet('snapshot.parquet')`. Each vector is a JSON array
    in the column order kept in the `meta` table, built by DuckDB (not row by row in Python).
    """
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    duck = duckdb.connect()
    try:
        rel = duck.sql(f"SELECT * FROM {relation_sql} LIMIT 0")
        types = dict(zip(rel.columns, [str(t) for t in rel.types], strict=True))
        columns = [c for c in rel.columns if c != "customer_id"]
        exprs = ", ".join(_json_expr(c, types[c]) for c in columns)
        con = sqlite3.connect(tmp)
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("CREATE TABLE vectors (customer_id TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID")
        con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        reader = duck.sql(
            f"SELECT CAST(customer_id AS VARCHAR), CAST(json_array({exprs}) AS VARCHAR) "
            f"FROM {relation_sql} ORDER BY 1"
        ).to_arrow_reader(100_000)
        n = 0
        for batch in reader:
            ids = batch.column(0).to_pylist()
            vecs = batch.column(1).to_pylist()
            con.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", zip(ids, vecs, strict=True))
            n += len(ids)
        info = {**meta, "rows": n, "columns": columns}
        con.execute(
            "INSERT INTO meta VALUES ('info', ?)", (json.dumps(info, ensure_ascii=False, default=str),)
        )
        con.commit()
        con.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        duck.close()
        tmp.unlink(missing_ok=True)
    return n


def _plain(value: Any) -> Any:
    """A vector value as the materialisation writes it (ISO dates, rounded floats, NaN as null)."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, date | datetime):
        return value.isoformat() if not isinstance(value, datetime) else str(value)
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value


def _plain_row(vec: Mapping[str, Any], columns: list[str]) -> list[Any]:
    """`_plain` of each column of a vector, the common types first (issue 16: 60k values a batch)."""
    out: list[Any] = []
    for c in columns:
        v: Any = vec.get(c)
        t = type(v)
        if t is float:
            out.append(None if v != v else round(v, 6))
        elif v is None or t is int or t is str or t is bool:
            out.append(v)
        else:
            out.append(_plain(v))
    return out


class SqliteOnlineStore(OnlineStore):
    """Read side of the SQLite online store; reopens itself when a new materialisation is swapped in.

    Attributes:
        path: the SQLite file (LAKE/online/features.sqlite).
        recheck_s: look for a swapped-in file at most this often (0: on every call); the service, whose
            holder reloads on a new file anyway, checks once a second.
    """

    def __init__(self, path: Path, recheck_s: float = 0.0) -> None:
        self.path = Path(path)
        self._con: sqlite3.Connection | None = None
        self._inode: int | None = None
        self._info: dict[str, Any] = {}
        self._columns: list[str] = []
        self._writer: sqlite3.Connection | None = None
        self._writer_inode: int | None = None
        self._write_lock = threading.Lock()
        self.recheck_s = recheck_s
        self._checked = -1.0

    def _open(self) -> sqlite3.Connection:
        if self._con is not None and self.recheck_s > 0:
            now = time.monotonic()
            if now - self._checked < self.recheck_s:
                return self._con  # a stat per lookup was a quarter of the lookup's own work (issue 16)
            self._checked = now
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            raise LakeError(
                f"online store not found: {self.path}",
                hint="run `cdna features materialize --lake LAKE` first",
            ) from None
        if self._con is None or inode != self._inode:
            if self._con is not None:
                self._con.close()
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            # memory-map the file: a lookup is then a B-tree walk in the page cache, no read() syscalls
            con.execute(f"PRAGMA mmap_size = {1 << 34}")
            row = con.execute("SELECT value FROM meta WHERE key = 'info'").fetchone()
            self._info = json.loads(row[0]) if row else {}
            self._columns = list(self._info.get("columns", []))
            self._con, self._inode = con, inode
        return self._con

    def get(self, customer_id: str) -> dict[str, Any]:
        """The customer's latest vector as {column: value}."""
        row = self._open().execute("SELECT v FROM vectors WHERE customer_id = ?", (customer_id,)).fetchone()
        if row is None:
            raise UnknownCustomerError(
                f"customer {customer_id!r} is not in the online store {self.path}",
                hint="check the id, or re-run `cdna features materialize`",
            )
        return dict(zip(self._columns, orjson.loads(row[0]), strict=True))

    def stored(self, customer_id: str) -> str | bytes | None:
        """The row's JSON text as stored, or None."""
        row = self._open().execute("SELECT v FROM vectors WHERE customer_id = ?", (customer_id,)).fetchone()
        return None if row is None else row[0]  # type: ignore[no-any-return]

    def info(self) -> dict[str, Any]:
        """Metadata of the live file: as_of, rows, columns, view versions."""
        self._open()
        return dict(self._info)

    def put_many(self, rows: Mapping[str, Mapping[str, Any]]) -> int:
        """Insert or replace vectors in the live file (event updates); columns it does not hold are dropped.

        One transaction per call; readers keep their read-only connection and see the rows once committed.
        """
        self._open()
        if self._writer is None or self._writer_inode != self._inode:
            if self._writer is not None:
                self._writer.close()
            con = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            con.execute("PRAGMA busy_timeout = 5000")
            # the online store is derived data (the events are in the lake and the ledger): no fsync per batch
            con.execute("PRAGMA synchronous = OFF")
            self._writer, self._writer_inode = con, self._inode
        cols = list(self._columns)
        data = [(cid, orjson.dumps(_plain_row(vec, cols)).decode()) for cid, vec in rows.items()]
        with self._write_lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                self._writer.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", data)
                self._writer.execute("COMMIT")
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
        return len(data)

    def close(self) -> None:
        """Close the connections."""
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
