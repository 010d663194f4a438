"""`cdna features …`: the customer-DNA feature store (issue #5)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from cdna.cli.state import parse_day, state
from cdna.contracts.results import FeaturesResult
from cdna.core.errors import ConfigError

if TYPE_CHECKING:
    from cdna.core.config import Config
    from cdna.features.snapshot import FeatureSet

__all__ = ["features_app", "register", "show_table"]

features_app = typer.Typer(
    help="Point-in-time customer DNA: snapshots, training sets, segments, offline and online stores.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

LakeOpt = Annotated[
    Path | None, typer.Option("--lake", "-l", help="Lake folder (default: CDNA_LAKE / config).")
]


def _feature_set(config: Config) -> FeatureSet:
    from cdna.features.snapshot import FeatureSet

    return FeatureSet.from_config(config)


def _skips(o: Any, lineage: dict[str, Any]) -> None:
    for table, skipped in (lineage.get("skipped") or {}).items():
        text = ", ".join(f"{n:,} {reason.replace('_', ' ')}" for reason, n in skipped.items())
        o.error(f"{table}: skipped rows ({text}) — recorded in the lineage")
    for table, note in (lineage.get("notes") or {}).items():
        o.say(f"[dim]{table}: {note}[/]")


@features_app.command("snapshot")
def snapshot_cmd(
    ctx: typer.Context,
    as_of: Annotated[
        str, typer.Option("--as-of", help="Korea-time day; events up to 23:59:59.999999 count.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Parquet file to write (+ FILE.lineage.json).")],
    lake: LakeOpt = None,
) -> None:
    """One row per customer with every feature as of the end of a day, computed only from earlier events.

    Example: [bold]cdna features snapshot --lake ./lake --as-of 2025-06-30 --out snap.parquet[/]
    """
    from cdna.core.lake import RunRecord
    from cdna.features.snapshot import snapshot

    st = state(ctx)
    o = st.output
    lk = st.lake(lake)
    fs = _feature_set(st.config)
    day = parse_day(as_of)
    assert day is not None
    run = RunRecord("features-snapshot")  # started before the work, so the record times it (issue 18)
    res = snapshot(fs, lk.root, day, out)
    run.inputs, run.outputs = [i["path"] for i in res.lineage["inputs"]], [str(out)]
    run.counts = {"rows": res.rows, "features": len(res.columns)}
    run.extra = {"views": res.lineage["views"], "skipped": res.lineage["skipped"], "as_of": as_of}
    run.finish(lk)
    _skips(o, res.lineage)
    o.result(
        {
            "path": str(out),
            "rows": res.rows,
            "features": len(res.columns),
            "as_of": as_of,
            "views": res.lineage["views"],
            "skipped": res.lineage["skipped"],
            "wall_s": round(res.wall_s, 2),
        },
        f"{res.rows:,} customers × {len(res.columns)} features as of {as_of} → {out} ({res.wall_s:.1f} s)",
    )


@features_app.command("training-set")
def training_set_cmd(
    ctx: typer.Context,
    entities: Annotated[
        Path,
        typer.Option("--entities", help="Parquet/CSV with customer_id, as_of (many dates per customer)."),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Parquet file to write, rows in the entities' order.")
    ],
    lake: LakeOpt = None,
) -> None:
    """Point-in-time features for many (customer_id, as_of) rows in one DuckDB query plan.

    Example: [bold]cdna features training-set --lake ./lake --entities labels.parquet --out train.parquet[/]
    """
    from cdna.features.snapshot import training_set

    st = state(ctx)
    o = st.output
    lk = st.lake(lake)
    from cdna.core.lake import RunRecord

    run = RunRecord("features-training-set")  # started before the work, so the record times it
    res = training_set(_feature_set(st.config), lk.root, entities, out)
    run.inputs = [str(entities)] + [i["path"] for i in res.lineage["inputs"]]
    run.outputs = [str(out)]
    run.counts = {"rows": res.rows, "features": len(res.columns)}
    run.extra = {"views": res.lineage["views"], "skipped": res.lineage["skipped"]}
    run.finish(lk)
    _skips(o, res.lineage)
    o.result(
        {"path": str(out), "rows": res.rows, "features": len(res.columns), "wall_s": round(res.wall_s, 2)},
        f"{res.rows:,} rows × {len(res.columns)} features → {out} ({res.wall_s:.1f} s)",
    )


@features_app.command("sql")
def sql_cmd(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            help="One SELECT over snapshots, <view> tables, segments, signal_events, raw_<table> (no free text)."
        ),
    ],
    lake: LakeOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Write the result (up to --max-rows) to Parquet or CSV, outside the lake."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows to print.")] = 50,
    max_rows: Annotated[int, typer.Option("--max-rows", help="Rows returned at most.", min=1)] = 10_000,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds before the query is stopped.", min=0.1)
    ] = 60.0,
) -> None:
    """Query the lake's masked tables in a read-only sandbox (for analysts).

    No file, extension or other database is reachable (COPY, ATTACH, INSTALL, LOAD, EXPORT and read_csv of a
    path are refused, exit 2); transcripts and the raw tables' free-text columns are not there at all.

    Example: [bold]cdna features sql "SELECT segment_name, count(*) FROM segments GROUP BY 1" --lake ./lake[/]
    """
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    from cdna.features.sandbox import SandboxError, SandboxOptions, run_sandboxed

    st = state(ctx)
    o = st.output
    lk = st.lake(lake)
    if out is not None and out.resolve().is_relative_to(lk.root):
        raise SandboxError(
            f"--out {out} is inside the lake {lk.root}", hint="write query results outside the lake"
        )
    res = run_sandboxed(lk, _query_arg(query), SandboxOptions(max_rows=max_rows, timeout_s=timeout))
    table = res.table
    if out is not None:
        if out.suffix.lower() == ".csv":
            pcsv.write_csv(table, out)
        else:
            pq.write_table(table, out)
    rows = table.slice(0, limit).to_pylist()
    human = Table(show_edge=False)
    for c in table.column_names:
        human.add_column(c)
    for r in rows:
        human.add_row(*["" if v is None else str(v) for v in r.values()])
    o.result(
        {
            "rows": rows,
            "columns": table.column_names,
            "total_rows": table.num_rows,
            "truncated": res.truncated,
        },
        human,
    )
    if res.truncated:
        o.error(f"the result was cut at --max-rows {max_rows:,} rows")


def _query_arg(text: str) -> str:
    """The SQL text (kept separate so an empty query gets a clear error)."""
    if not text.strip():
        raise ConfigError("empty SQL query", hint='e.g. cdna features sql "SELECT count(*) FROM snapshots"')
    return text


@features_app.command("segments")
def segments_cmd(
    ctx: typer.Context,
    report: Annotated[Path, typer.Option("--report", help="Folder for segments.html and segments.csv.")],
    lake: LakeOpt = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Day to segment at (default: last transaction day).")
    ] = None,
) -> None:
    """RFM K-means segmentation (k by silhouette, elbow reported) with an HTML report of plots.

    Example: [bold]cdna features segments --lake ./lake --report ./report[/]
    """
    from cdna.features.report import write_report
    from cdna.features.snapshot import snapshot
    from cdna.features.store import latest_event_day, segment_snapshot

    st = state(ctx)
    o = st.output
    lk = st.lake(lake)
    fs = _feature_set(st.config)
    day = parse_day(as_of) or latest_event_day(fs, lk)
    report.mkdir(parents=True, exist_ok=True)
    snap = snapshot(fs, lk.root, day, report / f"snapshot-{day}.parquet")
    _skips(o, snap.lineage)
    df, seg = segment_snapshot(fs, snap.path)
    notes = [
        f"as of {day} (Korea time), {snap.rows:,} customers, lake {lk.root}",
        f"feature view versions: {snap.lineage['views']}",
        f"spend categories: {snap.lineage['notes'].get('transactions', '')}",
    ]
    path = write_report(df, seg, report, f"고객 세그먼트 보고서 — {day} 기준", notes)
    human = Table(title=f"k = {seg.k_} (silhouette), elbow at k = {seg.elbow_k_}", show_edge=False)
    for c in (
        "segment",
        "name",
        "customers",
        "share",
        "recency_median",
        "frequency_median",
        "monetary_median",
    ):
        human.add_column(c, justify="left" if c == "name" else "right")
    for r in seg.profile_.itertuples():
        human.add_row(
            str(r.segment),
            str(r.name),
            f"{r.customers:,}",
            f"{r.share:.1%}",
            f"{r.recency_median:,.0f}",
            f"{r.frequency_median:,.0f}",
            f"{r.monetary_median:,.0f}",
        )
    o.result(
        {
            "report": str(path),
            "k": seg.k_,
            "elbow_k": seg.elbow_k_,
            "silhouette": seg.silhouette_,
            "inertia": seg.inertia_,
            "segments": seg.profile_.to_dict(orient="records"),
        },
        human,
    )
    o.say(f"report → {path}")


@features_app.command("types")
def types_cmd(
    ctx: typer.Context,
    report: Annotated[Path, typer.Option("--report", help="Folder for types.html and types.csv.")],
    lake: LakeOpt = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Day to type at (default: last transaction day).")
    ] = None,
    choose_k: Annotated[
        bool,
        typer.Option("--choose-k", help="Use the k with the best silhouette instead of features.segments_k."),
    ] = False,
    register: Annotated[
        bool, typer.Option("--register/--no-register", help="Register the best new-customer model in MLflow.")
    ] = True,
) -> None:
    """Customer types (issue 17): RFM K-means with k = 4 (elbow and silhouette for k = 2…10), Korean names and
    profiles from configs/customer_types.yaml, and a predicted type for new customers (LightGBM vs random
    forest vs logistic regression by macro-F1; the best registered in MLflow).

    Example: [bold]cdna features types --lake ./lake --report ./report[/]
    """
    from cdna.core.config import load_intents, load_memo_categories, load_products
    from cdna.core.lake import RunRecord
    from cdna.features.store import latest_event_day
    from cdna.features.types_report import write_types_report
    from cdna.features.types_run import run_types

    st = state(ctx)
    o = st.output
    lk = st.lake(lake)
    fs = _feature_set(st.config)
    day = parse_day(as_of) or latest_event_day(fs, lk)
    names = {
        **{p.id: p.name for p in load_products().products},
        **{i.id: i.name for i in load_intents().intents},
        **{c.id: c.name for c in load_memo_categories().categories},
    }
    res = run_types(fs, lk, day, choose_k or None, names)
    registered = None
    if res.model is not None and register:
        from cdna.recommend.registry import Registry

        reg = Registry(lk, "cdna-customer-type", st.config.recommend.tracking_uri)
        run_id = reg.log_run(
            res.model,
            {"model": res.model.best, "k": res.segmentation.k_, "features": len(res.model.columns)},
            {f"macro_f1_{k}": v for k, v in res.model.macro_f1.items()},
            {"kind": "customer_type", "test": res.model.test_kind[:250]},
            run_name="customer-type",
        )
        version = reg.register(run_id)
        reg.promote(version)
        registered = f"cdna-customer-type v{version} ({res.model.best})"
    path = write_types_report(res, report, fs.config.types_new_max_txns, registered)
    run = RunRecord("features-types", outputs=[str(res.path), str(path)])
    run.counts = {"customers": len(res.frame) + res.new_customers, "new_customers": res.new_customers}
    run.extra = {"k": res.segmentation.k_, "macro_f1": res.model.macro_f1 if res.model else None}
    run.finish(lk)
    human = Table(title=f"customer types as of {day} (k = {res.segmentation.k_})", show_edge=False)
    for c in ("type", "name", "customers", "share"):
        human.add_column(c, justify="left" if c == "name" else "right")
    for p in res.profiles:
        human.add_row(str(p.type_id), p.name, f"{p.customers:,}", f"{p.share:.1%}")
    o.result(
        {
            "report": str(path),
            "types_path": str(res.path),
            "k": res.segmentation.k_,
            "elbow_k": res.segmentation.elbow_k_,
            "best_silhouette_k": res.segmentation.best_k_,
            "silhouette": res.segmentation.silhouette_,
            "types": [{"id": p.type_id, "name": p.name, "customers": p.customers} for p in res.profiles],
            "new_customer_model": None
            if res.model is None
            else {"macro_f1": res.model.macro_f1, "best": res.model.best, "test": res.model.test_kind},
            "registered": registered,
            "new_customers_typed": res.new_customers,
            "notes": res.notes,
        },
        human,
    )
    if res.model is not None:
        o.say(
            "new-customer type model, macro-F1: "
            + ", ".join(f"{k} {v:.3f}" for k, v in res.model.macro_f1.items())
            + f" → {registered or res.model.best}"
        )
    o.say(f"report → {path}")


@features_app.command("materialize")
def materialize_cmd(
    ctx: typer.Context,
    lake: LakeOpt = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Day to materialise (default: last transaction day).")
    ] = None,
) -> None:
    """Write the offline store (LAKE/features/<view>/date=D) and swap in the online store (LAKE/online/).

    Example: [bold]cdna features materialize --lake ./lake --as-of 2025-06-30[/]
    """
    from cdna.core.lake import RunRecord, partition_lock
    from cdna.features.store import latest_event_day, materialize

    st = state(ctx)
    o = st.output
    lk = st.lake(lake)
    fs = _feature_set(st.config)
    day = parse_day(as_of) or latest_event_day(fs, lk)
    run = RunRecord("features-materialize")  # issue 18: created after the work, it recorded 0.0 s for 61 s
    with partition_lock(lk, lk.rel(lk.partition(lk.features.name, day))):
        res = materialize(fs, lk, day)
    run.inputs = [i["path"] for i in res.snapshot.lineage["inputs"]]
    run.outputs = [str(p) for p in [res.snapshot.path, *res.view_files.values(), res.online_path] if p]
    run.counts = {
        "rows": res.snapshot.rows,
        "features": len(res.snapshot.columns),
        "online_rows": res.online_rows,
    }
    run.extra = {
        "as_of": str(day),
        "views": res.snapshot.lineage["views"],
        "skipped": res.snapshot.lineage["skipped"],
    }
    run.finish(lk)
    _skips(o, res.snapshot.lineage)
    seg = res.segmentation
    o.result(
        {
            "as_of": str(day),
            "snapshot": str(res.snapshot.path),
            "rows": res.snapshot.rows,
            "views": {k: str(v) for k, v in res.view_files.items()},
            "online": str(res.online_path),
            "online_rows": res.online_rows,
            "segments_k": seg.k_ if seg else None,
        },
        f"{res.snapshot.rows:,} customers as of {day}: offline store {len(res.view_files)} views, "
        f"online store {res.online_rows:,} vectors → {res.online_path}",
        schema=FeaturesResult,
    )


def show_table(fs: FeatureSet, vector: dict[str, Any], customer_id: str, all_values: bool = False) -> Table:
    """One customer's DNA as a rich table grouped by view (zero/false/empty values hidden unless all_values)."""
    from cdna.features.definitions import derived_features

    table = Table(
        title=f"Customer DNA — {customer_id} (as of {vector.get('as_of')})",
        show_edge=False,
        title_justify="left",
    )
    table.add_column("view")
    table.add_column("feature")
    table.add_column("value", justify="right")
    table.add_column("meaning", style="dim")
    groups = [(f"{v.korean_name or v.name}", [(f.name, f.description) for f in v.features]) for v in fs.views]
    groups.append(("파생 (derived)", [(d.name, d.description) for d in derived_features(fs.catalog)]))
    groups.append(
        ("세그먼트", [("segment_id", "RFM segment (0 = most valuable)"), ("segment_name", "segment name")])
    )
    for title, feats in groups:
        first = True
        for name, desc in feats:
            if name not in vector:
                continue
            v = vector[name]
            if not all_values and name != "segment_id" and (v is None or v is False or v == 0):
                continue
            text = (
                f"{v:,.3f}"
                if isinstance(v, float)
                else (f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v))
            )
            table.add_row(title if first else "", name, text, desc)
            first = False
    return table


@features_app.command("show")
def show_cmd(
    ctx: typer.Context,
    customer_id: Annotated[str, typer.Argument(help="Customer id, e.g. C0000001.")],
    lake: LakeOpt = None,
    all_values: Annotated[
        bool, typer.Option("--all", help="Also show zero, false and empty features.")
    ] = False,
) -> None:
    """One customer's DNA as a readable table (from the online store, else the latest snapshot).

    Example: [bold]cdna features show C0000001 --lake ./lake[/]
    """
    from cdna.core.errors import UnknownCustomerError
    from cdna.features.online import SqliteOnlineStore

    st = state(ctx)
    o = st.output
    lk = st.lake(lake)
    fs = _feature_set(st.config)
    # the online store answers one customer without importing the offline store (sklearn, 3 s; issue 18)
    path = lk.online_features_db
    if path.exists():
        store = SqliteOnlineStore(path)
        vector = store.get(customer_id)
        store.close()
    else:
        import duckdb

        from cdna.features.store import latest_snapshot

        snap = latest_snapshot(lk)
        cur = duckdb.connect().execute(
            f"SELECT * FROM read_parquet('{snap}', hive_partitioning = false) WHERE customer_id = ?",
            [customer_id],
        )
        names = [d[0] for d in cur.description or []]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        if not rows:
            raise UnknownCustomerError(f"customer {customer_id!r} is not in {snap}", hint="check the id")
        vector = {k: (str(v) if isinstance(v, date) else v) for k, v in rows[0].items()}
    o.result({"customer_id": customer_id, **vector}, show_table(fs, vector, customer_id, all_values))


def register(app: typer.Typer) -> None:
    """Add the feature-store commands to the CLI."""
    app.add_typer(features_app, name="features", rich_help_panel="Stages")
