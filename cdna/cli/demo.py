"""`cdna demo`: a small synthetic bank, then every stage that exists, end to end, with a summary."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from cdna.cli.console import Output
from cdna.cli.state import state
from cdna.core.lake import Lake

__all__ = ["DemoContext", "register"]


@dataclass
class DemoContext:
    """What demo steps share: the lake, the output, the CLI context, and notes for the summary."""

    ctx: typer.Context
    lake: Lake
    out: Output
    customers: int
    audio: bool
    notes: list[tuple[str, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _step_world(d: DemoContext) -> None:
    from cdna.cli.cmd_ingest import run_world

    summary = run_world(d.ctx, d.lake.root, customers=d.customers, audio=d.audio)
    c = summary.counts
    d.notes.append(
        (
            "synthetic bank",
            f"{c['customers']:,} customers, {c['transactions']:,} transactions, "
            f"{c['calls']:,} calls, {c['audio_files']} recordings ({summary.audio_source}) "
            f"→ {d.lake.raw_root}",
        )
    )


def _steps() -> list[tuple[str, Callable[[DemoContext], Any]]]:
    """Every stage's demo step, in pipeline order (imported lazily to keep `cdna --help` fast)."""
    from cdna.cli import demo_steps

    return [
        ("world", _step_world),
        ("transcribe", demo_steps.transcribe_step),
        ("mine", demo_steps.nlp_step),
        ("features", demo_steps.features_step),
        ("recommend", demo_steps.recommend_step),
        ("serve", demo_steps.serve_step),
    ]


def register(app: typer.Typer) -> None:
    """Add `cdna demo` to the CLI."""

    @app.command(rich_help_panel="Start here")
    def demo(
        ctx: typer.Context,
        out: Annotated[
            Path | None,
            typer.Option("--out", "-o", help="Folder for the demo lake (default: a new ./demo-<time>)."),
        ] = None,
        customers: Annotated[int, typer.Option(help="Customers in the synthetic bank.")] = 2000,
        audio: Annotated[
            bool, typer.Option("--audio/--no-audio", help="Render a few calls as audio and transcribe them.")
        ] = True,
    ) -> None:
        """Build a synthetic Korean bank and run every stage on it, end to end.

        Leaves a lake that every other command accepts as --lake DIR (or CDNA_LAKE=DIR).

        Example: [bold]cdna demo --out ./demo[/]
        """
        st = state(ctx)
        o = st.output
        folder = out or Path(f"demo-{datetime.now():%Y%m%d-%H%M%S}")
        lake = Lake.at(folder, create=True)
        d = DemoContext(ctx, lake, o, customers, audio)
        o.say(Panel.fit(f"Customer DNA demo → [bold]{lake.root}[/]", border_style="cyan"))
        timings: list[tuple[str, float]] = []
        for name, step in _steps():
            o.say(f"[bold cyan]▶ {name}[/]")
            t0 = time.perf_counter()
            step(d)
            timings.append((name, time.perf_counter() - t0))
        table = Table(title="what the demo did", show_edge=False, title_justify="left")
        table.add_column("step")
        table.add_column("result")
        table.add_column("seconds", justify="right")
        notes = dict(d.notes)
        for name, secs in timings:
            table.add_row(name, "", f"{secs:.1f}")
        for key, text in notes.items():
            if key not in ("service", "curl"):
                table.add_row(f"  {key}", text, "")
        o.result(
            {
                "lake": str(lake.root),
                "steps": {n: round(s, 2) for n, s in timings},
                "notes": notes,
                "failed": d.failed,
            },
            table,
        )
        if not o.json:
            o.out.print(
                f"\nOutputs are in [bold]{lake.root}[/]. Use it with any command: "
                f"[bold]cdna <command> --lake {lake.root}[/]  (or export CDNA_LAKE={lake.root})"
            )
            if "service" in notes:
                o.out.print(
                    "Staff console (Korean): http://127.0.0.1:8080/console — paste the API key from the curl "
                    "line below; weekly market trends at /console/market, API docs at /docs",
                    soft_wrap=True,
                    markup=False,
                    highlight=False,
                )
                # Unwrapped so both lines can be copied and pasted as they are.
                for line in (
                    "Start the staff service:",
                    f"  {notes['service']}",
                    "Then, in another terminal:",
                    f"  {notes['curl']}",
                ):
                    o.out.print(line, soft_wrap=True, markup=False, highlight=False)
        if d.failed:
            raise typer.Exit(code=3)
