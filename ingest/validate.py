"""Validated import: read a CSV or Parquet file, map the user's columns, split valid rows from rejects.

A mapping gives, per contract column, a source column name or a DuckDB SQL expression over the source
columns (`_row` is the source line number). Each row failing a rule is rejected with a reason; a file
whose columns cannot serve the contract at all fails with a SchemaError naming the file and column.
"""

from __future__ import annotations

import csv
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from cdna.contracts.schemas import TS, Contract, conform
from cdna.core.errors import InputError, SchemaError
from cdna.ingest.lines import DEFAULT_MAX_LINE_BYTES, copy_without, original_line_numbers, scan_lines

__all__ = ["ColumnMapping", "ValidationResult", "validate_file"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_ ]*$")

_SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "double": "DOUBLE",
    "int16": "SMALLINT",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "bool": "BOOLEAN",
    "date32[day]": "DATE",
}


@dataclass(frozen=True)
class ColumnMapping:
    """How a user's file maps onto a contract.

    Attributes:
        columns: contract column -> source column or DuckDB SQL expression.
        source_timezone: zone of timestamps written without an offset.
    """

    columns: dict[str, str] = field(default_factory=dict)
    source_timezone: str = "Asia/Seoul"


@dataclass
class ValidationResult:
    """Valid rows (conformed to the contract) and rejected rows with their reasons.

    Attributes:
        valid: table conforming to the contract.
        rejects: columns `line`, `reason`, `raw` (the source row as text).
        source: the file read.
    """

    valid: pa.Table
    rejects: pa.Table
    source: Path

    @property
    def n_rejected(self) -> int:
        return self.rejects.num_rows


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_type(typ: pa.DataType) -> str:
    if typ.equals(TS):
        return "TIMESTAMPTZ"
    try:
        return _SQL_TYPES[str(typ)]
    except KeyError:
        raise SchemaError(f"contract type {typ} cannot be imported from a flat file") from None


def _load_source(
    con: duckdb.DuckDBPyConnection, path: Path, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
) -> tuple[list[str], pa.Table]:
    """Create view `src` with every column as text plus `_row`; return source columns and format rejects."""
    suffix = "".join(path.suffixes).lower()
    lit = "'" + str(path).replace("'", "''") + "'"
    empty_rejects = pa.table(
        {
            "line": pa.array([], pa.int64()),
            "reason": pa.array([], pa.string()),
            "raw": pa.array([], pa.string()),
        }
    )
    if path.is_dir() or suffix.endswith(".parquet"):
        pattern = lit if path.is_file() else "'" + str(path / "**" / "*.parquet").replace("'", "''") + "'"
        try:
            con.execute(f"CREATE VIEW src_typed AS SELECT * FROM read_parquet({pattern})")
            cols = [r[0] for r in con.execute("DESCRIBE src_typed").fetchall()]
        except duckdb.Error as exc:
            raise InputError(f"{path}: not a readable Parquet file ({exc})") from exc
        casts = ", ".join(f"CAST({_quote(c)} AS VARCHAR) AS {_quote(c)}" for c in cols)
        con.execute(f"CREATE VIEW src AS SELECT {casts}, row_number() OVER () AS _row FROM src_typed")
        return cols, empty_rejects
    if not any(suffix.endswith(s) for s in (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz")):
        raise InputError(
            f"{path}: unsupported file type {suffix or '(none)'}", hint="give a .csv, .tsv or .parquet file"
        )
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty", hint="a CSV needs a header line and rows")
    scan = scan_lines(path, max_line_bytes)
    removed = [long.line for long in scan.long_lines]
    with tempfile.TemporaryDirectory(prefix="cdna-import-") as tmp:
        if scan.long_lines:  # the parser never sees an over-long line (issue 15)
            lit = "'" + str(copy_without(path, scan.long_lines, Path(tmp) / "rows.csv")).replace("'", "''")
            lit += "'"
        try:
            dialect = con.execute(f"SELECT Delimiter, Quote FROM sniff_csv({lit})").fetchall()[0]
            _check_header(path, scan.header, str(dialect[0]), str(dialect[1]))
            con.execute(
                f"CREATE TABLE src_raw AS SELECT * FROM read_csv({lit}, all_varchar=true, header=true, "
                f"store_rejects=true, auto_detect=true, max_line_size={max(max_line_bytes + 2, 2 << 20)})"
            )
            cols = [r[0] for r in con.execute("DESCRIBE src_raw").fetchall()]
            rej = con.execute(
                "SELECT line, error_type, error_message, csv_line FROM reject_errors ORDER BY line"
            ).fetchall()
        except duckdb.Error as exc:
            raise InputError(f"{path}: not a readable CSV file ({exc})") from exc
    copy_lines = sorted({int(r[0]) for r in rej})
    bad_lines = original_line_numbers(np.array(copy_lines, dtype=np.int64), removed)
    n = con.execute("SELECT count(*) FROM src_raw").fetchall()[0][0]
    # DuckDB keeps file order; the k-th parsed row sits on the k-th line that is neither header nor rejected.
    all_lines = np.arange(2, 2 + n + len(copy_lines), dtype=np.int64)
    kept = np.setdiff1d(all_lines, np.array(copy_lines, dtype=np.int64))[:n]
    lines = original_line_numbers(kept, removed)
    con.register("_lines", pa.table({"_k": np.arange(1, n + 1, dtype=np.int64), "_row": lines}))
    con.execute(
        "CREATE VIEW src AS SELECT s.*, l._row FROM "
        "(SELECT *, row_number() OVER () AS _k FROM src_raw) s JOIN _lines l USING (_k)"
    )
    seen: dict[int, list[str]] = {}
    raw_text: dict[int, str] = {}
    to_original = dict(zip(copy_lines, bad_lines.tolist(), strict=True))
    for copy_line, etype, msg, csv_line in rej:
        line = to_original[int(copy_line)]
        if line not in seen:  # DuckDB reports one error per missing column; one reason is enough
            seen[line] = [f"malformed CSV row: {str(etype).lower()} ({msg})"]
        raw_text[line] = csv_line or ""
    for long in scan.long_lines:
        seen[long.line] = [f"line longer than {max_line_bytes:,} bytes ({long.length:,} bytes): not read"]
        raw_text[long.line] = long.preview()
    rejects = pa.table(
        {
            "line": pa.array(list(seen), pa.int64()),
            "reason": pa.array(["; ".join(v) for v in seen.values()], pa.string()),
            "raw": pa.array([raw_text[k] for k in seen], pa.string()),
        }
    )
    return cols, rejects


def _check_header(path: Path, header: bytes, delimiter: str, quote: str) -> None:
    """Refuse a header with an empty or repeated column name: which column is meant would be a guess."""
    text = header.decode("utf-8", errors="replace")
    quotechar = quote if len(quote) == 1 else '"'
    names = next(csv.reader([text], delimiter=delimiter if len(delimiter) == 1 else ",", quotechar=quotechar))
    unnamed = [str(i) for i, name in enumerate(names, start=1) if not name.strip()]
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(names, start=1):
        if name.strip():  # DuckDB column names are case-insensitive: Amount and amount collide
            positions.setdefault(name.strip().casefold(), []).append(i)
    repeated = [
        f"{names[p[0] - 1].strip()!r} (columns {', '.join(map(str, p))})"
        for p in positions.values()
        if len(p) > 1
    ]
    problems = []
    if repeated:
        problems.append(f"repeated column name(s) {'; '.join(repeated)}")
    if unnamed:
        problems.append(f"column(s) {', '.join(unnamed)} without a name")
    if problems:
        raise InputError(
            f"{path}: header line has {' and '.join(problems)}",
            hint="give every column one unique name in the header line, then import again",
        )


def _target_expr(
    col: str, mapping: ColumnMapping, source_cols: list[str], spec: Contract, path: Path
) -> str | None:
    expr = mapping.columns.get(col)
    if expr is None:
        if col in source_cols:
            return _quote(col)
        field_ = spec.schema.field(col)
        if field_.nullable:
            return None
        raise SchemaError(
            f"{path}: required column {col!r} of table {spec.name!r} is not in the file "
            f"(columns found: {', '.join(source_cols)})",
            hint=f"rename the column or map it with --map {col}=SOURCE_COLUMN (or a column map in configs/)",
        )
    if _IDENT.match(expr) and expr not in source_cols and expr.upper() not in {"NULL", "TRUE", "FALSE"}:
        raise SchemaError(
            f"{path}: column map sends {col!r} to source column {expr!r}, which is not in the file "
            f"(columns found: {', '.join(source_cols)})"
        )
    if _IDENT.match(expr) and expr in source_cols:
        return _quote(expr)
    return f"({expr})"


def validate_file(
    path: Path,
    spec: Contract,
    mapping: ColumnMapping | None = None,
    now: datetime | None = None,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> ValidationResult:
    """Read `path`, map its columns onto `spec`, and split rows into valid rows and rejects with reasons.

    Lines longer than `max_line_bytes` are rejected rows; the file is streamed past them.
    """
    mapping = mapping or ColumnMapping()
    now = now or datetime.now(UTC)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    unknown = set(mapping.columns) - set(spec.schema.names)
    if unknown:
        raise SchemaError(
            f"column map names {sorted(unknown)}, which table {spec.name!r} does not have",
            hint=f"{spec.name} columns: {', '.join(spec.schema.names)}",
        )
    con = duckdb.connect()
    try:
        con.execute(f"SET TimeZone = '{mapping.source_timezone}'")
        source_cols, format_rejects = _load_source(con, path, max_line_bytes)
        selects, checks = [], []
        for f in spec.schema:
            expr = _target_expr(f.name, mapping, source_cols, spec, path)
            q = _quote(f.name)
            raw_q = _quote("_raw_" + f.name)
            if expr is None:
                selects.append(f"CAST(NULL AS {_sql_type(f.type)}) AS {q}")
                selects.append(f"CAST(NULL AS VARCHAR) AS {raw_q}")
                continue
            text = f"NULLIF(TRIM(CAST({expr} AS VARCHAR)), '')"
            selects.append(f"TRY_CAST({text} AS {_sql_type(f.type)}) AS {q}")
            selects.append(f"{text} AS {raw_q}")
            kind = (
                "date/time"
                if f.type.equals(TS) or pa.types.is_date(f.type)
                else "number"
                if pa.types.is_floating(f.type)
                else "whole number"
                if pa.types.is_integer(f.type)
                else str(f.type)
            )
            checks.append(
                f"CASE WHEN {raw_q} IS NOT NULL AND {q} IS NULL THEN "
                f"'bad {f.name}: ''' || {raw_q} || ''' is not a valid {kind}' END"
            )
            if not f.nullable:
                checks.append(f"CASE WHEN {raw_q} IS NULL THEN 'missing {f.name}' END")
        for col, allowed in spec.enums.items():
            values = ", ".join("'" + v + "'" for v in allowed)
            checks.append(
                f"CASE WHEN {_quote(col)} IS NOT NULL AND {_quote(col)} NOT IN ({values}) THEN "
                f"'bad {col}: ''' || {_quote(col)} || ''' is not one of {', '.join(allowed)}' END"
            )
        for col in spec.non_negative:
            checks.append(
                f"CASE WHEN {_quote(col)} < 0 THEN 'negative {col}: ' || CAST({_quote(col)} AS VARCHAR) END"
            )
        for f in spec.schema:
            if f.type.equals(TS):
                checks.append(
                    f"CASE WHEN {_quote(f.name)} > TIMESTAMPTZ '{now.isoformat()}' THEN "
                    f"'{f.name} in the future: ' || CAST({_quote(f.name)} AS VARCHAR) END"
                )
        if spec.key:
            key = ", ".join(_quote(k) for k in spec.key)
            checks.append(
                f"CASE WHEN row_number() OVER (PARTITION BY {key} ORDER BY _row) > 1 "
                f"THEN 'duplicate {'+'.join(spec.key)} (first seen on an earlier line)' END"
            )
        raw_cols = " || ',' || ".join(f"COALESCE(CAST({_quote(c)} AS VARCHAR), '')" for c in source_cols)
        try:
            con.execute(
                f"CREATE TABLE mapped AS SELECT {', '.join(selects)}, _row, {raw_cols} AS _raw FROM src"
            )
        except duckdb.Error as exc:
            raise SchemaError(f"{path}: the column map does not apply to this file ({exc})") from exc
        reason = f"concat_ws('; ', {', '.join(checks)})" if checks else "''"
        con.execute(f"CREATE TABLE checked AS SELECT *, {reason} AS _reason FROM mapped")
        names = ", ".join(_quote(f.name) for f in spec.schema)
        valid = con.sql(f"SELECT {names} FROM checked WHERE _reason = '' ORDER BY _row").to_arrow_table()
        row_rejects = con.sql(
            "SELECT CAST(_row AS BIGINT) AS line, _reason AS reason, _raw AS raw FROM checked "
            "WHERE _reason <> '' ORDER BY _row"
        ).to_arrow_table()
    finally:
        con.close()
    valid = _to_utc(valid)
    rejects = pa.concat_tables([format_rejects, row_rejects.cast(format_rejects.schema)]).sort_by("line")
    return ValidationResult(conform(valid, spec, str(path)), rejects, path)


def _to_utc(table: pa.Table) -> pa.Table:
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(TS))
    return table
