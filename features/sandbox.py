"""The analyst SQL sandbox behind `cdna features sql` (issue #14 item 3).

Analysts query the lake's masked tables, nothing else. Every table is handed to DuckDB as an Arrow
dataset whose schema lists only the columns an analyst may see, and DuckDB itself is then locked with
external access disabled (`enable_external_access=false`, `lock_configuration=true`): it cannot open any
file (no `read_csv('/etc/passwd')`, no COPY/ATTACH/EXPORT/INSTALL/LOAD), because the data reaches it through
Arrow and never through its own file system. Only one SELECT statement is accepted; results are capped at
`max_rows` and the query is interrupted after `timeout_s`.

Tables:
    <view>          the offline store's feature views (LAKE/features/<view>/date=D/), `date` column from the path
    snapshots       whole feature snapshots (LAKE/snapshots/date=D/)
    signal_events   mined, masked intent/interest/complaint signals (LAKE/signals/date=D/)
    raw_<table>     raw tables without their free-text columns (no memo, merchant or file paths)

Never exposed: transcripts/ (unmasked text), audio/, audit/, _truth/, _rejects/, _runs/ and raw text columns.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from cdna.core.errors import InputError
from cdna.core.lake import Lake

__all__ = [
    "FREE_TEXT_COLUMNS",
    "SandboxError",
    "SandboxOptions",
    "SandboxResult",
    "SandboxTable",
    "run_sandboxed",
    "sandbox_tables",
]

# Raw columns holding free text or file paths: names, phone numbers and account numbers live here (issue #14).
FREE_TEXT_COLUMNS = frozenset({"memo", "merchant", "audio_path", "text", "raw", "note", "notes"})
_RAW_TABLES = ("customers", "products", "holdings", "transactions", "web_events", "calls")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_ALLOWED_STATEMENTS = {"SELECT"}


class SandboxError(InputError):
    """A query the analyst sandbox refuses (not one SELECT, touches files, too slow); exit code 2."""


@dataclass(frozen=True)
class SandboxOptions:
    """Limits of one sandboxed query.

    Attributes:
        max_rows: rows returned at most (the result says when it was cut).
        timeout_s: seconds before the query is interrupted.
        threads: DuckDB threads.
        memory_limit: DuckDB memory limit (it spills nothing: temp files are disabled with external access).
    """

    max_rows: int = 10_000
    timeout_s: float = 60.0
    threads: int = 2
    memory_limit: str = "2GB"


@dataclass(frozen=True)
class SandboxResult:
    """A sandboxed query's answer.

    Attributes:
        table: the rows (at most `max_rows`).
        truncated: whether more rows existed.
        tables: the table names the sandbox offered.
    """

    table: pa.Table
    truncated: bool
    tables: tuple[str, ...]


@dataclass(frozen=True)
class SandboxTable:
    """One table the sandbox offers.

    Attributes:
        parts: Arrow datasets (a raw table has one per import part; the others one).
        key: the contract's key; rows of later parts with a key already seen are dropped, as every stage
            reads raw parts (`cdna.contracts.parts`).
    """

    parts: tuple[ds.Dataset, ...]
    key: tuple[str, ...] = ()

    @property
    def schema(self) -> pa.Schema:
        """The columns an analyst sees."""
        return self.parts[0].schema


def _parquet_files(folder: Path, pattern: str) -> list[Path]:
    return sorted(p for p in folder.glob(pattern) if p.is_file() and not p.name.startswith("."))


def _visible(files: list[Path], hidden: frozenset[str], extra: pa.Field | None = None) -> pa.Schema:
    schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
    if extra is not None and extra.name not in schema.names:
        schema = schema.append(extra)
    return pa.schema([f for f in schema if f.name not in hidden and not f.name.startswith("_")])


def _partitioned(files: list[Path]) -> SandboxTable | None:
    """A store folder of `date=D/*.parquet` files as one dataset; the partition becomes a `date` column."""
    if not files:
        return None
    date_field = pa.field("date", pa.date32())
    return SandboxTable(
        (
            ds.dataset(
                [str(f) for f in files],
                schema=_visible(files, frozenset(), date_field),
                format="parquet",
                partitioning=ds.partitioning(pa.schema([date_field]), flavor="hive"),
                partition_base_dir=str(files[0].parent.parent),
            ),
        )
    )


def _raw(files: list[Path], key: tuple[str, ...]) -> SandboxTable | None:
    """A raw table's parts, each without the free-text columns (one schema for all)."""
    if not files:
        return None
    schema = _visible(files, FREE_TEXT_COLUMNS)
    parts = tuple(ds.dataset(str(f), schema=schema, format="parquet") for f in files)
    return SandboxTable(parts, key if len(parts) > 1 else ())


def sandbox_tables(lake: Lake) -> dict[str, SandboxTable]:
    """Name -> table of everything the sandbox offers (masked tables, raw tables without free text)."""
    from cdna.contracts.schemas import CONTRACTS, PARTNERS

    keys = {c.name: c.key for c in CONTRACTS.values()} | {c.name: c.key for _, c in PARTNERS.values()}
    out: dict[str, SandboxTable] = {}
    feats = lake.features
    for folder in sorted(feats.iterdir()) if feats.is_dir() else []:
        if folder.is_dir() and _IDENT.match(folder.name):
            t = _partitioned(_parquet_files(folder, "date=*/*.parquet"))
            if t is not None:
                out[folder.name] = t
    for name, folder in (("snapshots", lake.snapshots), ("signal_events", lake.signals)):
        t = _partitioned(_parquet_files(folder, "date=*/*.parquet"))
        if t is not None and name not in out:
            out[name] = t
    tables = [*_RAW_TABLES]
    if lake.raw_root.is_dir():
        tables += sorted(
            p.name for p in lake.raw_root.iterdir() if p.is_dir() and p.name.startswith("partner_")
        )
    for table in tables:
        t = _raw(lake.raw_parts(table), keys.get(table, ()))
        if t is not None and _IDENT.match(table):
            out[f"raw_{table}"] = t
    return out


def _check_statement(con: duckdb.DuckDBPyConnection, sql: str, names: str) -> None:
    """Refuse anything but exactly one SELECT (COPY, ATTACH, INSTALL, LOAD, EXPORT, SET, PRAGMA, CREATE …)."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise SandboxError(f"SQL error: {exc}", hint=f"tables: {names}") from exc
    if len(statements) != 1:
        raise SandboxError(
            f"the sandbox runs exactly one SELECT statement; got {len(statements)}",
            hint="send one query (no `;`-separated statements)",
        )
    kind = statements[0].type.name
    if kind not in _ALLOWED_STATEMENTS:
        word = (
            sql.strip().split(None, 1)[0].upper()
        )  # INSTALL parses as a LOAD statement: name what was typed
        raise SandboxError(
            f"{word} statements are not allowed in the analyst sandbox: it is read-only and cannot reach "
            "files, other databases or extensions",
            hint=f"write one SELECT over the lake's tables: {names}",
        )


def _connect(tables: dict[str, SandboxTable], opts: SandboxOptions) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": opts.threads, "memory_limit": opts.memory_limit})
    con.execute("SET TimeZone = 'UTC'")
    for name, table in tables.items():
        if len(table.parts) == 1:
            con.register(name, table.parts[0])
            continue
        scans = []
        for i, part in enumerate(table.parts):
            con.register(f"_{name}_part{i}", part)
            scans.append(f"SELECT *, {i} AS _part FROM _{name}_part{i}")
        body = " UNION ALL BY NAME ".join(scans)
        keep = ""
        if table.key:  # one row per key: the earliest part's (keys are unique within a part)
            keep = f" QUALIFY row_number() OVER (PARTITION BY {', '.join(table.key)} ORDER BY _part) = 1"
        con.execute(f"CREATE VIEW {name} AS SELECT * EXCLUDE (_part) FROM ({body}){keep}")
    # Registered before locking: Arrow reads the files, so DuckDB never needs its own file access.
    con.execute("SET python_enable_replacements = false")  # no scans of Python variables by name
    con.execute("SET enable_external_access = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET lock_configuration = true")
    return con


def run_sandboxed(lake: Lake, sql: str, opts: SandboxOptions | None = None) -> SandboxResult:
    """Run one analyst SELECT over the lake's masked tables, with a row cap and a time limit."""
    opts = opts or SandboxOptions()
    if not sql.strip():
        raise SandboxError("empty SQL query", hint='e.g. cdna features sql "SELECT count(*) FROM snapshots"')
    tables = sandbox_tables(lake)
    names = ", ".join(tables) or "(none: run `cdna features materialize`)"
    con = _connect(tables, opts)
    timer = threading.Timer(opts.timeout_s, con.interrupt)
    try:
        _check_statement(con, sql, names)
        timer.start()
        try:
            reader = con.sql(sql).to_arrow_reader(min(opts.max_rows + 1, 1 << 16))
            batches, n = [], 0
            for batch in reader:
                batches.append(batch)
                n += batch.num_rows
                if n > opts.max_rows:
                    break
            table = pa.Table.from_batches(batches, schema=reader.schema)
        except duckdb.InterruptException as exc:
            raise SandboxError(
                f"the query ran past the sandbox's time limit of {opts.timeout_s:g} s and was stopped",
                hint="filter or aggregate more, or raise --timeout",
            ) from exc
        except duckdb.PermissionException as exc:
            raise SandboxError(
                f"the query tries to reach a file or extension ({exc}); the analyst sandbox exposes only "
                "the lake's masked tables",
                hint=f"tables: {names}",
            ) from exc
        except duckdb.Error as exc:
            if "interrupt" in str(exc).lower():
                raise SandboxError(
                    f"the query ran past the sandbox's time limit of {opts.timeout_s:g} s and was stopped",
                    hint="filter or aggregate more, or raise --timeout",
                ) from exc
            raise SandboxError(f"SQL error: {exc}", hint=f"tables: {names}") from exc
    finally:
        timer.cancel()
        con.close()
    truncated = table.num_rows > opts.max_rows
    return SandboxResult(table.slice(0, opts.max_rows), truncated, tuple(tables))
