"""`cdna data replace|drop|history`: the only commands that remove raw data, each asking for --yes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cdna.cli.state import state
from cdna.core.errors import NotConfirmedError

__all__ = ["register"]

data_app = typer.Typer(
    help="Replace or drop a raw table's data on purpose (imports only ever add); read the import ledger.",
    no_args_is_help=True,
)

_LAKE_HELP = "Lake folder (default: CDNA_LAKE / config)."


def _change_dict(change: Any, lake_root: Path) -> dict[str, Any]:
    return {
        "table": change.table,
        "action": change.action,
        "applied": change.applied,
        "parts_moved": [p.name for p in change.parts],
        "rows_removed": change.rows_removed,
        "backup": str(change.backup) if change.backup else None,
        "part": str(change.part) if change.part else None,
        "rows_added": change.rows_added,
        "rejected_rows": change.result.n_rejected if change.result is not None else 0,
        "lake": str(lake_root),
    }


def _refuse_without_yes(change: Any, what: str) -> None:
    raise NotConfirmedError(
        f"{what} would move {len(change.parts)} part(s) with {change.rows_removed:,} row(s) of table "
        f"{change.table!r} to a backup; nothing was changed",
        hint="add --yes to do it (the backup is kept until the next retention run, `cdna purge`)",
    )


def register(app: typer.Typer) -> None:
    """Add the `data` command group to the CLI."""

    @data_app.command("replace")
    def replace(
        ctx: typer.Context,
        table: Annotated[
            str, typer.Argument(help="Raw table: customers, holdings, transactions, web_events, calls …")
        ],
        file: Annotated[
            Path, typer.Argument(help="CSV/TSV or Parquet file whose valid rows become the table.")
        ],
        lake: Annotated[Path | None, typer.Option("--lake", "-l", help=_LAKE_HELP)] = None,
        mapping: Annotated[
            str | None, typer.Option("--mapping", "-m", help="Named column map from configs or a YAML file.")
        ] = None,
        map_: Annotated[
            list[str] | None,
            typer.Option("--map", help="One column mapping TARGET=SOURCE_OR_SQL (repeatable)."),
        ] = None,
        yes: Annotated[bool, typer.Option("--yes", help="Really replace the table's data.")] = False,
    ) -> None:
        """Replace a raw table with the valid rows of FILE; its current parts go to LAKE/_backups/.

        Without --yes it only says what would be moved (exit 2). Rejected rows are written as by
        `cdna validate` (exit 3); a file with no valid row changes nothing.

        Example: [bold]cdna data replace customers customers_fixed.csv --lake ./lake --yes[/]
        """
        from cdna.contracts.schemas import contract
        from cdna.core.lake import RunRecord, atomic_write_text
        from cdna.ingest.importer import load_mapping, rejects_csv
        from cdna.ingest.imports import replace_table
        from cdna.nlp.pii import mask_cached  # reject rows quote cells: never at rest unmasked (issue 14)

        st = state(ctx)
        o = st.output
        spec = contract(table)
        target = st.lake(lake)
        colmap = load_mapping(st.config, table, mapping, map_ or [])
        change = replace_table(target, spec, file, colmap, yes, st.config.ingest.max_line_bytes)
        if not change.applied:
            _refuse_without_yes(change, f"replacing {table} with {file}")
        run = RunRecord("data-replace", inputs=[str(file)], outputs=[str(change.part)])
        run.counts = {"rows_added": change.rows_added, "rows_removed": change.rows_removed}
        run.extra = {"backup": str(change.backup), "moved": [p.name for p in change.parts]}
        assert change.result is not None
        rejects_path = None
        if change.result.n_rejected:
            rejects_path = target.rejects / table / f"{file.stem}-replace.rejects.csv"
            atomic_write_text(
                rejects_path, rejects_csv(change.result.rejects, file, redact=lambda t: mask_cached(t).text)
            )
            run.fail(str(file), f"{change.result.n_rejected} row(s) rejected", rejects=str(rejects_path))
        run.finish(target)
        o.result(
            _change_dict(change, target.root),
            f"{table}: {change.rows_removed:,} row(s) in {len(change.parts)} part(s) → backup {change.backup}; "
            f"now {change.rows_added:,} row(s) from {file}",
        )
        if rejects_path is not None:
            o.error(f"{change.result.n_rejected:,} row(s) rejected → {rejects_path}")
            raise typer.Exit(code=3)

    @data_app.command("drop")
    def drop(
        ctx: typer.Context,
        table: Annotated[str, typer.Argument(help="Raw table whose data to drop.")],
        lake: Annotated[Path | None, typer.Option("--lake", "-l", help=_LAKE_HELP)] = None,
        part: Annotated[
            str | None,
            typer.Option(help="Drop only this part (file name under raw/TABLE/, e.g. one import's part)."),
        ] = None,
        yes: Annotated[bool, typer.Option("--yes", help="Really drop the data.")] = False,
    ) -> None:
        """Drop a raw table's data (or one import's part); it goes to LAKE/_backups/ until the next retention run.

        Without --yes it only says what would be moved (exit 2).

        Example: [bold]cdna data drop transactions --part part-20250701T010203000000Z-3f2a….parquet --lake ./lake --yes[/]
        """
        from cdna.contracts.schemas import contract
        from cdna.core.lake import RunRecord
        from cdna.ingest.imports import drop_parts

        st = state(ctx)
        o = st.output
        contract(table)  # an unknown table name is a usage error
        target = st.lake(lake)
        change = drop_parts(target, table, part, yes)
        if not change.applied:
            _refuse_without_yes(change, f"dropping {part or 'all data'} of {table}")
        run = RunRecord("data-drop", inputs=[str(p) for p in change.parts], outputs=[str(change.backup)])
        run.counts = {"rows_removed": change.rows_removed, "parts": len(change.parts)}
        run.finish(target)
        o.result(
            _change_dict(change, target.root),
            f"{table}: {change.rows_removed:,} row(s) in {len(change.parts)} part(s) → backup {change.backup}",
        )

    @data_app.command("history")
    def history(
        ctx: typer.Context,
        table: Annotated[str | None, typer.Argument(help="Only this table.")] = None,
        lake: Annotated[Path | None, typer.Option("--lake", "-l", help=_LAKE_HELP)] = None,
    ) -> None:
        """List the import ledger: every import, replace and drop, oldest first."""
        from cdna.ingest.imports import read_ledger

        st = state(ctx)
        target = st.lake(lake)
        entries = read_ledger(target, table)
        view = Table(title=f"import ledger → {target.import_ledger}", show_edge=False)
        for col in ("at", "table", "action", "status", "added", "removed", "rejected", "source / part"):
            view.add_column(col)
        for e in entries:
            view.add_row(
                str(e.get("at", "")),
                str(e.get("table", "")),
                str(e.get("action", "")),
                str(e.get("status", "")),
                f"{e.get('rows_added', 0):,}",
                f"{e.get('rows_removed', 0):,}",
                f"{e.get('rejected', 0):,}",
                f"{e.get('source') or ''} {e.get('part') or e.get('backup') or ''}".strip(),
            )
        st.output.result({"ledger": str(target.import_ledger), "entries": entries}, view)

    app.add_typer(data_app, name="data", rich_help_panel="Tools")
