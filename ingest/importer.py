"""Column maps from configs or the command line, and the human-readable rejects file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa

from cdna.core.config import Config, configs_dir, load_yaml
from cdna.core.errors import ConfigError
from cdna.ingest.validate import ColumnMapping

__all__ = ["load_mapping", "rejects_csv"]


def load_mapping(config: Config, table: str, name: str | None, pairs: list[str]) -> ColumnMapping:
    """Build the column map: config `ingest.column_maps[table]`, then a named/YAML map, then --map pairs."""
    columns = dict(config.ingest.column_maps.get(table, {}))
    tz = "Asia/Seoul"
    if name:
        path = Path(name)
        if not path.exists():
            rel = config.ingest.column_map_files.get(name)
            if rel is None:
                raise ConfigError(
                    f"unknown column map {name!r}",
                    hint=f"use a YAML file path or one of: {', '.join(config.ingest.column_map_files) or '(none)'}",
                )
            path = configs_dir() / rel
        data = load_yaml(path)
        if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
            raise ConfigError(f"{path}: a column map needs a `columns:` mapping of target: source")
        if data.get("table", table) != table:
            raise ConfigError(f"{path}: this map is for table {data['table']!r}, not {table!r}")
        columns.update({str(k): str(v) for k, v in data["columns"].items()})
        tz = str(data.get("source_timezone", tz))
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"--map {pair!r}: expected TARGET=SOURCE, e.g. --map customer_id=CustomerID")
        k, v = pair.split("=", 1)
        columns[k.strip()] = v.strip()
    return ColumnMapping(columns=columns, source_timezone=tz)


def rejects_csv(rejects: pa.Table, source: Path) -> str:
    """Rejected rows as CSV text: file, line, reason, raw."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["file", "line", "reason", "raw"])
    for line, reason, raw in zip(
        rejects.column("line").to_pylist(),
        rejects.column("reason").to_pylist(),
        rejects.column("raw").to_pylist(),
        strict=True,
    ):
        writer.writerow([str(source), line, reason, raw])
    return buf.getvalue()
