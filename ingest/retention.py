"""Retention: purge raw audio, unmasked transcripts and old run logs past the configured age.

Backups of replaced or dropped raw tables (LAKE/_backups/) go at the first retention run after the change.

Masked signals, features and recommendations are never purged here. A transcript partition is purged
only once its date has been mined (LAKE/signals/date=D exists), so no evidence is lost before it is
extracted.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from cdna.core.config import RetentionConfig
from cdna.core.lake import Lake

__all__ = ["PurgeItem", "PurgePlan", "apply_purge", "plan_purge"]

_DATE_DIR = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
_RUN_DATE = re.compile(r"-(\d{8})T\d{6}Z")
_BACKUP_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})T")


@dataclass(frozen=True)
class PurgeItem:
    """One folder or file to delete, with why."""

    kind: str  # audio | transcripts | runs | backups
    path: Path
    day: date
    bytes: int
    reason: str


@dataclass
class PurgePlan:
    """What a purge removes (or would remove in a dry run), and what it kept on purpose."""

    as_of: date
    items: list[PurgeItem] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, float]]:
        """Counts and bytes per kind."""
        out: dict[str, dict[str, float]] = {}
        for item in self.items:
            entry = out.setdefault(item.kind, {"items": 0, "bytes": 0})
            entry["items"] += 1
            entry["bytes"] += item.bytes
        return out


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _partitions(folder: Path) -> list[tuple[date, Path]]:
    out = []
    if folder.is_dir():
        for child in sorted(folder.iterdir()):
            m = _DATE_DIR.match(child.name)
            if m and child.is_dir():
                out.append((date.fromisoformat(m.group(1)), child))
    return out


def plan_purge(lake: Lake, cfg: RetentionConfig, as_of: date, today: date | None = None) -> PurgePlan:
    """List what is older than the limits: data partitions by their age at `as_of`, run logs at `today`.

    A partition whose age is at least N days goes, so `keep_raw_days: 0` purges everything up to as_of.
    """
    plan = PurgePlan(as_of)
    today = today or datetime.now(UTC).date()
    mined = {d for d, _ in _partitions(lake.signals)}
    for day, path in _partitions(lake.audio):
        age = (as_of - day).days
        if age >= cfg.keep_raw_days:
            plan.items.append(
                PurgeItem("audio", path, day, _size(path), f"older than keep_raw_days={cfg.keep_raw_days}")
            )
    keep_text = min(cfg.keep_raw_days, cfg.keep_transcripts_days)
    for day, path in _partitions(lake.transcripts):
        age = (as_of - day).days
        if age < keep_text:
            continue
        if day not in mined:
            plan.kept.append((str(path), "not mined yet: kept until `cdna mine` has extracted its signals"))
            continue
        plan.items.append(
            PurgeItem("transcripts", path, day, _size(path), f"unmasked text older than {keep_text} day(s)")
        )
    # data moved aside by `cdna data replace|drop` is kept until the next retention run, whatever its age
    for path in lake.raw_backup_dirs():
        m = _BACKUP_DATE.match(path.name)
        stamp = date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else today
        plan.items.append(
            PurgeItem(
                "backups",
                path,
                stamp,
                _size(path),
                f"backup of {path.parent.name} kept until this retention run",
            )
        )
    if lake.runs.is_dir():
        for path in sorted(lake.runs.iterdir()):
            m = _RUN_DATE.search(path.name)
            if not m:
                continue
            raw = m.group(1)
            day = date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
            if (today - day).days >= cfg.keep_runs_days:
                plan.items.append(
                    PurgeItem(
                        "runs",
                        path,
                        day,
                        _size(path),
                        f"run log older than keep_runs_days={cfg.keep_runs_days}",
                    )
                )
    return plan


def apply_purge(plan: PurgePlan) -> int:
    """Delete everything in the plan; returns the number of items removed."""
    removed = 0
    for item in plan.items:
        if item.path.is_dir():
            shutil.rmtree(item.path, ignore_errors=False)
        elif item.path.exists():
            item.path.unlink()
        removed += 1
    return removed
