"""The Redis online store: the same contract as the SQLite one, for several workers or hosts (issue #16).

A materialisation is written under a new generation (`<prefix>:<gen>:v:<customer>`, one JSON array per
customer, column names once in `<prefix>:<gen>:meta`) and made live by pointing `<prefix>:current` at it,
the Redis counterpart of the SQLite file's atomic rename: a reader never sees half a materialisation.
Event updates (`put_many`) write into the live generation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cdna.core.errors import LakeError, UnknownCustomerError
from cdna.features.online import OnlineStore

__all__ = ["RedisOnlineStore", "copy_sqlite_to_redis", "open_online_store"]


class RedisOnlineStore(OnlineStore):
    """Latest vector per customer in Redis.

    Attributes:
        url: redis://host:port/db.
        prefix: key prefix of this store ("cdna:features", "cdna:recommendations").
    """

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.url = url
        self.prefix = prefix
        self._r: Any = redis.Redis.from_url(url)  # replies are bytes (decode_responses off)
        self._gen: str | None = None
        self._info: dict[str, Any] = {}
        self._columns: list[str] = []

    def _live(self) -> str:
        gen = self._r.get(f"{self.prefix}:current")
        if gen is None:
            raise LakeError(
                f"online store {self.prefix!r} is not materialised in {self.url}",
                hint="run `cdna features materialize` (serve.online_store: redis copies it there)",
            )
        gen_s = gen.decode()
        if gen_s != self._gen:
            raw = self._r.get(f"{self.prefix}:{gen_s}:meta")
            self._info = json.loads(raw) if raw else {}
            self._columns = list(self._info.get("columns", []))
            self._gen = gen_s
        return gen_s

    def get(self, customer_id: str) -> dict[str, Any]:
        """The customer's latest vector as {column: value}."""
        gen = self._live()
        raw = self._r.get(f"{self.prefix}:{gen}:v:{customer_id}")
        if raw is None:
            raise UnknownCustomerError(
                f"customer {customer_id!r} is not in the online store {self.prefix} ({self.url})",
                hint="check the id, or re-run `cdna features materialize`",
            )
        return dict(zip(self._columns, json.loads(raw), strict=True))

    def stored(self, customer_id: str) -> str | bytes | None:
        """The row as stored (with its generation), or None."""
        gen = self._live()
        raw = self._r.get(f"{self.prefix}:{gen}:v:{customer_id}")
        return (
            None
            if raw is None
            else f"{gen}:".encode() + (raw if isinstance(raw, bytes) else str(raw).encode())
        )

    def info(self) -> dict[str, Any]:
        """Metadata of the live generation: as_of, rows, columns."""
        self._live()
        return dict(self._info)

    def put_many(self, rows: Mapping[str, Mapping[str, Any]]) -> int:
        """Write vectors into the live generation (columns the store does not know are dropped)."""
        gen = self._live()
        pipe = self._r.pipeline(transaction=False)
        for cid, vec in rows.items():
            values = [vec.get(c) for c in self._columns]
            pipe.set(f"{self.prefix}:{gen}:v:{cid}", json.dumps(values, ensure_ascii=False, default=str))
        pipe.execute()
        return len(rows)

    def replace_all(self, rows: Mapping[str, list[Any]], meta: Mapping[str, Any]) -> int:
        """Write a whole materialisation (customer -> values in `meta['columns']` order) and make it live."""
        gen = uuid.uuid4().hex[:10]
        pipe = self._r.pipeline(transaction=False)
        n = 0
        for cid, values in rows.items():
            pipe.set(f"{self.prefix}:{gen}:v:{cid}", json.dumps(values, ensure_ascii=False, default=str))
            n += 1
            if n % 5000 == 0:
                pipe.execute()
        pipe.set(
            f"{self.prefix}:{gen}:meta", json.dumps({**meta, "rows": n}, ensure_ascii=False, default=str)
        )
        pipe.execute()
        old = self._r.getset(f"{self.prefix}:current", gen)
        if old is not None and old.decode() != gen:
            # readers holding the old generation finish their lookups; then its keys go
            for keys in _chunks(self._r.scan_iter(f"{self.prefix}:{old.decode()}:*", count=5000), 5000):
                self._r.delete(*keys)
        return n

    def close(self) -> None:
        """Close the connection pool."""
        self._r.close()


def _chunks(it: Any, size: int) -> Any:
    buf: list[Any] = []
    for x in it:
        buf.append(x)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


def copy_sqlite_to_redis(sqlite_path: Path, store: RedisOnlineStore) -> int:
    """Copy a SQLite materialisation (features or recommendations) into Redis as one new generation."""
    import sqlite3

    con = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'info'").fetchone()
        meta = json.loads(row[0]) if row else {}
        rows = {cid: json.loads(v) for cid, v in con.execute("SELECT customer_id, v FROM vectors")}
    finally:
        con.close()
    return store.replace_all(rows, meta)


def open_online_store(
    path: Path,
    backend: str,
    redis_url: str | None = None,
    prefix: str = "cdna:features",
    recheck_s: float = 0.0,
) -> OnlineStore:
    """The online store of one SQLite materialisation on the configured backend (`serve.online_store`).

    With redis, a materialisation Redis has not seen yet (another file inode) is copied there first, so
    every worker and host reads the same vectors and event updates.
    """
    from cdna.features.online import SqliteOnlineStore

    if backend == "sqlite":
        return SqliteOnlineStore(path, recheck_s)
    store = RedisOnlineStore(redis_url or "redis://127.0.0.1:6379/0", prefix)
    mark = f"{path.resolve()}:{path.stat().st_ino}"
    if store._r.get(f"{prefix}:source") != mark.encode():
        copy_sqlite_to_redis(path, store)
        store._r.set(f"{prefix}:source", mark)
    return store
