"""`cdna link export|import|report`: pseudonymised partner linkage (issue #14 item 5)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cdna.cli.state import state

if TYPE_CHECKING:
    import pyarrow as pa

    from cdna.cli.state import State
    from cdna.core.lake import Lake
    from cdna.core.secrets import SecretKey

__all__ = ["link_app", "register"]

link_app = typer.Typer(
    help="Pseudonymised partner linkage: key list for the linkage institution, partner imports, k-anonymous reports.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

LakeOpt = Annotated[
    Path | None, typer.Option("--lake", "-l", help="Lake folder (default: CDNA_LAKE / config).")
]


def _key(st: State, lake: Lake) -> SecretKey:
    from cdna.core.secrets import load_key

    cfg = st.config.link
    return load_key("link", cfg.key_file, cfg.key_env, lake.root)


def _customers(lake: Lake, id_column: str) -> pa.Table:
    """Customers (id and report attributes), one row each: the earliest part's, as every stage reads them."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    lake.require_raw("customers")
    wanted = ["customer_id", id_column, "birth_date", "gender", "region_sido", "household", "income_band"]
    parts = [ds.dataset(str(p), format="parquet") for p in lake.raw_parts("customers")]
    tables = [d.to_table(columns=[c for c in dict.fromkeys(wanted) if c in d.schema.names]) for d in parts]
    table = pa.concat_tables(tables, promote_options="permissive")
    ids = table.column("customer_id")
    return table.take(pc.index_in(pc.unique(ids), value_set=ids))


def _digest(path: Path, salt: object) -> str:
    """sha256 of `salt` (table and column map) and the file's bytes (every file of a folder), 16 hex digits."""
    h = hashlib.sha256(json.dumps(salt, sort_keys=True).encode())
    for f in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


@link_app.command("export")
def export_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV file to write (one `pseudonym` column).")],
    lake: LakeOpt = None,
) -> None:
    """Write every customer's keyed pseudonym (HMAC-SHA256) for the linkage institution; no customer id leaves.

    Example: [bold]CDNA_LINK_KEY=… cdna link export --out bank_keys.csv --lake ./lake[/]
    """
    import pyarrow.csv as pcsv

    from cdna.core.lake import RunRecord
    from cdna.ingest.linkage import LinkOptions, key_list

    st = state(ctx)
    lk = st.lake(lake)
    key = _key(st, lk)
    opts = LinkOptions(st.config.link.id_column, st.config.link.k_anonymity, st.config.timezone)
    table = key_list(_customers(lk, opts.id_column), key, opts)
    out.parent.mkdir(parents=True, exist_ok=True)
    pcsv.write_csv(table, out)
    run = RunRecord("link-export", outputs=[str(out)])
    run.counts = {"pseudonyms": table.num_rows}
    run.extra = {"key_id": key.key_id, "id_column": opts.id_column}
    run.finish(lk)
    st.output.result(
        {"path": str(out), "pseudonyms": table.num_rows, "key_id": key.key_id},
        f"{table.num_rows:,} pseudonyms (key {key.key_id}) → {out}",
    )


@link_app.command("import")
def import_cmd(
    ctx: typer.Context,
    partner: Annotated[
        str, typer.Argument(help="Partner name, e.g. telecom (its contract: partner_<name>).")
    ],
    file: Annotated[Path, typer.Argument(help="The partner's CSV/Parquet delivery, keyed by pseudonyms.")],
    mapping: Annotated[
        str | None,
        typer.Option("--mapping", "-m", help="Column map (named in configs, e.g. partner_telecom, or YAML)."),
    ] = None,
    map_: Annotated[
        list[str] | None, typer.Option("--map", help="One column mapping TARGET=SOURCE_OR_SQL (repeatable).")
    ] = None,
    lake: LakeOpt = None,
) -> None:
    """Validate a partner's pseudonymised table, link it to customers with the key, and add it to raw/partner_<name>/.

    Rows of people who are not customers are dropped and counted; with the wrong key nothing links and
    nothing is written (exit 1). Rejected rows: exit 3, as `cdna validate`.

    Example: [bold]cdna link import telecom LAKE/_truth/partners/telecom.csv -m partner_telecom --lake ./lake[/]
    """
    from cdna.contracts.schemas import partner_contracts
    from cdna.core.lake import RunRecord, atomic_write_parquet, atomic_write_text
    from cdna.ingest.importer import load_mapping, rejects_csv
    from cdna.ingest.linkage import LinkOptions, link_partner
    from cdna.ingest.validate import validate_file

    st = state(ctx)
    o = st.output
    lk = st.lake(lake)
    delivered, linked_spec = partner_contracts(partner)
    key = _key(st, lk)
    colmap = load_mapping(st.config, delivered.name, mapping, map_ or [])
    result = validate_file(file, delivered, colmap)
    opts = LinkOptions(st.config.link.id_column, st.config.link.k_anonymity, st.config.timezone)
    now = datetime.now(UTC)
    res = link_partner(result.valid, _customers(lk, opts.id_column), key, linked_spec, partner, now, opts)
    # Parts are named like every import's (`part-<UTC time>-<content hash>`, issue 15): additive, and the same
    # delivery imported again (same bytes, same column map) adds nothing.
    digest = _digest(file, [linked_spec.name, colmap.columns, colmap.source_timezone])
    earlier = sorted(lk.raw(linked_spec.name).glob(f"part-*-{digest}.parquet"))
    again = bool(earlier)
    path = earlier[0] if again else lk.raw(linked_spec.name) / f"part-{now:%Y%m%dT%H%M%S%fZ}-{digest}.parquet"
    if not again and res.linked.num_rows:
        atomic_write_parquet(res.linked, path)
    rejects_path = lk.rejects / linked_spec.name / f"{file.stem}.rejects.csv"
    if result.n_rejected:
        atomic_write_text(rejects_path, rejects_csv(result.rejects, file))
    run = RunRecord(f"link-import-{partner}", inputs=[str(file)], outputs=[str(path)])
    run.counts = {
        "partner_rows": res.partner_rows,
        "partner_ids": res.partner_ids,
        "linked_rows": res.linked_rows,
        "linked_customers": res.linked_customers,
        "unmatched_ids": res.unmatched_ids,
        "rejected": result.n_rejected,
    }
    run.extra = {"key_id": key.key_id, "already_imported": again}
    run.finish(lk)
    o.result(
        {
            "partner": partner,
            "path": str(path),
            "already_imported": again,
            "partner_rows": res.partner_rows,
            "partner_ids": res.partner_ids,
            "linked_rows": res.linked_rows,
            "linked_customers": res.linked_customers,
            "unmatched_ids": res.unmatched_ids,
            "match_rate": round(res.match_rate, 4),
            "rejected_rows": result.n_rejected,
            "key_id": key.key_id,
        },
        (
            f"{file}: already imported as {path} (nothing added)"
            if again
            else f"{res.linked_customers:,} of {res.partner_ids:,} partner pseudonyms linked to customers "
            f"({res.linked_rows:,} rows → {path}); {res.unmatched_ids:,} are not customers of the bank"
        ),
    )
    if result.n_rejected:
        o.error(f"{result.n_rejected:,} row(s) rejected → {rejects_path}")
        raise typer.Exit(code=3)


@link_app.command("report")
def report_cmd(
    ctx: typer.Context,
    partner: Annotated[str, typer.Argument(help="Partner name, e.g. telecom.")],
    by: Annotated[
        str, typer.Option("--by", help="Comma-separated columns to group by (bank or partner attributes).")
    ] = "age_band,data_band",
    k: Annotated[
        int | None, typer.Option("--k", help="Smallest cell size (default: link.k_anonymity, ≥ 2).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="CSV file for the released cells.")] = None,
    lake: LakeOpt = None,
) -> None:
    """Aggregates of the linked partner data that may leave the bank: cells under k customers are suppressed.

    Each customer counts once, with their latest partner month. The output says how many cells and
    customers were suppressed.

    Example: [bold]cdna link report telecom --by age_band,data_band --out telecom_report.csv --lake ./lake[/]
    """
    import pyarrow.csv as pcsv
    import pyarrow.dataset as ds

    from cdna.contracts.schemas import partner_contracts
    from cdna.core.errors import ConfigError, LakeError
    from cdna.ingest.linkage import k_anonymous_counts, report_rows

    st = state(ctx)
    lk = st.lake(lake)
    _, linked_spec = partner_contracts(partner)
    kk = st.config.link.k_anonymity if k is None else k
    if kk < 2:
        raise ConfigError(f"--k {kk}: k-anonymity needs k >= 2")
    files = sorted(str(p) for p in lk.raw(linked_spec.name).glob("*.parquet"))
    if not files:
        raise LakeError(
            f"no linked {partner} data under {lk.raw(linked_spec.name)}",
            hint=f"run `cdna link import {partner} FILE -m MAP --lake {lk.root}` first",
        )
    linked = ds.dataset(files, format="parquet", schema=linked_spec.schema).to_table()
    rows = report_rows(linked, _customers(lk, st.config.link.id_column))
    dims = [c.strip() for c in by.split(",") if c.strip()]
    measures = tuple(c for c in ("roaming_days",) if c in rows.column_names and c not in dims)
    try:
        rep = k_anonymous_counts(rows, dims, kk, measures)
    except KeyError as exc:
        raise ConfigError(f"--by {by!r}: {exc.args[0]}") from None
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        pcsv.write_csv(rep.cells, out)
    human = Table(title=f"{partner}: customers per cell (k = {rep.k})", show_edge=False)
    for c in rep.cells.column_names:
        human.add_column(c, justify="right" if c not in dims else "left")
    for r in rep.cells.to_pylist():
        human.add_row(*[f"{v:,.2f}" if isinstance(v, float) else str(v) for v in r.values()])
    st.output.result(
        {
            "partner": partner,
            "k": rep.k,
            "by": dims,
            "cells": rep.cells.to_pylist(),
            "suppressed_cells": rep.suppressed_cells,
            "suppressed_customers": rep.suppressed_customers,
            "path": str(out) if out else None,
        },
        human,
    )
    st.output.say(
        f"{rep.cells.num_rows:,} cells released; {rep.suppressed_cells:,} cells of fewer than {rep.k} customers "
        f"suppressed ({rep.suppressed_customers:,} customers)" + (f" → {out}" if out else "")
    )


def register(app: typer.Typer) -> None:
    """Add the linkage commands to the CLI."""
    app.add_typer(link_app, name="link", rich_help_panel="Tools")
