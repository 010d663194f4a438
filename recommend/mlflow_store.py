"""Keep a lake's MLflow store usable wherever the lake lives: artifact paths follow the lake when it moves.

MLflow stores absolute artifact URIs (it resolves even relative ones when an experiment is created), so a
copied or restored lake pointed back at the original folder and broke once that was gone (issue 18).
`relocate` rewrites every stored URI under the old lake root to the current one, once, when they differ.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["ARTIFACTS", "pin_default_experiment", "relocate", "stored_root"]

ARTIFACTS = "mlartifacts"
_EXPERIMENT = "cdna-recommend"


def _uri(root: Path) -> str:
    return (root / ARTIFACTS).as_uri()


def stored_root(db: Path) -> str | None:
    """The artifact root URI recorded for the recommender's experiment (None when there is none yet)."""
    if not db.is_file():
        return None
    con = sqlite3.connect(db)
    try:
        row = con.execute(
            "SELECT artifact_location FROM experiments WHERE name = ?", (_EXPERIMENT,)
        ).fetchone()
    except sqlite3.OperationalError:  # an empty file or no MLflow schema yet
        return None
    finally:
        con.close()
    return str(row[0]) if row and row[0] else None


def relocate(db: Path, lake_root: Path) -> int:
    """Point every artifact URI in `db` at `lake_root`/mlartifacts; returns how many values changed."""
    old = stored_root(db)
    new = _uri(lake_root)
    if old is None or old.rstrip("/") == new:
        return 0
    old = old.rstrip("/")
    variants = [old, old.removeprefix("file://")] if old.startswith("file://") else [old]
    changed = 0
    con = sqlite3.connect(db)
    try:
        with con:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                cols = [
                    r[1]
                    for r in con.execute(f'PRAGMA table_info("{table}")')
                    if "CHAR" in str(r[2]).upper() or "TEXT" in str(r[2]).upper()
                ]
                for col in cols:
                    for prefix in variants:
                        target = new if prefix.startswith("file://") else new.removeprefix("file://")
                        cur = con.execute(
                            f'UPDATE "{table}" SET "{col}" = ? || substr("{col}", ?) '
                            f'WHERE substr("{col}", 1, ?) = ?',
                            (target, len(prefix) + 1, len(prefix), prefix),
                        )
                        changed += cur.rowcount
    finally:
        con.close()
    pin_default_experiment(db, lake_root)
    return changed


def pin_default_experiment(db: Path, lake_root: Path) -> None:
    """Keep MLflow's Default experiment inside the lake (it records the first command's working directory)."""
    new = _uri(lake_root)
    con = sqlite3.connect(db)
    try:
        with con:
            con.execute(
                "UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0 "
                "AND substr(artifact_location, 1, ?) != ?",
                (new + "/0", len(new), new),
            )
    except sqlite3.OperationalError:
        pass  # not an MLflow store yet
    finally:
        con.close()
