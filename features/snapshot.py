"""Point-in-time snapshots and training sets: every view joined to entity rows in one DuckDB query plan.

An entity row is (customer_id, as_of); `cutoff` is the first instant after the as-of day in Korea time, so
an event counts when `ts < cutoff` (= ts <= as-of 23:59:59.999999 KST), was ingested before the cutoff, and
lies within the view's TTL (Feast's `_filter_ttl`): stale events become null/0, never carried forever.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from cdna.core.config import (
    Config,
    FeaturesConfig,
    IntentTaxonomy,
    MemoTaxonomy,
    ProductCatalog,
    load_intents,
    load_memo_categories,
    load_products,
)
from cdna.core.duck import copy_to, scan, sql_literal
from cdna.core.errors import InputError, SchemaError
from cdna.core.lake import Lake
from cdna.features.definitions import ENTITY, FeatureView, build_views, derived_features, view_versions
from cdna.features.sources import SourceReport, register_sources

__all__ = [
    "FeatureSet",
    "SnapshotResult",
    "connect",
    "feature_query",
    "prepare",
    "run_query_to_parquet",
    "snapshot",
    "training_set",
]


@dataclass(frozen=True)
class FeatureSet:
    """The configured views and taxonomies a snapshot is built from.

    Attributes:
        config: feature options.
        catalog / intents / memo: the taxonomies that name product, intent and memo columns.
        timezone: IANA zone of calendar days.
    """

    config: FeaturesConfig
    catalog: ProductCatalog
    intents: IntentTaxonomy
    memo: MemoTaxonomy
    timezone: str = "Asia/Seoul"

    @classmethod
    def from_config(cls, config: Config) -> FeatureSet:
        """The feature set of a loaded configuration with the configured taxonomies (the one builder)."""
        return cls(config.features, load_products(), load_intents(), load_memo_categories(), config.timezone)

    @property
    def views(self) -> list[FeatureView]:
        """The feature views in column order."""
        return build_views(self.config, self.catalog, self.intents, self.memo, self.timezone)


@dataclass
class SnapshotResult:
    """What a snapshot or training-set run wrote.

    Attributes:
        path: the Parquet file.
        rows: rows written.
        columns: feature columns (without customer_id, as_of).
        lineage: view versions, input files, run ids, skipped rows.
        wall_s: seconds.
    """

    path: Path
    rows: int
    columns: list[str]
    lineage: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0


def connect(cfg: FeaturesConfig, temp_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection in UTC with the configured memory and thread limits."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = {sql_literal(cfg.memory_limit)}")
    con.execute("SET preserve_insertion_order = false")
    if cfg.threads:
        con.execute(f"SET threads = {int(cfg.threads)}")
    if temp_dir is not None:
        temp_dir.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = {sql_literal(temp_dir)}")
    return con


def _view_sql(view: FeatureView) -> str:
    aggs = ",\n    ".join(f"{f.expr} AS {f.name}" for f in view.features)
    src = "src_transactions_cat" if view.source == "transactions" else f"src_{view.source}"
    on = ["s.customer_id = e.customer_id"]
    if view.timestamp:
        on.append("s.ts < e.cutoff")
    if view.ttl_days:
        on.append(f"s.ts >= e.cutoff - INTERVAL {int(view.ttl_days)} DAY")
    on.append("(s.ingested_at IS NULL OR s.ingested_at < e.cutoff)")
    if view.where:
        on.append(view.where)
    join = f"_entities e JOIN {src} s ON {' AND '.join(on)}"
    if view.pre_group:
        keys = ", ".join(f"s.{c}" for c in view.pre_group)
        pre = ", ".join(f"{expr} AS {name}" for name, expr in view.pre_aggs)
        return (
            f"SELECT s.customer_id, s.as_of,\n    {aggs}\nFROM (SELECT e.customer_id, e.as_of, {keys}, {pre} "
            f"FROM {join} GROUP BY e.customer_id, e.as_of, {keys}) s\nGROUP BY s.customer_id, s.as_of"
        )
    return f"SELECT e.customer_id, e.as_of,\n    {aggs}\nFROM {join}\nGROUP BY e.customer_id, e.as_of"


def feature_query(fs: FeatureSet, only: Collection[str] | None = None) -> str:
    """The one SQL statement joining every view to `_entities(customer_id, as_of, cutoff)`.

    With `only` (view names), just those views' columns and no derived ones (the event path merges them
    into a stored vector and re-derives).
    """
    views = [v for v in fs.views if only is None or v.name in only]
    ctes = [f"v_{v.name} AS (\n{_view_sql(v)}\n)" for v in views]
    cols = []
    for v in views:
        for f in v.features:
            ref = f"v_{v.name}.{f.name}"
            cols.append(
                f"coalesce({ref}, {f.fill}) AS {f.name}" if f.fill is not None else f"{ref} AS {f.name}"
            )
    joins = "\n".join(
        f"LEFT JOIN v_{v.name} ON v_{v.name}.customer_id = e.customer_id AND v_{v.name}.as_of = e.as_of"
        for v in views
    )
    derived = ",\n  ".join(f"{d.expr} AS {d.name}" for d in derived_features(fs.catalog))
    tail = "SELECT * FROM joined" if only is not None else f"SELECT *,\n  {derived}\nFROM joined"
    return (
        "WITH " + ",\n".join(ctes) + ",\n"
        f"joined AS (\nSELECT e.customer_id, e.as_of,\n  {', '.join(cols)}\nFROM _entities e\n{joins}\n)\n"
        + tail
    )


def cutoff_sql(tz: str, as_of: str) -> str:
    """SQL of the first instant after the as-of day (`as_of`: a SQL date expression) in time zone `tz`."""
    return f"timezone('{tz}', CAST({as_of} + INTERVAL 1 DAY AS TIMESTAMP))"


def _entities_for_snapshot(
    con: duckdb.DuckDBPyConnection, as_of: date, tz: str, reports: dict[str, SourceReport]
) -> None:
    base = "src_customers" if reports["customers"].files else "src_transactions"
    day = f"DATE '{as_of}'"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _entities AS SELECT DISTINCT customer_id, {day} AS as_of, "
        f"{cutoff_sql(tz, day)} AS cutoff FROM {base}"
    )


def _entities_from_file(con: duckdb.DuckDBPyConnection, path: Path, tz: str) -> int:
    if not path.exists():
        raise InputError(
            f"entities file not found: {path}", hint="give a Parquet or CSV file with customer_id, as_of"
        )
    reader = scan(path)
    try:
        cols = con.sql(f"SELECT * FROM {reader} LIMIT 0").columns
    except duckdb.Error as exc:
        raise InputError(f"{path}: not a readable Parquet/CSV file ({exc})") from exc
    missing = [c for c in ("customer_id", "as_of") if c not in cols]
    if missing:
        raise SchemaError(
            f"{path}: missing column(s) {missing}",
            hint="an entities file has one row per (customer_id, as_of date) to compute features for",
        )
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _input AS SELECT row_number() OVER () AS _row, "
            f"CAST(customer_id AS VARCHAR) AS customer_id, CAST(as_of AS DATE) AS as_of FROM {reader}"
        )
    except duckdb.ConversionException as exc:
        raise SchemaError(f"{path}: column 'as_of' must hold dates (YYYY-MM-DD): {exc}") from exc
    bad = con.execute("SELECT count(*) FROM _input WHERE customer_id IS NULL OR as_of IS NULL").fetchall()[0]
    if bad and bad[0]:
        raise SchemaError(f"{path}: {bad[0]} row(s) with an empty customer_id or as_of")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _entities AS SELECT customer_id, as_of, {cutoff_sql(tz, 'as_of')} AS cutoff "
        f"FROM (SELECT DISTINCT customer_id, as_of FROM _input)"
    )
    n = con.execute("SELECT count(*) FROM _input").fetchall()[0]
    return int(n[0]) if n else 0


def _run_ids(lake_root: Path, files: list[str]) -> list[str]:
    runs = Lake(lake_root).runs
    if not runs.is_dir():
        return []
    rels = {os.path.relpath(f, lake_root) for f in files} | set(files)
    out = []
    for rec in sorted(runs.glob("*.json")):
        try:
            data = json.loads(rec.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if rels & set(map(str, data.get("outputs", []))):
            out.append(f"{data.get('stage')}:{data.get('run_id')}")
    return out


def _lineage(
    fs: FeatureSet, lake_root: Path, reports: dict[str, SourceReport], kind: str, extra: dict[str, Any]
) -> dict[str, Any]:
    files = [f for r in reports.values() for f in r.files]
    inputs = []
    for f in files:
        st = os.stat(f)
        inputs.append({"path": f, "bytes": st.st_size, "mtime": int(st.st_mtime)})
    return {
        "kind": kind,
        "entity": ENTITY.key,
        "views": view_versions(fs.views),
        "ttl_days": {v.name: v.ttl_days for v in fs.views},
        "inputs": inputs,
        "runs": _run_ids(lake_root, files),
        "skipped": {r.name: r.skipped for r in reports.values() if r.skipped},
        "notes": {r.name: r.note for r in reports.values() if r.note},
        "timezone": fs.timezone,
        **extra,
    }


def run_query_to_parquet(con: duckdb.DuckDBPyConnection, sql: str, out: Path, lineage: dict[str, Any]) -> int:
    """COPY a query to Parquet under a temporary name with the lineage in its key-value metadata, then rename."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    meta = sql_literal(json.dumps(lineage, ensure_ascii=False, default=str))
    try:
        con.execute(
            copy_to(
                sql,
                tmp,
                f"FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880, KV_METADATA {{'cdna.lineage': {meta}}}",
            )
        )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    n = con.execute(f"SELECT count(*) FROM {scan(out)}").fetchall()[0]
    sidecar = out.with_name(out.name + ".lineage.json")
    sidecar.write_text(json.dumps(lineage, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return int(n[0]) if n else 0


def prepare(con: duckdb.DuckDBPyConnection, fs: FeatureSet, lake_root: Path) -> dict[str, SourceReport]:
    """Register the lake's sources on `con` (checks, skips, spend categories)."""
    return register_sources(con, lake_root, fs.memo, fs.config.spend_categories_from)


def snapshot(fs: FeatureSet, lake_root: Path, as_of: date, out: Path) -> SnapshotResult:
    """Write one row per customer with every feature as of the end of `as_of` (Korea time) to `out`."""
    t0 = time.perf_counter()
    con = connect(fs.config, Lake(lake_root).tmp_dir("duckdb"))
    try:
        reports = prepare(con, fs, lake_root)
        _entities_for_snapshot(con, as_of, fs.timezone, reports)
        sql = feature_query(fs) + "\nORDER BY customer_id"
        lineage = _lineage(fs, lake_root, reports, "snapshot", {"as_of": str(as_of)})
        rows, cols = _write_features(con, sql, out, lineage)
    finally:
        con.close()
    return SnapshotResult(out, rows, cols, lineage, time.perf_counter() - t0)


def _write_features(
    con: duckdb.DuckDBPyConnection, sql: str, out: Path, lineage: dict[str, Any]
) -> tuple[int, list[str]]:
    """Run a feature query into Parquet at `out`; returns its row count and feature columns."""
    rows = run_query_to_parquet(con, sql, out, lineage)
    cols = con.sql(f"SELECT * FROM {scan(out)} LIMIT 0").columns
    return rows, [c for c in cols if c not in ("customer_id", "as_of")]


def training_set(fs: FeatureSet, lake_root: Path, entities: Path, out: Path) -> SnapshotResult:
    """Join every view point-in-time to each (customer_id, as_of) row of `entities`, keeping its order."""
    t0 = time.perf_counter()
    con = connect(fs.config, Lake(lake_root).tmp_dir("duckdb"))
    try:
        reports = prepare(con, fs, lake_root)
        n_in = _entities_from_file(con, entities, fs.timezone)
        sql = (
            f"WITH feats AS MATERIALIZED ({feature_query(fs)})\nSELECT f.* FROM _input i JOIN feats f "
            f"ON f.customer_id = i.customer_id AND f.as_of = i.as_of ORDER BY i._row"
        )
        lineage = _lineage(
            fs, lake_root, reports, "training_set", {"entities": str(entities), "entity_rows": n_in}
        )
        rows, cols = _write_features(con, sql, out, lineage)
    finally:
        con.close()
    return SnapshotResult(out, rows, cols, lineage, time.perf_counter() - t0)
