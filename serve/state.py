"""What the service answers from, and how it is swapped: one immutable `Serving` snapshot per load.

A background poll compares a cheap fingerprint (champion alias, online-store inode, batch-score and signal
files) with the live one; on a change it loads a complete new `Serving` off the event loop and swaps one
reference. Requests in flight keep the object they started with, so a swap never drops a request, and a load
that fails leaves the old snapshot serving and is reported on /readyz.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cdna.core.errors import UnknownCustomerError
from cdna.core.lake import Lake
from cdna.recommend.registry import RegistryView, read_registry

__all__ = [
    "Fingerprint",
    "Serving",
    "ServingHolder",
    "fingerprint",
    "load_serving",
    "mask_generated",
    "mask_text",
]

_log = logging.getLogger("cdna.serve")
# Fallback only (without nlp/): long digit runs that are not part of an id such as C0000001.
_DIGITS = re.compile(r"(?<![A-Za-z0-9_])\d(?:[\d\s.-]{4,}\d)(?![A-Za-z0-9_])")

Fingerprint = tuple[Any, ...]


def _fallback_mask(text: str) -> str:
    return _DIGITS.sub("[NUM]", text)


def _masker() -> Callable[[str], str]:
    try:
        from cdna.nlp.pii import mask_cached
    except ImportError:  # the NLP stage is optional at run time; digits are still hidden
        return _fallback_mask

    def _mask(text: str) -> str:
        return mask_cached(text).text

    return _mask


_MASK: Callable[[str], str] | None = None


@functools.lru_cache(maxsize=200_000)
def _mask_cached(text: str) -> str:
    global _MASK
    if _MASK is None:
        _MASK = _masker()
    return _MASK(text)


# What personal data in generated text needs to be: digit runs (RRN, phone, card, account), e-mail, or
# numbers spoken in Sino-Korean (공일공 …). Text without any of these skips the (slow) full masker.
_MAYBE_PII = re.compile(r"\d[\d\s.-]{5,}\d|@|[공영일이삼사오육칠팔구]{4,}")


def mask_generated(text: str) -> str:
    """`mask_text` for generated sentences (recommendation reasons): only text that could hold personal data
    is run through the full masker; template sentences with small numbers ("지출의 58%") pass as they are."""
    return _mask_cached(text) if _MAYBE_PII.search(text) else text


def mask_text(text: str | None) -> str | None:
    """Defence in depth: mask personal data in any text the service returns (the NLP stage masked it already).

    Cached: reasons are templated sentences that repeat across customers.
    """
    return None if text is None else _mask_cached(text)


def _online_file(lake: Path) -> Path:
    return Lake(lake).online_features_db


def _online_recs_file(lake: Path) -> Path:
    """Where `cdna recommend` materialises each customer's top-k (recommend.scoring.write_online)."""
    return Lake(lake).online_recommendations_db


def _latest_partition(folder: Path) -> Path | None:
    parts = sorted(p for p in folder.glob("date=*") if p.is_dir() and any(p.glob("*.parquet")))
    return parts[-1] if parts else None


def _stat_key(path: Path) -> tuple[str, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (path.name, st.st_ino, st.st_mtime_ns)


def _inode_key(path: Path) -> tuple[str, int] | None:
    key = _stat_key(path)
    return None if key is None else (key[0], key[1])


def _partition_stats(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """(name, inode, mtime) of every `date=*` partition folder under `folder`, sorted.

    A partition's folder changes whenever a part is added, replaced or removed: the lake writes parts
    to a temporary name and renames them into place. Stat-ing the folders rather than every file keeps
    the poll, which runs every few seconds beside the lookups, off the interpreter (issue #16: globbing a
    year of parts held it for ~5 ms each time and showed as the slowest lookups).
    """
    out: list[tuple[str, int, int]] = []
    try:
        with os.scandir(folder) as entries:
            for e in entries:
                if e.name.startswith("date="):
                    with contextlib.suppress(FileNotFoundError):
                        st = e.stat()
                        out.append((e.name, st.st_ino, st.st_mtime_ns))
    except FileNotFoundError:
        return ()
    return tuple(sorted(out))


def fingerprint(lake: Path, registry: RegistryView) -> Fingerprint:
    """Cheap summary of everything a load reads; a different value means a reload is due."""
    recs = _latest_partition(Lake(lake).recommendations)
    rec_files = tuple(_stat_key(p) for p in sorted(recs.glob("*.parquet"))) if recs else ()
    sig_files = _partition_stats(Lake(lake).signals)
    return (
        registry.champion_key,
        # inode only: events update rows in place (issue #16), which the open stores see without a reload;
        # a new materialisation is a new file (atomic rename) and so a new inode
        _inode_key(_online_file(lake)),
        _inode_key(_online_recs_file(lake)),
        str(recs),
        rec_files,
        hash(sig_files),
    )


@dataclass
class Serving:
    """One complete, consistent set of serving data (never mutated after load, except its render cache).

    Attributes:
        online: the online feature store (None when not materialised yet).
        recs: customer id -> recommendation rows ordered by rank.
        recs_as_of: as-of day of the batch scores.
        recs_model_version: model version(s) that wrote the batch scores.
        signals: customer id -> {"intent": [...], "interest": [...]} most recent first.
        registry: the registry view at load time (champion, versions).
        fingerprint: what was loaded.
        loaded_at: UTC ISO time of the load.
    """

    online: Any
    recs: dict[str, list[dict[str, Any]]]
    recs_as_of: str | None
    recs_model_version: str | None
    signals: dict[str, dict[str, list[dict[str, Any]]]]
    registry: RegistryView
    fingerprint: Fingerprint
    loaded_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    online_info: dict[str, Any] = field(default_factory=dict)
    recs_store: Any = None
    n_scored: int = 0

    def recommendations(self, customer_id: str) -> list[dict[str, Any]] | None:
        """The customer's ranked rows (from the online top-k store, else the batch Parquet), or None."""
        if self.recs_store is not None:
            try:
                row = self.recs_store.get(customer_id)
            except UnknownCustomerError:
                return None
            return _online_rows(row)
        return self.recs.get(customer_id)

    def features(self, customer_id: str) -> dict[str, Any] | None:
        """The customer's online feature vector, or None."""
        if self.online is None:
            return None
        try:
            return dict(self.online.get(customer_id))
        except UnknownCustomerError:
            return None

    @property
    def model_version(self) -> str | None:
        """The version that wrote the scores being served, else the registered champion's."""
        if self.recs_model_version:
            return self.recs_model_version
        champ = self.registry.champion
        return champ.version if champ is not None else None

    @property
    def scores_behind_champion(self) -> bool:
        """Whether the champion alias moved on but the batch scores still come from an older version."""
        champ = self.registry.champion
        if champ is None or not self.recs_model_version:
            return False
        return self.recs_model_version not in (champ.version, f"{champ.name}/{champ.version}", champ.run_id)


def _online_rows(row: dict[str, Any]) -> list[dict[str, Any]]:
    items = row.get("recommendations") or []
    if isinstance(items, str):
        items = json.loads(items)
    version, as_of = str(row.get("model_version") or ""), str(row.get("as_of") or "")
    return [
        {
            "rank": int(it["rank"]),
            "product_id": it["product_id"],
            "score": float(it["score"]),
            "reasons": list(it.get("reasons") or []),
            "evidence_ids": list(it.get("evidence_ids") or []),
            "model_version": version,
            "as_of": as_of,
        }
        for it in sorted(items, key=lambda it: int(it["rank"]))
    ]


def _load_recs(
    lake: Path, registry: RegistryView
) -> tuple[dict[str, list[dict[str, Any]]], str | None, str | None]:
    from cdna.contracts.schemas import RECOMMENDATIONS, read_table

    part = _latest_partition(Lake(lake).recommendations)
    if part is None:
        return {}, None, None
    table = read_table(part, RECOMMENDATIONS)
    versions = sorted(set(table.column("model_version").to_pylist()))
    champ = registry.champion
    if champ is not None and len(versions) > 1:
        wanted = {v for v in versions if v in (champ.version, f"{champ.name}/{champ.version}", champ.run_id)}
        if wanted:
            import pyarrow as pa
            import pyarrow.compute as pc

            table = table.filter(pc.is_in(table.column("model_version"), pa.array(sorted(wanted))))
            versions = sorted(wanted)
    out: dict[str, list[dict[str, Any]]] = {}
    for row in table.sort_by([("customer_id", "ascending"), ("rank", "ascending")]).to_pylist():
        rows = out.setdefault(row["customer_id"], [])
        if rows and rows[-1]["rank"] == row["rank"]:
            continue
        rows.append(
            {
                "rank": int(row["rank"]),
                "product_id": row["product_id"],
                "score": float(row["score"]),
                "reasons": list(row["reasons"] or []),
                "evidence_ids": list(row["evidence_ids"] or []),
                "model_version": row["model_version"],
                "as_of": str(row["as_of"]),
            }
        )
    as_of = max((str(d) for d in table.column("as_of").to_pylist()), default=None)
    return out, as_of, ",".join(versions) or None


def _load_signals(lake: Path, per_kind: int = 5) -> dict[str, dict[str, list[dict[str, Any]]]]:
    files = sorted(Lake(lake).signals.glob("date=*/*.parquet"))
    if not files:
        return {}
    import duckdb

    src = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        rows = con.execute(
            f"SELECT customer_id, kind, label, score, CAST(ts AS VARCHAR), source, source_id, evidence "
            f"FROM read_parquet([{src}], union_by_name = true, hive_partitioning = false) "
            f"WHERE kind IN ('intent', 'interest') AND customer_id IS NOT NULL "
            # "Recent" intents: the last 90 days before the newest signal (also bounds the memory held).
            f"AND ts >= (SELECT max(ts) FROM read_parquet([{src}], union_by_name = true, hive_partitioning = false)) "
            f"- INTERVAL 90 DAY "
            f"QUALIFY row_number() OVER (PARTITION BY customer_id, kind ORDER BY ts DESC, score DESC) <= {per_kind} "
            f"ORDER BY customer_id, kind, ts DESC, score DESC"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for cid, kind, label, score, ts, source, source_id, evidence in rows:
        out.setdefault(cid, {"intent": [], "interest": []})[kind].append(
            {
                "label": label,
                "score": round(float(score), 4),
                "ts": ts,
                "source": source,
                "source_id": source_id,
                "evidence": evidence,
            }
        )
    return out


def load_serving(
    lake: Path, registry: RegistryView | None = None, backend: str = "sqlite", redis_url: str | None = None
) -> Serving:
    """Load everything the service answers from; raises on any broken input (the caller keeps the old one).

    `backend` is `serve.online_store`: sqlite reads the lake's files, redis the copies published there.
    """
    from cdna.features.online_redis import open_online_store

    registry = registry if registry is not None else read_registry(lake)
    fp = fingerprint(lake, registry)
    online = None
    info: dict[str, Any] = {}
    if _online_file(lake).is_file():
        online = open_online_store(_online_file(lake), backend, redis_url, "cdna:features", recheck_s=1.0)
        info = online.info()  # opens the file now, so a corrupt store fails the load, not a request
    recs_store = None
    if _online_recs_file(lake).is_file():
        # The recommender's own materialisation: one indexed row per customer, so nothing big is held in memory.
        recs_store = open_online_store(
            _online_recs_file(lake), backend, redis_url, "cdna:recommendations", recheck_s=1.0
        )
        rinfo = recs_store.info()
        recs: dict[str, list[dict[str, Any]]] = {}
        as_of = str(rinfo.get("as_of")) if rinfo.get("as_of") is not None else None
        versions = str(rinfo.get("model_version")) if rinfo.get("model_version") is not None else None
        n_scored = int(rinfo.get("rows", 0))
    else:
        recs, as_of, versions = _load_recs(lake, registry)
        n_scored = len(recs)
    signals = _load_signals(lake)
    if online is None and not recs and recs_store is None:
        from cdna.core.errors import LakeError

        raise LakeError(
            f"nothing to serve in {lake}: no online store ({_online_file(lake)}) and no batch recommendations",
            hint="run `cdna features materialize` and `cdna recommend` (or `cdna demo`) first",
        )
    return Serving(
        online,
        recs,
        as_of,
        versions,
        signals,
        registry,
        fp,
        online_info=info,
        recs_store=recs_store,
        n_scored=n_scored,
    )


class ServingHolder:
    """Holds the live `Serving` and swaps it when the lake or the champion alias changes.

    Attributes:
        lake: the lake folder.
        interval_s: seconds between polls.
        current: the live snapshot (None until the first successful load).
        last_error: the message of the last failed load (cleared by a successful one).
    """

    def __init__(
        self, lake: Path, interval_s: float = 5.0, backend: str = "sqlite", redis_url: str | None = None
    ) -> None:
        self.lake = Path(lake)
        self.interval_s = interval_s
        self.backend = backend
        self.redis_url = redis_url
        self.current: Serving | None = None
        self.last_error: str | None = None
        self.last_error_at: str | None = None
        self.last_check_at: str | None = None
        self.swaps = 0
        self.failures = 0
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        self._registry_cache: tuple[Any, RegistryView] | None = None
        self.background: list[Callable[[], None]] = []  # housekeeping run after each poll (WAL checkpoints)

    def refresh(self, force: bool = False) -> bool:
        """Reload when the fingerprint changed (or `force`); returns whether a new snapshot went live."""
        with self._lock:
            self.last_check_at = datetime.now(UTC).isoformat(timespec="seconds")
            try:
                registry = self._registry()
                fp = fingerprint(self.lake, registry)
                if not force and self.current is not None and fp == self.current.fingerprint:
                    self.last_error = self.last_error_at = None  # the lake is back to what is served
                    return False
                t0 = time.perf_counter()
                new = load_serving(self.lake, registry, self.backend, self.redis_url)
            except Exception as exc:  # noqa: BLE001 - any failed load keeps the old snapshot serving
                self.failures += 1
                self.last_error = (
                    f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
                )
                self.last_error_at = datetime.now(UTC).isoformat(timespec="seconds")
                _log.warning("serving load failed, keeping the previous one: %s", type(exc).__name__)
                return False
            self.current = new
            self.last_error = self.last_error_at = None
            # The snapshot's millions of small objects never form cycles; freezing them keeps the cyclic GC from
            # rescanning them on every full collection (pauses that would show up as p99 spikes).
            gc.collect()
            gc.freeze()
            self.swaps += 1
            _log.info(
                "serving swapped in: model %s, %d customers with scores (%.2fs)",
                new.model_version,
                new.n_scored,
                time.perf_counter() - t0,
            )
            return True

    def _registry(self) -> RegistryView:
        # Opening MLflow costs far more than a stat, so the registry is re-read only when its files change.
        db = Lake(self.lake).mlflow_db
        key = tuple(_stat_key(p) for p in (db, db.with_suffix(db.suffix + "-wal")))
        if self._registry_cache is None or key != self._registry_cache[0]:
            self._registry_cache = (key, read_registry(self.lake))
        return self._registry_cache[1]

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await asyncio.to_thread(self.refresh)
            for job in self.background:
                await asyncio.to_thread(job)

    def start(self) -> None:
        """Start polling in the running event loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._poll())

    async def stop(self) -> None:
        """Stop polling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
