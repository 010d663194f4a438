"""Building DuckDB SQL from file paths safely: one quoting rule for every scan and COPY (issue 12)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = ["copy_to", "scan", "sql_literal"]


def sql_literal(value: str | Path) -> str:
    """A single-quoted SQL string literal (quotes doubled), e.g. for a path or a time zone name."""
    return "'" + str(value).replace("'", "''") + "'"


def scan(paths: str | Path | Iterable[str | Path], *, hive: bool = False, union_by_name: bool = False) -> str:
    """`read_parquet(...)` (or `read_csv(...)` for .csv files) over one path, glob or list, quoted.

    Args:
        paths: a file, a glob pattern, or several of them (all Parquet, or one CSV).
        hive: read `key=value` folder names as columns.
        union_by_name: align columns by name across files with different schemas.
    """
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    if len(items) == 1 and str(items[0]).lower().endswith(".csv"):
        return f"read_csv({sql_literal(items[0])}, header = true, auto_detect = true)"
    target = (
        sql_literal(items[0]) if len(items) == 1 else "[" + ", ".join(sql_literal(p) for p in items) + "]"
    )
    opts = f", hive_partitioning = {str(hive).lower()}"
    if union_by_name:
        opts += ", union_by_name = true"
    return f"read_parquet({target}{opts})"


def copy_to(select_sql: str, path: str | Path, options: str = "FORMAT parquet") -> str:
    """`COPY (select) TO 'path' (options)` with the path quoted."""
    return f"COPY ({select_sql}) TO {sql_literal(path)} ({options})"
