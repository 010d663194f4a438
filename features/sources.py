"""Find the lake's source files, check them, and expose each as one clean DuckDB view `src_<table>`.

A source is every Parquet or CSV file whose path inside the lake has a folder or file name containing the
table name (`raw/transactions/*.parquet`, `transactions_2025.csv` …). Files missing a required column or
holding a column of an unusable type raise a SchemaError naming the file; rows with a null key, an event
time in the future, or a duplicate event id are skipped, counted and reported — never silently used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from cdna.contracts.schemas import SOURCES, SourceSpec
from cdna.core.config import MemoTaxonomy
from cdna.core.duck import scan
from cdna.core.errors import LakeError, SchemaError
from cdna.core.lake import Lake

__all__ = ["SourceReport", "find_files", "register_sources"]

log = logging.getLogger(__name__)


_SQL_TYPE = {"str": "VARCHAR", "num": "DOUBLE", "bool": "BOOLEAN", "time": "TIMESTAMPTZ", "date": "DATE"}


@dataclass
class SourceReport:
    """What one source contributed: files, rows, and rows skipped with their reason.

    Attributes:
        name: table name.
        files: the files read.
        rows: rows in the files.
        skipped: reason -> rows skipped for it.
        note: why the source is empty, when it is.
    """

    name: str
    files: list[str] = field(default_factory=list)
    rows: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    note: str | None = None


def find_files(lake_root: Path, name: str) -> list[Path]:
    """Parquet/CSV files under the lake whose relative path has a part containing `name`."""
    out: list[Path] = []
    if not lake_root.is_dir():
        return out
    derived = Lake(lake_root).derived_areas
    for top in sorted(lake_root.iterdir()):
        if top.name in derived or top.name.startswith("."):
            continue
        candidates = [top] if top.is_file() else sorted(top.rglob("*"))
        for path in candidates:
            if not path.is_file() or path.name.startswith("."):
                continue
            if path.suffix.lower() not in (".parquet", ".csv"):
                continue
            rel = path.relative_to(lake_root)
            if any(name in part for part in rel.parts):
                out.append(path)
    # web_events must not be picked up as "events" of another table and vice versa: exact-name folders win
    return out


def _family(duck_type: str) -> str:
    t = duck_type.upper()
    if t == "BOOLEAN":
        return "bool"
    if t.startswith("TIMESTAMP"):
        return "time"
    if t == "DATE":
        return "date"
    if t in ("VARCHAR", "STRING") or t.startswith("VARCHAR"):
        return "str"
    if any(
        t.startswith(x)
        for x in (
            "TINYINT",
            "SMALLINT",
            "INTEGER",
            "BIGINT",
            "HUGEINT",
            "UTINYINT",
            "USMALLINT",
            "UINTEGER",
            "UBIGINT",
            "FLOAT",
            "DOUBLE",
            "DECIMAL",
            "REAL",
        )
    ):
        return "num"
    return t.lower()


def _reader(path: Path) -> str:
    return scan(path)


def _file_columns(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, str]:
    try:
        rel = con.sql(f"SELECT * FROM {_reader(path)} LIMIT 0")
        return dict(zip(rel.columns, [str(t) for t in rel.types], strict=True))
    except (duckdb.Error, OSError) as exc:
        raise SchemaError(
            f"{path}: not a readable Parquet/CSV table ({exc})",
            hint="replace or remove the file; `cdna validate` checks files before import",
        ) from exc


def _check_file(spec: SourceSpec, path: Path, cols: dict[str, str]) -> None:
    missing = [c for c in spec.required if c not in cols]
    if missing:
        raise SchemaError(
            f"{path}: missing required column(s) {missing} for the {spec.name} features",
            hint=f"{spec.name} needs {', '.join(spec.required)}; map foreign columns with `cdna validate -m MAP`",
        )
    wanted = {**spec.required, **{k: v[0] for k, v in spec.optional.items()}}
    for col, fam in wanted.items():
        if col not in cols:
            continue
        got = _family(cols[col])
        ok = (
            got == fam
            or (fam == "str")
            or (fam == "time" and got == "date")
            or (fam == "date" and got == "time")
            or (fam in ("time", "date", "bool") and got == "str")  # TRY_CAST; failures become null
        )
        if not ok:
            raise SchemaError(
                f"{path}: column {col!r} has type {cols[col]}, which cannot be read as "
                f"{_SQL_TYPE[fam].lower()} ({spec.name} features)",
                hint="fix the column type at import (`cdna validate` converts and rejects bad rows)",
            )


def _lexicon_map(con: duckdb.DuckDBPyConnection, memo: MemoTaxonomy) -> None:
    """Categorise each distinct (memo, merchant) pair once with the config lexicon (first category wins)."""
    pairs = con.sql(
        "SELECT DISTINCT coalesce(memo, '') AS memo, coalesce(merchant, '') AS merchant FROM _txn_base"
    ).fetchall()
    rows = [(m, mer, memo.category_of(f"{m} {mer}")) for m, mer in pairs]
    mapping = pa.table(
        {
            "memo": [r[0] for r in rows],
            "merchant": [r[1] for r in rows],
            "category": pa.array([r[2] for r in rows], pa.string()),
        }
    )
    con.register("_memo_cat_arrow", mapping)
    con.execute("CREATE OR REPLACE TEMP TABLE _memo_cat AS SELECT * FROM _memo_cat_arrow")
    con.unregister("_memo_cat_arrow")


def _register_one(con: duckdb.DuckDBPyConnection, spec: SourceSpec, files: list[Path]) -> SourceReport:
    report = SourceReport(spec.name, [str(f) for f in files])
    view = f"src_{spec.name}"
    cols_out = dict(spec.required)
    cols_out.update({k: v[0] for k, v in spec.optional.items()})
    if not files:
        nulls = ", ".join(f"CAST(NULL AS {_SQL_TYPE[fam]}) AS {c}" for c, fam in cols_out.items())
        ts_col = ", CAST(NULL AS TIMESTAMPTZ) AS ts" if spec.ts and spec.ts != "ts" else ""
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {nulls}{ts_col} WHERE false")
        report.note = "no files in the lake: its features are null/0"
        return report
    per_file = {f: _file_columns(con, f) for f in files}
    for f, cols in per_file.items():
        _check_file(spec, f, cols)
    selects = []
    for f, cols in per_file.items():
        parts = []
        for c, fam in cols_out.items():
            if c in cols:
                cast = "TRY_CAST" if fam in ("time", "date", "bool") and _family(cols[c]) == "str" else "CAST"
                parts.append(f"{cast}({c} AS {_SQL_TYPE[fam]}) AS {c}")
            else:
                default = spec.optional[c][1]
                parts.append(f"CAST({default} AS {_SQL_TYPE[fam]}) AS {c}")
        selects.append(f"SELECT {', '.join(parts)} FROM {_reader(f)}")
    raw = " UNION ALL ".join(selects)
    con.execute(f"CREATE OR REPLACE TEMP VIEW _raw_{spec.name} AS {raw}")
    ts = spec.ts
    checks = ["count(*) AS n", "count(*) FILTER (WHERE customer_id IS NULL) AS null_customer"]
    if ts:
        checks.append(f"count(*) FILTER (WHERE {ts} IS NULL) AS null_time")
        checks.append(f"count(*) FILTER (WHERE {ts} > now()) AS future_time")
    if spec.name == "transactions":
        checks.append("count(*) FILTER (WHERE amount IS NULL OR isnan(amount)) AS null_amount")
    id_cols = [c.strip() for c in (spec.id_column or "").split(",") if c.strip()]
    has_id = bool(id_cols) and all(any(c in cols for cols in per_file.values()) for c in id_cols)
    # 64-bit hashes first (cheap over 70M ids); the exact recount runs only when they show duplicates
    exact = ""
    if has_id and len(id_cols) == 1:
        checks.append(
            f"count({spec.id_column}) - count(DISTINCT hash({spec.id_column})) "
            f"FILTER (WHERE {spec.id_column} IS NOT NULL) AS duplicate_id"
        )
        exact = f"count({spec.id_column}) - count(DISTINCT {spec.id_column})"
    elif has_id:
        checks.append(f"count(*) - count(DISTINCT hash({spec.id_column})) AS duplicate_id")
        exact = f"count(*) - count(DISTINCT ({spec.id_column}))"
    stats = con.execute(f"SELECT {', '.join(checks)} FROM _raw_{spec.name}").fetchall()[0]
    assert stats is not None
    names = [c.split(" AS ")[-1] for c in checks]
    counts = dict(zip(names, [int(x or 0) for x in stats], strict=True))
    if counts.get("duplicate_id"):
        counts["duplicate_id"] = int(
            con.execute(f"SELECT {exact} FROM _raw_{spec.name}").fetchall()[0][0] or 0
        )
    report.rows = counts.pop("n")
    report.skipped = {k: v for k, v in counts.items() if v}
    where = ["customer_id IS NOT NULL"]
    if ts:
        where += [f"{ts} IS NOT NULL", f"{ts} <= now()"]
    if spec.name == "transactions":
        where.append("amount IS NOT NULL AND NOT isnan(amount)")
    body = f"SELECT *{f', {ts} AS ts' if ts and ts != 'ts' else ''} FROM _raw_{spec.name} WHERE {' AND '.join(where)}"
    if has_id and report.skipped.get("duplicate_id"):
        # keep the first copy of each event id (earliest event time) and report the rest as skipped
        order = f"ORDER BY {ts}" if ts else ""
        if len(id_cols) == 1:
            body += f" QUALIFY {spec.id_column} IS NULL OR row_number() OVER (PARTITION BY {spec.id_column} {order}) = 1"
        else:  # signals: one row per (source item, kind, label); keep the strongest
            body += f" QUALIFY row_number() OVER (PARTITION BY {spec.id_column} ORDER BY score DESC) = 1"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS {body}")
    if report.skipped:
        log.warning(
            "%s: skipped %s",
            spec.name,
            ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in report.skipped.items()),
        )
    return report


def register_sources(
    con: duckdb.DuckDBPyConnection, lake_root: Path, memo: MemoTaxonomy, spend_categories_from: str = "auto"
) -> dict[str, SourceReport]:
    """Create `src_<table>` views for every source (empty when the lake lacks it) and `src_transactions_cat`.

    Returns one SourceReport per source; raises LakeError when the lake has no transactions.
    """
    reports: dict[str, SourceReport] = {}
    for spec in SOURCES.values():
        files = find_files(lake_root, spec.name)
        if spec.name == "transactions":
            files = [f for f in files if "web_events" not in str(f.relative_to(lake_root))]
        reports[spec.name] = _register_one(con, spec, files)
        if not files and spec.name in ("signals", "calls", "web_events", "holdings"):
            log.info("%s: no files under %s — its features are null/0", spec.name, lake_root)
    if not reports["transactions"].files:
        # RFM, spend and churn features would all silently become null: refuse instead (issue #8).
        raise LakeError(
            f"{lake_root}: no transactions files found (looked for Parquet/CSV under a folder or file named "
            "'transactions', e.g. raw/transactions/)",
            hint="restore raw/transactions/ or import it with `cdna validate transactions FILE --lake LAKE`",
        )
    con.execute("CREATE OR REPLACE TEMP VIEW _txn_base AS SELECT * FROM src_transactions")
    mode = spend_categories_from
    if mode == "auto":
        has = con.execute(
            "SELECT count(*) FROM (SELECT 1 FROM src_signals WHERE source = 'memo' "
            "AND kind = 'interest' LIMIT 1)"
        ).fetchall()[0]
        mode = "signals" if has and has[0] else "lexicon"
    if mode == "signals":
        con.execute(
            "CREATE OR REPLACE TEMP VIEW src_transactions_cat AS SELECT t.*, m.category FROM _txn_base t LEFT JOIN "
            "(SELECT source_id, arg_max(label, score) AS category FROM src_signals "
            " WHERE source = 'memo' AND kind = 'interest' GROUP BY source_id) m ON m.source_id = t.txn_id"
        )
    else:
        _lexicon_map(con, memo)
        con.execute(
            "CREATE OR REPLACE TEMP VIEW src_transactions_cat AS SELECT t.*, m.category FROM _txn_base t LEFT JOIN "
            "_memo_cat m ON m.memo = coalesce(t.memo, '') AND m.merchant = coalesce(t.merchant, '')"
        )
    reports["transactions"].note = f"spend categories from {mode}"
    return reports
