"""The registry read straight from the lake's `mlflow.db` with sqlite3, for one-shot lookups.

Importing MLflow costs seconds; `cdna models list` and `cdna recommend CUSTOMER` only read versions,
aliases, metrics and tags, which are plain rows (issue 18: a lookup must answer in under 3 s). Writes
(register, promote, rollback) still go through MLflow in `recommend.registry`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cdna.recommend.registry import VersionInfo

__all__ = ["read_alias", "read_versions"]


def _connect(db: Path) -> sqlite3.Connection | None:
    if not db.is_file():
        return None
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True)


def read_alias(db: Path, name: str, alias: str) -> int | None:
    """The version holding `alias` of registered model `name`, or None."""
    con = _connect(db)
    if con is None:
        return None
    try:
        row = con.execute(
            "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?", (name, alias)
        ).fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        con.close()
    return int(row[0]) if row else None


def read_versions(db: Path, name: str) -> list[VersionInfo]:
    """Every version of `name`, newest first, with aliases, its run's latest metrics and tags."""
    con = _connect(db)
    if con is None:
        return []
    try:
        versions = con.execute(
            "SELECT version, run_id, creation_time FROM model_versions WHERE name = ? "
            "AND current_stage != 'Deleted_Internal' ORDER BY version DESC",
            (name,),
        ).fetchall()
        aliases: dict[int, list[str]] = {}
        for alias, version in con.execute(
            "SELECT alias, version FROM registered_model_aliases WHERE name = ?", (name,)
        ):
            aliases.setdefault(int(version), []).append(alias)
        out = []
        for version, run_id, created in versions:
            metrics = {
                k.replace("_at_", "@"): float(v)
                for k, v in con.execute("SELECT key, value FROM latest_metrics WHERE run_uuid = ?", (run_id,))
            }
            tags = dict(con.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,)).fetchall())
            out.append(
                VersionInfo(
                    int(version),
                    str(run_id),
                    tuple(sorted(aliases.get(int(version), []))),
                    int(created),
                    metrics,
                    tags,
                )
            )
        return out
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()
