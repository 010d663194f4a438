"""The lake layout, atomic writes, run records and partition locks (the only shared I/O helpers)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cdna.core.errors import LakeError, LockedError

__all__ = [
    "Lake",
    "RunRecord",
    "atomic_write_bytes",
    "atomic_write_parquet",
    "atomic_write_text",
    "make_private",
    "partition_lock",
    "private_dir",
]


@dataclass(frozen=True)
class Lake:
    """Paths of one lake folder (see ARCHITECTURE: raw/, transcripts/, signals/, features/ …).

    Attributes:
        root: the lake folder.
    """

    root: Path

    @classmethod
    def at(cls, root: Path | str, create: bool = False) -> Lake:
        """A lake at `root`; with create=False the folder must exist."""
        path = Path(root).expanduser().resolve()
        if create:
            path.mkdir(parents=True, exist_ok=True)
        elif not path.is_dir():
            raise LakeError(
                f"lake folder not found: {path}",
                hint="create one with `cdna world --out DIR` or `cdna demo`, or set --lake / CDNA_LAKE",
            )
        return cls(path)

    def raw(self, table: str) -> Path:
        """Folder of a raw table (customers, products, holdings, transactions, web_events, calls)."""
        return self.root / "raw" / table

    def raw_file(self, table: str) -> Path:
        """The single Parquet file the generator or import writes for a raw table."""
        return self.raw(table) / f"{table}.parquet"

    def raw_parts(self, table: str) -> list[Path]:
        """Every Parquet part of a raw table, oldest first: the generator's file, then imports by time.

        Imports only add parts (`part-<UTC time>-<content hash>.parquet`, issue 15), so a stage reads them
        all; `cdna.contracts.parts` keeps one row per key.
        """
        folder = self.raw(table)
        if not folder.is_dir():
            return []
        files = [p for p in folder.glob("*.parquet") if not p.name.startswith(".")]
        return sorted(files, key=lambda p: (p.name.startswith("part-"), p.name))

    @property
    def import_ledger(self) -> Path:
        """One JSON line per import, replace and drop of a raw table (`cdna data history`)."""
        return self.state / "imports.jsonl"

    @property
    def backups(self) -> Path:
        """Raw parts moved aside by `cdna data replace|drop`, kept until the next retention run."""
        return self.root / "_backups"

    def raw_backup(self, table: str, label: str) -> Path:
        """Where one replace or drop moves a raw table's parts (label: UTC time and action)."""
        return self.backups / "raw" / table / label

    def raw_backup_dirs(self) -> list[Path]:
        """Every folder of backed-up raw parts (all tables)."""
        return sorted(self.backups.glob("raw/*/*")) if self.backups.is_dir() else []

    def require_raw(self, table: str) -> Path:
        """The raw table's folder, or a LakeError naming it when it has no Parquet file."""
        folder = self.raw(table)
        if not folder.is_dir() or not any(folder.glob("*.parquet")):
            raise LakeError(
                f"table {table!r} is missing from the lake: no Parquet file under {folder}",
                hint=f"run `cdna world --out {self.root}` or `cdna validate {table} FILE --lake {self.root}`",
            )
        return folder

    @staticmethod
    def audio_ref(day: date | str, filename: str) -> str:
        """The lake-relative `audio_path` a calls manifest stores for a recording (no lake needed to build it)."""
        return Lake(Path("/")).rel(Lake(Path("/")).audio_day(day) / filename)

    def rel(self, path: Path) -> str:
        """`path` relative to the lake root, with forward slashes (manifests, lock names, run records)."""
        return path.relative_to(self.root).as_posix()

    def partition(self, area: str, day: date | str) -> Path:
        """A date partition such as transcripts/date=2025-06-30."""
        return self.root / area / f"date={day}"

    def transcripts_day(self, day: date | str) -> Path:
        """One night's transcripts (unmasked)."""
        return self.partition("transcripts", day)

    def signals_day(self, day: date | str) -> Path:
        """One night's masked signals."""
        return self.partition("signals", day)

    def audio_day(self, day: date | str) -> Path:
        """One night's call recordings."""
        return self.partition("audio", day)

    def recommendations_day(self, day: date | str) -> Path:
        """One as-of date's batch recommendations."""
        return self.partition("recommendations", day)

    @property
    def audio(self) -> Path:
        return self.root / "audio"

    @property
    def transcripts(self) -> Path:
        return self.root / "transcripts"

    @property
    def signals(self) -> Path:
        return self.root / "signals"

    @property
    def features(self) -> Path:
        return self.root / "features"

    @property
    def snapshots(self) -> Path:
        return self.root / "snapshots"

    @property
    def online(self) -> Path:
        return self.root / "online"

    @property
    def recommendations(self) -> Path:
        return self.root / "recommendations"

    @property
    def audit(self) -> Path:
        return self.root / "audit"

    @property
    def runs(self) -> Path:
        return self.root / "_runs"

    @property
    def rejects(self) -> Path:
        return self.root / "_rejects"

    @property
    def truth(self) -> Path:
        return self.root / "_truth"

    @property
    def locks(self) -> Path:
        return self.root / "_locks"

    @property
    def raw_root(self) -> Path:
        """Folder of every raw table (the raw zone: unmasked, read by the stages that own it)."""
        return self.root / "raw"

    @property
    def state(self) -> Path:
        """Stage bookkeeping that must survive reruns (ledgers), not data."""
        return self.root / "_state"

    def no_speech(self, day: date | str) -> Path:
        """Ledger of calls that decoded with no speech on one night, so a rerun skips them."""
        return self.state / "no_speech" / f"date={day}"

    @property
    def tmp(self) -> Path:
        """Scratch space on the lake's own disk (DuckDB spill, staged files); safe to delete between runs."""
        return self.root / ".tmp"

    def tmp_dir(self, purpose: str) -> Path:
        """A scratch folder for one purpose (e.g. "duckdb", "recommend")."""
        return self.tmp / purpose

    def snapshot_file(self, as_of: date | str) -> Path:
        """The full point-in-time snapshot of one as-of date."""
        return self.snapshots / f"date={as_of}" / "snapshot.parquet"

    def feature_view_file(self, view: str, as_of: date | str) -> Path:
        """One feature view's materialised partition."""
        return self.features / view / f"date={as_of}" / "part.parquet"

    @property
    def online_features_db(self) -> Path:
        """Latest feature vector per customer (SQLite, atomically swapped)."""
        return self.online / "features.sqlite"

    @property
    def online_recommendations_db(self) -> Path:
        """Latest top-k recommendations per customer (SQLite, atomically swapped)."""
        return self.online / "recommendations.sqlite"

    @property
    def leads_db(self) -> Path:
        """Event-based leads per branch (SQLite; issue 16)."""
        return self.online / "leads.sqlite"

    @property
    def events(self) -> Path:
        """Events posted or streamed in (events/date=D/<table>/part-*.parquet): source rows like raw/ (issue 16)."""
        return self.root / "events"

    @property
    def events_ledger(self) -> Path:
        """Ids of the events whose effects are stored (idempotent delivery)."""
        return self.events / "_ledger.sqlite"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def report_file(self, area: str, name: str) -> Path:
        """An HTML report of one stage (area "recommend", "features", …)."""
        return self.reports / area / name

    @property
    def mlflow_db(self) -> Path:
        return self.root / "mlflow.db"

    @property
    def mlflow_uri(self) -> str:
        return f"sqlite:///{self.mlflow_db}"

    @property
    def mlartifacts(self) -> Path:
        return self.root / "mlartifacts"

    @property
    def serve_dir(self) -> Path:
        """The staff service's own state (keys, retrain runs)."""
        return self.root / "serve"

    @property
    def keys_db(self) -> Path:
        return self.serve_dir / "keys.db"

    @property
    def serve_runs(self) -> Path:
        """Logs of retrain/rescore jobs the service started."""
        return self.serve_dir / "runs"

    @property
    def audit_db(self) -> Path:
        return self.audit / "audit.db"

    @property
    def offers(self) -> Path:
        """The offer log: every recommendation shown and its outcome (issue 17)."""
        return self.root / "offers"

    @property
    def offers_db(self) -> Path:
        return self.offers / "offers.sqlite"

    @property
    def campaigns(self) -> Path:
        """One folder per campaign: what was asked, members (treated and control), the CRM export."""
        return self.root / "campaigns"

    def campaign_dir(self, name: str) -> Path:
        return self.campaigns / name

    @property
    def partner_deliveries(self) -> Path:
        """Files the synthetic bank's partners deliver (keyed by pseudonyms), for `cdna link import`."""
        return self.truth / "partners"

    def truth_file(self, name: str) -> Path:
        """A world-generator-only table (life_events, call_reasons …); no stage reads it."""
        return self.truth / f"{name}.parquet"

    def raw_named_part(self, table: str, stem: str) -> Path:
        """A raw table's part with a fixed name (e.g. a campaign's simulated opens), replaced on rerun."""
        return self.raw(table) / f"{stem}.parquet"

    @property
    def unmasked_areas(self) -> tuple[Path, ...]:
        """Folders that may hold personal data as given (raw zone): the privacy scan skips them (issue 14)."""
        return (self.raw_root, self.audio, self.transcripts, self.truth)

    @property
    def derived_areas(self) -> frozenset[str]:
        """Top-level folders written by the stages themselves: never scanned as source tables."""
        return frozenset(
            p.name
            for p in (
                self.truth,
                self.runs,
                self.rejects,
                self.locks,
                self.features,
                self.snapshots,
                self.online,
                self.transcripts,
                self.audio,
                self.recommendations,
                self.mlartifacts,
                self.audit,
                self.reports,
                self.state,
                self.serve_dir,
                self.backups,
                self.offers,
                self.campaigns,
            )
        )


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) and make it owner-only (0700): it holds unmasked text or audit data."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def make_private(path: Path) -> None:
    """Owner-only (0600) for a file and, for SQLite, its -wal/-shm/-journal siblings that exist (issue 14)."""
    for p in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        if p.exists():
            os.chmod(p, 0o600)


def _open_new(tmp: Path, private: bool) -> Any:
    # Created 0600 from the first byte, not chmod-ed after: no window in which another user can read it.
    return os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666), "wb")


def atomic_write_bytes(path: Path, data: bytes, private: bool = False) -> Path:
    """Write bytes to a temporary name beside `path`, fsync, then rename over it (owner-only if `private`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    try:
        with _open_new(tmp, private) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_text(path: Path, text: str, private: bool = False) -> Path:
    """Atomically write UTF-8 text (owner-only if `private`)."""
    return atomic_write_bytes(path, text.encode("utf-8"), private)


def atomic_write_parquet(table: pa.Table, path: Path, private: bool = False, **kwargs: Any) -> Path:
    """Write a table as Parquet under a temporary name, then rename: readers never see a partial file.

    With `private` the file is owner-only (0600) from creation: transcripts and other unmasked text (issue 14).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    try:
        with _open_new(tmp, private) as fh:
            pq.write_table(table, fh, compression=kwargs.pop("compression", "zstd"), **kwargs)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


@contextlib.contextmanager
def partition_lock(lake: Lake, name: str) -> Iterator[Path]:
    """Hold an exclusive, non-blocking lock named `name` on the lake; a second holder gets LockedError.

    The kernel drops flock locks when the process dies, so a SIGKILLed run never leaves a stale lock. The lock
    file is removed on release while it is still locked (issue 18: an interrupted run left empty files in
    `_locks/`); an acquirer that locked a file a releasing holder just unlinked sees that the path no longer
    leads to its inode and opens the path again, so two holders never lock different files of one name.
    """
    lake.locks.mkdir(parents=True, exist_ok=True)
    lock_path = lake.locks / f"{name.replace('/', '_')}.lock"
    fh = _lock_file(lock_path, name)
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()} since {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}")
        fh.flush()
        yield lock_path
    finally:
        with contextlib.suppress(OSError):
            lock_path.unlink()  # still locked: a waiter that opened this inode re-opens the path
        with contextlib.suppress(OSError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


def _lock_file(lock_path: Path, name: str) -> Any:
    """Open and flock `lock_path`, retrying while the file locked is not the one the path names."""
    while True:
        fh = open(lock_path, "a+")  # noqa: SIM115 - held for the duration of the lock
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise LockedError(
                f"{name} is locked by {holder} (lock file {lock_path})",
                hint="wait for that run to finish; the lock is released automatically when it exits",
            ) from exc
        try:
            same = os.stat(lock_path).st_ino == os.fstat(fh.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fh
        fh.close()  # the holder we waited on removed this file on release: lock the path's new file


@dataclass
class RunRecord:
    """One JSON record per stage run under LAKE/_runs/: inputs, outputs, counts, failures, timings.

    Attributes:
        stage: stage name (world, validate, transcribe, mine, …).
        run_id: unique id of this run.
        started_at: UTC ISO timestamp.
        inputs / outputs: paths read and written.
        counts: named counters (rows, files, skipped …).
        failures: one dict per failed item, each with at least `item` and `reason`.
        extra: anything stage-specific (model id, metrics).
    """

    stage: str
    run_id: str = field(default_factory=lambda: f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}")
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    finished_at: str | None = None
    wall_s: float | None = None
    status: str = "running"
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    counts: dict[str, float] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    _t0: float = field(default_factory=time.perf_counter, repr=False)

    def fail(self, item: str, reason: str, **more: Any) -> None:
        """Record one failed item with its reason."""
        self.failures.append({"item": item, "reason": reason, **more})

    def finish(self, lake: Lake, status: str | None = None) -> Path:
        """Stamp the end time and status, and write the record atomically under LAKE/_runs/."""
        self.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.wall_s = round(time.perf_counter() - self._t0, 3)
        self.status = status or ("partial" if self.failures else "ok")
        data = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        path = lake.runs / f"{self.stage}-{self.run_id}.json"
        atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return path
