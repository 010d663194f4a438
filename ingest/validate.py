"""Validated import: read a CSV or Parquet file, map the user's columns, split valid rows from rejects.

A mapping gives, per contract column, a source column name or a DuckDB SQL expression over the source
columns (`_row` is the source line number). Each row failing a rule is rejected with a reason; a file
whose columns cannot serve the contract at all fails with a SchemaError naming the file and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from cdna.contracts.schemas import TS, Contract, conform
from cdna.core.errors import InputError, SchemaError

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


def _load_source(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[list[str], pa.Table]:
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
    try:
        con.execute(
            f"CREATE TABLE src_raw AS SELECT * FROM read_csv({lit}, all_varchar=true, header=true, "
            "store_rejects=true, auto_detect=true)"
        )
        cols = [r[0] for r in con.execute("DESCRIBE src_raw").fetchall()]
        rej = con.execute(
            "SELECT line, error_type, error_message, csv_line FROM reject_errors ORDER BY line"
        ).fetchall()
    except duckdb.Error as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc})") from exc
    bad_lines = sorted({int(r[0]) for r in rej})
    n = con.execute("SELECT count(*) FROM src_raw").fetchall()[0][0]
    # DuckDB keeps file order; the k-th parsed row sits on the k-th line that is neither header nor rejected.
    all_lines = np.arange(2, 2 + n + len(bad_lines), dtype=np.int64)
    lines = np.setdiff1d(all_lines, np.array(bad_lines, dtype=np.int64))[:n]
    con.register("_lines", pa.table({"_k": np.arange(1, n + 1, dtype=np.int64), "_row": lines}))
    con.execute(
        "CREATE VIEW src AS SELECT s.*, l._row FROM "
        "(SELECT *, row_number() OVER () AS _k FROM src_raw) s JOIN _lines l USING (_k)"
    )
    seen: dict[int, list[str]] = {}
    raw_text: dict[int, str] = {}
    for line, etype, msg, csv_line in rej:
        if int(line) not in seen:  # DuckDB reports one error per missing column; one reason is enough
            seen[int(line)] = [f"malformed CSV row: {str(etype).lower()} ({msg})"]
        raw_text[int(line)] = csv_line or ""
    rejects = pa.table(
        {
            "line": pa.array(list(seen), pa.int64()),
            "reason": pa.array(["; ".join(v) for v in seen.values()], pa.string()),
            "raw": pa.array([raw_text[k] for k in seen], pa.string()),
        }
    )
    return cols, rejects


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
    path: Path, spec: Contract, mapping: ColumnMapping | None = None, now: datetime | None = None
) -> ValidationResult:
    """Read `path`, map its columns onto `spec`, and split rows into valid rows and rejects with reasons."""
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
        source_cols, format_rejects = _load_source(con, path)
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
