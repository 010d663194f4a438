"""`cdna privacy scan`: personal data at rest outside the raw zone (issue 14, item 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cdna.cli.state import state

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add `cdna privacy scan` to the CLI."""
    privacy = typer.Typer(help="Privacy checks on a lake.", no_args_is_help=True)
    app.add_typer(privacy, name="privacy", rich_help_panel="Tools")

    @privacy.command("scan")
    def scan(
        ctx: typer.Context,
        lake: Annotated[
            Path | None, typer.Option("--lake", "-l", help="Lake folder (default: CDNA_LAKE / config).")
        ] = None,
        show: Annotated[int, typer.Option(help="Places listed at most (all are counted).")] = 50,
    ) -> None:
        """Look for resident, foreigner, phone, card and account numbers outside raw/, audio/, transcripts/.

        Reads Parquet string columns, SQLite databases (the service's, MLflow's), HTML reports, logs, JSON
        and other text. Exit code 1 when anything is found (each place is named: file and column/row, table
        and rowid, or line; excerpts are masked), 0 when the lake is clean.

        Example: [bold]cdna privacy scan --lake ./demo[/]
        """
        from cdna.contracts.results import PrivacyScanResult
        from cdna.nlp.privacy_scan import scan_lake

        st = state(ctx)
        lk = st.lake(lake)
        report = scan_lake(lk)
        data = report.to_dict(limit=show)
        if report.clean:
            message = (
                f"no personal data outside the raw zone ({sum(report.files.values()):,} file(s), "
                f"{report.values:,} value(s) read)"
            )
        else:
            lines = [f"{len(report.findings):,} item(s) of personal data outside the raw zone:"]
            lines += [f"  {f.path} · {f.where} · {f.type} · {f.excerpt}" for f in report.findings[:show]]
            if len(report.findings) > show:
                lines.append(f"  … and {len(report.findings) - show:,} more (--show N lists more)")
            lines.append("  → mask or delete them, then fix the writer that put them there")
            message = "\n".join(lines)
        st.output.result(data, message, schema=PrivacyScanResult)
        if not report.clean:
            raise typer.Exit(code=1)
