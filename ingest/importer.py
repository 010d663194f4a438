"""Column maps from configs or the command line, and the human-readable rejects file."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from cdna.core.config import Config, configs_dir, load_yaml
from cdna.core.errors import ConfigError
from cdna.ingest.validate import ColumnMapping

__all__ = ["load_mapping", "rejects_csv", "spreadsheet_safe", "withhold_values"]


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


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet shows as text: one leading quote before a formula-like start (OWASP CSV injection)."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


_QUOTED = re.compile(r"'(?:[^']|'')*'")


def withhold_values(text: str) -> str:
    """A reject reason with the quoted cell values left out ("bad amount: '…' is not a valid number")."""
    return _QUOTED.sub("'…'", text)


def rejects_csv(rejects: pa.Table, source: Path, redact: Callable[[str], str] | None = None) -> str:
    """Rejected rows as CSV text: file, line, reason, raw; formula-like cells are escaped.

    Nothing unmasked is written (issue 14): reasons and raw rows go through `redact` (the CLI passes the
    PII masker); without one, the raw row is left out (file and line name it) and quoted values in reasons
    are withheld.
    """
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["file", "line", "reason", "raw"])
    for line, reason, raw in zip(
        rejects.column("line").to_pylist(),
        rejects.column("reason").to_pylist(),
        rejects.column("raw").to_pylist(),
        strict=True,
    ):
        # people open reject files in spreadsheets: a raw `=HYPERLINK(…)` must stay text (issue 15)
        reason = redact(reason) if redact else withhold_values(reason)
        raw = redact(raw or "") if redact else ""
        writer.writerow(
            [spreadsheet_safe(str(source)), line, spreadsheet_safe(reason), spreadsheet_safe(raw)]
        )
    return buf.getvalue()
