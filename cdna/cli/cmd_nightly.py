"""`cdna nightly` (the night's batch), `cdna runs list|show` and `cdna purge` (retention)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from cdna.cli.state import parse_day, state
from cdna.core.errors import CdnaError
from cdna.core.lake import Lake

__all__ = ["register"]

runs_app = typer.Typer(
    help="Run records of every stage (LAKE/_runs/): list them, show one.", no_args_is_help=True
)


def _last_data_day(lake_root: Path, tz: str) -> date:
    """The Korea-time date of the newest call in the manifest (the night to process by default)."""
    import duckdb

    calls = Lake(lake_root).raw("calls")
    if not any(calls.glob("*.parquet")):
        return datetime.now(ZoneInfo(tz)).date()
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{tz}'")
    (value,) = con.execute(f"SELECT max(started_at)::DATE FROM read_parquet('{calls}/*.parquet')").fetchall()[
        0
    ]
    return value or datetime.now(ZoneInfo(tz)).date()


def register(app: typer.Typer) -> None:
    """Add the nightly, runs and purge commands to the CLI."""

    @app.command(rich_help_panel="Stages")
    def nightly(
        ctx: typer.Context,
        lake: Annotated[
            Path | None, typer.Option("--lake", "-l", help="Lake folder (default: CDNA_LAKE / config).")
        ] = None,
        date_: Annotated[
            str | None,
            typer.Option(
                "--date", help="The night to run, YYYY-MM-DD (Korea time; default: the newest call's date)."
            ),
        ] = None,
        from_: Annotated[
            str | None, typer.Option("--from", help="Backfill from this date (with --to), in date order.")
        ] = None,
        to: Annotated[str | None, typer.Option("--to", help="Backfill up to this date, inclusive.")] = None,
        engine: Annotated[
            str, typer.Option(help="Transcription engine: local (process pool) or ray.")
        ] = "local",
        force: Annotated[
            bool, typer.Option("--force", help="Run a night again even if it is recorded as complete.")
        ] = False,
        no_purge: Annotated[
            bool, typer.Option("--no-purge", help="Skip retention after the stages.")
        ] = False,
        dry_run_purge: Annotated[
            bool, typer.Option("--dry-run-purge", help="List what retention would delete, delete nothing.")
        ] = False,
    ) -> None:
        """Run the night's batch: transcribe → mine → features → recommend → retrain --if-needed → retention.

        Each stage skips work already done, so a rerun of a finished night does nothing. A stage with
        partial failures (a corrupt recording, rejected rows) lets the night go on and the exit code is 3;
        a stage that fails outright stops the night (exit 1) naming the stage and its log. The report goes
        to LAKE/_runs/nightly-<date>.json and .html; `cdna runs show <date>` prints it.

        Examples: [bold]cdna nightly --lake ./lake --date 2025-06-30[/]   ·   [bold]cdna nightly --lake ./lake --from 2025-06-28 --to 2025-06-30[/]
        """
        from cdna.cli.nightly import NightOptions, nights, run_night

        st = state(ctx)
        o = st.output
        the_lake = st.lake(lake)
        if engine not in ("local", "ray"):
            raise typer.BadParameter("use local or ray", param_hint="--engine")
        start, end, single = parse_day(from_, "--from"), parse_day(to, "--to"), parse_day(date_, "--date")
        if (start is None) != (end is None):
            raise typer.BadParameter("give both --from and --to for a backfill", param_hint="--from/--to")
        if start and end:
            if single:
                raise typer.BadParameter("use either --date or --from/--to", param_hint="--date")
            if end < start:
                raise typer.BadParameter(f"--to {end} is before --from {start}", param_hint="--to")
            days = nights(start, end)
        else:
            days = [single or _last_data_day(the_lake.root, st.config.timezone)]
        results = []
        worst = 0
        for day in days:
            opts = NightOptions(the_lake, day, engine, st.config_path, force, not no_purge, dry_run_purge)
            o.say(f"[bold cyan]night {day}[/]")

            def on_stage(name: str, status: str) -> None:
                if status == "start":
                    o.say(f"  ▶ {name} …")
                else:
                    colour = {"ok": "green", "partial": "yellow", "failed": "red"}.get(status, "white")
                    o.say(f"  [{colour}]{status}[/] {name}")

            res = run_night(opts, st.config, on_stage)
            results.append(res)
            worst = max(worst, {0: 0, 3: 1, 1: 2}.get(res.exit_code, 2))
            o.say(("  " if res.skipped else "  → ") + res.message)
            if res.exit_code == 1:
                break
        if st.quiet and not st.json:
            # one line for cron (issue 18: --quiet still printed a box table with a truncated path)
            from cdna.cli.nightly import one_line

            for res in results:
                print(one_line(res, the_lake.runs / f"nightly-{res.day}.html"), flush=True)
            failed = next((r for r in results if r.exit_code == 1), None)
            if failed:
                raise typer.Exit(code=1)
            if worst:
                raise typer.Exit(code=3)
            return
        table = Table(title="nightly", show_edge=False, title_justify="left")
        for col in ("night", "status", "stages", "seconds", "report"):
            table.add_column(col)
        for res in results:
            stages = " ".join(f"{s.name}:{s.status}" for s in res.stages) or "(skipped)"
            report = str(the_lake.runs / f"nightly-{res.day}.html")
            table.add_row(res.day, res.status, stages, f"{res.wall_s:.1f}", report)
        o.result(
            {
                "nights": [
                    {
                        "day": r.day,
                        "status": r.status,
                        "exit_code": r.exit_code,
                        "skipped": r.skipped,
                        "message": r.message,
                        "stages": {s.name: s.status for s in r.stages},
                        "retention": r.retention.get("summary", {}),
                    }
                    for r in results
                ]
            },
            table,
        )
        failed = next((r for r in results if r.exit_code == 1), None)
        if failed:
            raise CdnaError(
                failed.message, hint="fix the cause, then rerun the same command: finished work is skipped"
            )
        if worst:
            raise typer.Exit(code=3)

    @runs_app.command("list")
    def runs_list(
        ctx: typer.Context,
        lake: Annotated[
            Path | None, typer.Option("--lake", "-l", help="Lake folder (default: CDNA_LAKE / config).")
        ] = None,
        stage: Annotated[
            str | None, typer.Option(help="Only this stage (e.g. nightly, transcribe, mine).")
        ] = None,
        limit: Annotated[int, typer.Option(help="How many, newest first.")] = 30,
    ) -> None:
        """List run records, newest first."""
        from cdna.core.runs import list_runs

        st = state(ctx)
        runs = [
            r
            for r in list_runs(st.lake(lake))
            if stage is None or str(r.get("_file", "")).startswith(stage + "-")
        ]
        runs = runs[:limit]
        table = Table(show_edge=False)
        for col in ("run", "status", "started", "seconds", "failures"):
            table.add_column(col)
        for r in runs:
            table.add_row(
                r["_file"].removesuffix(".json"),
                str(r.get("status")),
                str(r.get("started_at")),
                str(r.get("wall_s")),
                str(len(r.get("failures", [])) if "failures" in r else ""),
            )
        st.output.result(
            {"runs": [{k: r.get(k) for k in ("_file", "status", "started_at", "wall_s")} for r in runs]},
            table,
        )

    @runs_app.command("show")
    def runs_show(
        ctx: typer.Context,
        ref: Annotated[str, typer.Argument(help="Run id, file name, or a nightly date (YYYY-MM-DD).")],
        lake: Annotated[
            Path | None, typer.Option("--lake", "-l", help="Lake folder (default: CDNA_LAKE / config).")
        ] = None,
    ) -> None:
        """Show one run record (a nightly date shows that night's report)."""
        from cdna.core.runs import flatten, load_run

        st = state(ctx)
        the_lake = st.lake(lake)
        data = load_run(the_lake, ref)
        if data is None:
            raise CdnaError(
                f"no run record {ref!r} in {the_lake.runs}", hint="`cdna runs list` shows what exists"
            )
        if st.output.json:
            st.output.result(data)
            return
        table = Table(title=data["_file"], show_edge=False, title_justify="left")
        table.add_column("key")
        table.add_column("value")
        for key, value in flatten({k: v for k, v in data.items() if k not in ("stages", "_file")}):
            table.add_row(key, value)
        for s in data.get("stages", []):
            table.add_row(
                f"stage {s['name']}", f"{s['status']} (exit {s['exit_code']}, {s['wall_s']} s) log {s['log']}"
            )
            for rec in s.get("run_records", []):
                for f in rec.get("failures", [])[:20]:
                    table.add_row("  failed", f"{f.get('item')}: {f.get('reason')}")
        st.output.out.print(table)
        html_path = the_lake.runs / (data["_file"].removesuffix(".json") + ".html")
        if html_path.exists():
            st.output.out.print(f"HTML report: {html_path}")

    app.add_typer(runs_app, name="runs", rich_help_panel="Tools")

    @app.command(rich_help_panel="Tools")
    def purge(
        ctx: typer.Context,
        lake: Annotated[
            Path | None, typer.Option("--lake", "-l", help="Lake folder (default: CDNA_LAKE / config).")
        ] = None,
        as_of: Annotated[
            str | None, typer.Option(help="Reference date, YYYY-MM-DD (default: the newest call's date).")
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="List what would be deleted; delete nothing.")
        ] = False,
    ) -> None:
        """Apply retention: delete raw audio, unmasked transcripts and run logs past the configured age.

        Ages come from config `retention` (keep_raw_days, keep_transcripts_days, keep_runs_days). Masked
        signals, features and recommendations are never purged; unmined transcripts are kept.
        """
        from cdna.core.lake import RunRecord
        from cdna.ingest.retention import apply_purge, plan_purge

        st = state(ctx)
        the_lake = st.lake(lake)
        day = parse_day(as_of, "--as-of") or _last_data_day(the_lake.root, st.config.timezone)
        plan = plan_purge(the_lake, st.config.retention, day)
        removed = 0 if dry_run else apply_purge(plan)
        run = RunRecord(
            "purge",
            counts={"removed": removed, "planned": len(plan.items)},
            extra={
                "as_of": str(day),
                "dry_run": dry_run,
                "summary": plan.summary(),
                "items": [str(i.path) for i in plan.items],
            },
        )
        run.finish(the_lake)
        table = Table(title=("would delete" if dry_run else "deleted") + f" (as of {day})", show_edge=False)
        table.add_column("kind")
        table.add_column("path")
        table.add_column("reason")
        for item in plan.items:
            table.add_row(item.kind, str(item.path), item.reason)
        for path, why in plan.kept:
            table.add_row("kept", path, why)
        st.output.result(
            {
                "as_of": str(day),
                "dry_run": dry_run,
                "removed": removed,
                "items": [{"kind": i.kind, "path": str(i.path), "reason": i.reason} for i in plan.items],
                "summary": plan.summary(),
            },
            table,
        )
