"""`cdna world` (synthetic bank) and `cdna validate` (import a CSV/Parquet file through a column map)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cdna.cli.state import parse_day, state

__all__ = ["register", "run_world"]


def run_world(
    ctx: typer.Context,
    out: Path,
    customers: int | None = None,
    seed: int | None = None,
    audio: bool = False,
    end_date: date | None = None,
    months: int | None = None,
):
    """Generate a bank into `out` with progress; returns the WorldSummary."""
    from cdna.core.config import load_intents, load_products
    from cdna.core.lake import Lake
    from cdna.ingest.world.generator import WorldOptions, write_world

    st = state(ctx)
    cfg = st.config.world
    updates = {
        k: v
        for k, v in {"customers": customers, "seed": seed, "end_date": end_date, "months": months}.items()
        if v is not None
    }
    cfg = cfg.model_copy(update=updates)
    o = st.output
    lake = Lake.at(out, create=True)
    prerendered = None
    render = None
    if audio:
        from cdna.ingest.world.audio import espeak_available, prerendered_calls, render_call

        render = render_call
        if not espeak_available():
            o.say(
                "[yellow]espeak-ng is not installed:[/] using the shipped pre-rendered call recordings "
                "instead (install espeak-ng to render every selected call from its script)"
            )
            prerendered = prerendered_calls()
    from cdna.core.secrets import KeyMissingError, load_key

    try:  # the partner's delivery is keyed with the linkage key: without one there is no partner file
        link_key = load_key("link", st.config.link.key_file, st.config.link.key_env, lake.root)
    except KeyMissingError:
        link_key = None
    n_chunks = -(-cfg.customers // cfg.chunk_customers)
    with o.progress("generating bank", n_chunks, "chunks") as advance:
        summary = write_world(
            WorldOptions(cfg, audio=audio, link_key=link_key),
            load_products(),
            load_intents(),
            lake,
            progress=lambda done, total: advance(
                1, info=f"{min(done * cfg.chunk_customers, cfg.customers):,} customers"
            ),
            render=render,
            prerendered=prerendered,
        )
    return summary


def register(app: typer.Typer) -> None:
    """Add the ingest commands to the CLI."""

    @app.command(rich_help_panel="Stages")
    def world(
        ctx: typer.Context,
        out: Annotated[
            Path, typer.Option("--out", "-o", help="Lake folder to write (created; raw tables are replaced).")
        ],
        customers: Annotated[
            int | None, typer.Option(help="Number of customers (default from config: 2000).")
        ] = None,
        seed: Annotated[
            int | None, typer.Option(help="Random seed; the same seed gives byte-identical tables.")
        ] = None,
        audio: Annotated[
            bool, typer.Option("--audio", help="Render the latest calls as stereo 8 kHz WAV (espeak-ng).")
        ] = False,
        end_date: Annotated[
            str | None, typer.Option(help="Last day of history, YYYY-MM-DD (Korea time).")
        ] = None,
        months: Annotated[
            int | None, typer.Option(help="Months of history (at least 12 recommended).")
        ] = None,
    ) -> None:
        """Generate a synthetic Korean retail bank: customers, holdings, transactions, web events, calls.

        Hidden life events (결혼, 출산, 이사 …) drive memos, calls and web visits first and product opens
        weeks later; their ground truth goes to _truth/, which no stage reads.

        Example: [bold]cdna world --customers 2000 --seed 7 --out ./lake --audio[/]
        """
        end = parse_day(end_date, "--end-date")
        summary = run_world(ctx, out, customers, seed, audio, end, months)
        o = state(ctx).output
        table = Table(title=f"synthetic bank → {summary.lake}", show_edge=False)
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, n in summary.counts.items():
            table.add_row(name, f"{n:,}")
        o.result(
            {
                "lake": str(summary.lake),
                "counts": summary.counts,
                "audio_source": summary.audio_source,
                "wall_s": summary.wall_s,
                "peak_rss_mb": round(summary.peak_rss_mb, 1),
                "run_record": str(summary.run_record),
            },
            table,
        )
        o.say(
            f"done in {summary.wall_s:.1f} s, peak memory {summary.peak_rss_mb:,.0f} MB; "
            f"audio: {summary.audio_source}; run record: {summary.run_record}"
        )

    def validate(
        ctx: typer.Context,
        table: Annotated[
            str,
            typer.Argument(
                help="Contract to validate against: customers, holdings, transactions, web_events, calls …"
            ),
        ],
        file: Annotated[Path, typer.Argument(help="CSV/TSV or Parquet file (or folder of Parquet files).")],
        lake: Annotated[
            Path | None,
            typer.Option(
                "--lake",
                "-l",
                help="Add the new valid rows to LAKE/raw/TABLE/ as one part (never replaces data); rejects to LAKE/_rejects/.",
            ),
        ] = None,
        out: Annotated[
            Path | None, typer.Option(help="Or write valid rows + rejects into this folder instead.")
        ] = None,
        mapping: Annotated[
            str | None,
            typer.Option(
                "--mapping", "-m", help="Named column map from configs (e.g. online_retail) or a YAML file."
            ),
        ] = None,
        map_: Annotated[
            list[str] | None,
            typer.Option("--map", help="One column mapping TARGET=SOURCE_OR_SQL (repeatable)."),
        ] = None,
    ) -> None:
        """Validate a CSV or Parquet file against a table contract; split valid rows from rejects.

        Every rejected row is written with its line number and reason (bad date, missing id, duplicate, a
        line over ingest.max_line_bytes …); the exit code is 3 when any row was rejected. Into a lake an
        import only adds: rows whose key the table holds are skipped, the same file again is a no-op, and
        `cdna data replace|drop` is the only way to change or remove data.

        Example: [bold]cdna validate transactions ../shared/data/online_retail_sample.csv -m online_retail --out imported/[/]
        """
        if table == "offers_outcomes":  # outcomes go to the offer log, not to raw/ (issue 17)
            from cdna.cli.cmd_campaign import import_outcomes_file

            import_outcomes_file(ctx, file, lake, mapping, map_)
            return
        from cdna.contracts.schemas import contract
        from cdna.core.lake import RunRecord, atomic_write_parquet, atomic_write_text
        from cdna.ingest.importer import load_mapping, rejects_csv
        from cdna.nlp.pii import mask_cached

        def masked(
            text: str,
        ) -> str:  # reject reasons and rows quote cells: never at rest unmasked (issue 14)
            return mask_cached(text).text

        from cdna.ingest.imports import import_file
        from cdna.ingest.validate import validate_file

        st = state(ctx)
        o = st.output
        spec = contract(table)
        colmap = load_mapping(st.config, table, mapping, map_ or [])
        max_line = st.config.ingest.max_line_bytes
        if out is not None:
            result = validate_file(file, spec, colmap, max_line_bytes=max_line)
            valid_path: Path | None = atomic_write_parquet(result.valid, out / f"{table}.parquet")
            rejects_path = out / f"{table}.rejects.csv"
            info: dict[str, object] = {"status": "validated"}
            message = f"{file}: {result.valid.num_rows:,} valid rows → {valid_path}"
        else:
            # into a lake: only ever adds a part; the same file twice is a no-op (issue 15)
            target = st.lake(lake, create=True)
            receipt = import_file(target, spec, file, colmap, max_line)
            if receipt.result is None:
                prev = receipt.previous or {}
                o.result(
                    {
                        "file": str(file),
                        "table": table,
                        "status": receipt.status,
                        "digest": receipt.digest,
                        "rows_added": 0,
                        "previous": prev,
                    },
                    f"{file}: already imported into {table} at {prev.get('at')} as {prev.get('part') or 'no new rows'}"
                    " — nothing to do",
                )
                return
            result = receipt.result
            valid_path = receipt.part
            rejects_path = target.rejects / table / f"{file.stem}-{receipt.digest[:12]}.rejects.csv"
            info = {
                "status": receipt.status,
                "digest": receipt.digest,
                "rows_added": receipt.rows_added,
                "already_present": receipt.already_present,
                "changed": receipt.changed,
            }
            message = {
                "imported": f"{file}: {receipt.rows_added:,} new row(s) → {valid_path}",
                "nothing_new": f"{file}: no new rows — all {result.valid.num_rows:,} valid row(s) are in {table}",
                "all_rejected": f"{file}: no valid row — nothing written to {table}",
            }[receipt.status]
            if receipt.already_present:
                message += f" ({receipt.already_present:,} row(s) already in the table were skipped)"
            run = RunRecord("validate", inputs=[str(file)], outputs=[str(valid_path)] if valid_path else [])
            run.counts = {
                "valid": result.valid.num_rows,
                "rejected": result.n_rejected,
                "added": receipt.rows_added,
                "already_present": receipt.already_present,
                "changed": receipt.changed,
            }
            run.extra = {"digest": receipt.digest, "status": receipt.status}
            for line, reason in zip(
                result.rejects.column("line").to_pylist(),
                result.rejects.column("reason").to_pylist(),
                strict=True,
            ):
                run.fail(f"{file}:{line}", masked(reason))
            run.finish(target)
        if result.n_rejected:
            atomic_write_text(rejects_path, rejects_csv(result.rejects, file, redact=masked))
        elif rejects_path.exists():
            rejects_path.unlink()
        o.result(
            {
                "file": str(file),
                "table": table,
                **info,
                "valid_rows": result.valid.num_rows,
                "rejected_rows": result.n_rejected,
                "valid_path": str(valid_path) if valid_path else None,
                "rejects_path": str(rejects_path) if result.n_rejected else None,
            },
            message,
        )
        if info.get("changed"):
            o.error(
                f"{info['changed']:,} row(s) differ from the rows {table} holds under the same key and were NOT "
                f"applied: an import never changes data — use `cdna data replace {table} FILE --yes`"
            )
        if result.n_rejected:
            o.error(f"{result.n_rejected:,} row(s) rejected → {rejects_path}")
            for line, reason in list(
                zip(
                    result.rejects.column("line").to_pylist(),
                    result.rejects.column("reason").to_pylist(),
                    strict=True,
                )
            )[:10]:
                o.err.print(f"  line {line}: {masked(reason)}", highlight=False)
            if result.n_rejected > 10:
                o.err.print(f"  … and {result.n_rejected - 10:,} more in {rejects_path}")
            raise typer.Exit(code=3)

    app.command(rich_help_panel="Stages")(validate)
    app.command("import", hidden=True)(validate)
