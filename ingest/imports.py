"""Imports that only add, and explicit replace/drop with a backup (issue 15).

An import never touches existing data: its new rows become one more Parquet part under LAKE/raw/<table>/,
named by import time and the content hash of (file, table, column map), and one line in the import
ledger. The same file imported again is a no-op that says when it was first imported; rows whose key the
table already holds are skipped and counted (never overwritten); a file whose every row is rejected
writes no part. Replacing or dropping a table is a separate call that moves the old parts to a backup
folder (purged by the next retention run) and is written to the ledger too.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from cdna.contracts.schemas import Contract
from cdna.core.errors import InputError, LakeError
from cdna.core.lake import Lake, atomic_write_parquet, partition_lock
from cdna.ingest.lines import DEFAULT_MAX_LINE_BYTES
from cdna.ingest.validate import ColumnMapping, ValidationResult, validate_file

__all__ = [
    "DataChange",
    "ImportReceipt",
    "drop_parts",
    "file_digest",
    "import_file",
    "read_ledger",
    "replace_table",
]


@dataclass(frozen=True)
class ImportReceipt:
    """What one import did.

    Attributes:
        table / source / digest: the table, the file read and its content hash.
        status: imported | already_imported | nothing_new (every valid row's key was there) |
            all_rejected (no valid row: nothing written).
        part: the Parquet part written (imported only).
        rows_added: rows in that part.
        already_present: valid rows skipped because the table holds their key.
        changed: of those, rows whose values differ from the table's (`cdna data replace` changes them).
        result: the validation result (None when the file was already imported).
        previous: the ledger line of the earlier import (already_imported only).
    """

    table: str
    source: Path
    digest: str
    status: str
    part: Path | None = None
    rows_added: int = 0
    already_present: int = 0
    changed: int = 0
    result: ValidationResult | None = None
    previous: dict[str, Any] | None = None


@dataclass(frozen=True)
class DataChange:
    """What a replace or drop did (or, with applied=False, would do).

    Attributes:
        table / action: the table and replace | drop.
        parts: the parts moved out of the table.
        rows_removed: rows in those parts.
        backup: the folder they were moved to (kept until the next retention run).
        part / rows_added: the new part a replace wrote and its rows.
        result: the validation result of a replace.
        applied: False for a plan only (no --yes).
    """

    table: str
    action: str
    parts: list[Path] = field(default_factory=list)
    rows_removed: int = 0
    backup: Path | None = None
    part: Path | None = None
    rows_added: int = 0
    result: ValidationResult | None = None
    applied: bool = False


def file_digest(path: Path, table: str, mapping: ColumnMapping) -> str:
    """SHA-256 of the file's bytes (every Parquet file of a folder), the table and the column map."""
    h = hashlib.sha256()
    h.update(json.dumps([table, mapping.columns, mapping.source_timezone], sort_keys=True).encode())
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        h.update(b"\0" + str(file.relative_to(path) if path.is_dir() else "").encode() + b"\0")
        with open(file, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def read_ledger(lake: Lake, table: str | None = None) -> list[dict[str, Any]]:
    """The import ledger's entries (of one table), oldest first; a torn last line is skipped."""
    path = lake.import_ledger
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a write cut short by a crash: that import wrote no ledger line
        if table is None or entry.get("table") == table:
            out.append(entry)
    return out


def _append_ledger(lake: Lake, entry: dict[str, Any]) -> None:
    path = lake.import_ledger
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _stamp(now: datetime) -> str:
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%S%fZ}"


def _previous_import(lake: Lake, table: str, digest: str) -> dict[str, Any] | None:
    """The earlier import of the same content whose rows are still in the table, if any."""
    entries = read_ledger(lake, table)
    for i in range(len(entries) - 1, -1, -1):
        entry = entries[i]
        if entry.get("action") != "import" or entry.get("digest") != digest:
            continue
        if entry.get("status") == "imported" and (lake.raw(table) / str(entry.get("part"))).exists():
            return entry
        later = entries[i + 1 :]
        if entry.get("status") == "nothing_new" and not any(e.get("action") != "import" for e in later):
            return entry
    return None


def _rows(parts: list[Path]) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in parts)


def _split_new(lake: Lake, spec: Contract, valid: pa.Table) -> tuple[pa.Table, int, int]:
    """Valid rows whose key the table lacks; and how many were there already, and how many of those differ."""
    parts = lake.raw_parts(spec.name)
    if not parts or not spec.key or not valid.num_rows:
        return valid, 0, 0
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("incoming_arrow", valid.append_column("_n", pa.array(range(valid.num_rows), pa.int64())))
        files = "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in parts) + "]"
        have = set(pq.read_schema(parts[0]).names)
        for p in parts[1:]:
            have &= set(pq.read_schema(p).names)
        con.execute(f"CREATE VIEW existing AS SELECT * FROM read_parquet({files}, union_by_name = true)")
        on = " AND ".join(f'e."{k}" = i."{k}"' for k in spec.key)
        new = con.sql(
            f"SELECT * EXCLUDE (_n) FROM incoming_arrow i WHERE NOT EXISTS "
            f"(SELECT 1 FROM existing e WHERE {on}) ORDER BY _n"
        ).to_arrow_table()
        values = [
            f.name
            for f in spec.schema
            if f.name not in spec.key and f.name != "ingested_at" and f.name in have
        ]
        same = " AND ".join(f'e."{c}" IS NOT DISTINCT FROM i."{c}"' for c in values) or "true"
        changed = con.execute(
            f"SELECT count(*) FROM incoming_arrow i WHERE EXISTS (SELECT 1 FROM existing e WHERE {on}) "
            f"AND NOT EXISTS (SELECT 1 FROM existing e WHERE {on} AND {same})"
        ).fetchall()[0][0]
    finally:
        con.close()
    return new.cast(valid.schema), valid.num_rows - new.num_rows, int(changed)


def import_file(
    lake: Lake,
    spec: Contract,
    path: Path,
    mapping: ColumnMapping | None = None,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    now: datetime | None = None,
) -> ImportReceipt:
    """Validate `path` and add its new rows to LAKE/raw/<table>/ as one part; never replaces anything.

    Raises:
        LockedError: another import, replace or drop of this table is running.
    """
    mapping = mapping or ColumnMapping()
    now = now or datetime.now(UTC)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    digest = file_digest(path, spec.name, mapping)
    with partition_lock(lake, f"raw-{spec.name}"):
        previous = _previous_import(lake, spec.name, digest)
        if previous is not None:
            return ImportReceipt(spec.name, path, digest, "already_imported", previous=previous)
        result = validate_file(path, spec, mapping, now, max_line_bytes)
        new, present, changed = _split_new(lake, spec, result.valid)
        part = None
        if new.num_rows:
            status = "imported"
            part = atomic_write_parquet(  # raw zone: names and memos as given, owner-only (issue 14)
                new, lake.raw(spec.name) / f"part-{_stamp(now)}-{digest[:16]}.parquet", private=True
            )
        else:
            status = "nothing_new" if result.valid.num_rows else "all_rejected"
        receipt = ImportReceipt(spec.name, path, digest, status, part, new.num_rows, present, changed, result)
        _append_ledger(
            lake,
            {
                "at": now.isoformat(timespec="seconds"),
                "action": "import",
                "table": spec.name,
                "status": status,
                "source": str(path),
                "digest": digest,
                "part": part.name if part else None,
                "rows_added": new.num_rows,
                "already_present": present,
                "changed": changed,
                "rejected": result.n_rejected,
            },
        )
    return receipt


def _move_to_backup(lake: Lake, table: str, parts: list[Path], action: str, now: datetime) -> Path:
    backup = lake.raw_backup(table, f"{_stamp(now)}-{action}")
    backup.mkdir(parents=True, exist_ok=False)
    for part in parts:
        os.replace(part, backup / part.name)
    return backup


def replace_table(
    lake: Lake,
    spec: Contract,
    path: Path,
    mapping: ColumnMapping | None = None,
    yes: bool = False,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    now: datetime | None = None,
) -> DataChange:
    """Make the valid rows of `path` the whole table; the old parts go to a backup folder.

    Without `yes` nothing changes: the returned plan says what would be moved.

    Raises:
        InputError: the file has no valid row (that would empty the table: drop it explicitly instead).
    """
    mapping = mapping or ColumnMapping()
    now = now or datetime.now(UTC)
    with partition_lock(lake, f"raw-{spec.name}"):
        parts = lake.raw_parts(spec.name)
        if not yes:
            return DataChange(spec.name, "replace", parts, _rows(parts))
        result = validate_file(path, spec, mapping, now, max_line_bytes)
        if not result.valid.num_rows:
            raise InputError(
                f"{path}: no valid row for table {spec.name!r} ({result.n_rejected:,} rejected); "
                "replacing would empty the table, so nothing was changed",
                hint=f"fix the file, or empty the table on purpose with `cdna data drop {spec.name} --yes`",
            )
        digest = file_digest(path, spec.name, mapping)
        removed = _rows(parts)
        backup = _move_to_backup(lake, spec.name, parts, "replace", now) if parts else None
        part = atomic_write_parquet(
            result.valid, lake.raw(spec.name) / f"part-{_stamp(now)}-{digest[:16]}.parquet", private=True
        )
        _append_ledger(
            lake,
            {
                "at": now.isoformat(timespec="seconds"),
                "action": "replace",
                "table": spec.name,
                "source": str(path),
                "digest": digest,
                "part": part.name,
                "rows_added": result.valid.num_rows,
                "rejected": result.n_rejected,
                "moved": [p.name for p in parts],
                "rows_removed": removed,
                "backup": str(backup.relative_to(lake.root)) if backup else None,
            },
        )
    return DataChange(spec.name, "replace", parts, removed, backup, part, result.valid.num_rows, result, True)


def drop_parts(
    lake: Lake, table: str, part: str | None = None, yes: bool = False, now: datetime | None = None
) -> DataChange:
    """Move every part of `table` (or only the part named `part`) to a backup folder.

    Without `yes` nothing changes: the returned plan says what would be moved.

    Raises:
        LakeError: the table has no parts, or no part of that name.
    """
    now = now or datetime.now(UTC)
    with partition_lock(lake, f"raw-{table}"):
        parts = lake.raw_parts(table)
        if part is not None:
            parts = [p for p in parts if p.name == part]
            if not parts:
                raise LakeError(
                    f"table {table!r} has no part named {part!r} in {lake.raw(table)}",
                    hint=f"list the parts with `ls {lake.raw(table)}` or read the ledger {lake.import_ledger}",
                )
        if not parts:
            raise LakeError(f"table {table!r} has no data in {lake.raw(table)}: nothing to drop")
        removed = _rows(parts)
        if not yes:
            return DataChange(table, "drop", parts, removed)
        backup = _move_to_backup(lake, table, parts, "drop", now)
        _append_ledger(
            lake,
            {
                "at": now.isoformat(timespec="seconds"),
                "action": "drop",
                "table": table,
                "moved": [p.name for p in parts],
                "rows_removed": removed,
                "backup": str(backup.relative_to(lake.root)),
            },
        )
    return DataChange(table, "drop", parts, removed, backup, applied=True)
