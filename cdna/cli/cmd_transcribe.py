"""`cdna transcribe`: nightly call transcription (issue #3)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cdna.cli.state import exit_for, parse_day, state
from cdna.contracts.results import TranscribeResult

if TYPE_CHECKING:
    from cdna.core.lake import Lake
    from cdna.ingest.asr.runner import RunSummary

__all__ = ["register", "run_transcribe"]


def _jobs(source: Path | None, lake: Lake, day: date | None, tz: str) -> tuple[list[Any], str]:
    from cdna.core.errors import InputError
    from cdna.ingest.asr.runner import check_lake, jobs_from_folder, jobs_from_manifest

    if source is None:
        return jobs_from_manifest(check_lake(lake), day, tz, root=lake.root), str(lake.raw("calls"))
    if (
        source.is_dir()
        and any(source.glob("*.parquet"))
        and not any(p.suffix.lower() not in (".parquet",) for p in source.iterdir() if p.is_file())
    ):
        root = source.parents[1] if source.parent.name == "raw" else None  # LAKE/raw/calls/
        return jobs_from_manifest(source, day, tz, root=root), str(source)  # a Parquet manifest folder
    if source.is_dir():
        return jobs_from_folder(source, day, tz), str(source)
    if source.is_file():
        root = source.parents[2] if source.parent.parent.name == "raw" else None  # LAKE/raw/calls/x.parquet
        return jobs_from_manifest(source, day, tz, root=root), str(source)
    raise InputError(
        f"input not found: {source}", hint="pass a folder of recordings or a calls manifest file"
    )


def run_transcribe(
    ctx: typer.Context, lake: Lake, source: Path | None = None, day: date | None = None, **overrides: Any
) -> RunSummary:
    """Transcribe `source` (or the lake's calls manifest) into `lake` with a progress bar; the summary."""
    from cdna.ingest.asr.options import AsrOptions
    from cdna.ingest.asr.runner import run_transcription

    st = state(ctx)
    o = st.output
    opts = AsrOptions.from_config(st.config.asr, **overrides)
    jobs, where = _jobs(source, lake, day, st.config.timezone)
    o.say(
        f"{len(jobs):,} recording(s) in {where} · {opts.backend} {opts.model} on {opts.device} · "
        f"{opts.engine} engine, {opts.workers} worker(s) × {opts.threads_per_worker} thread(s)"
    )
    with o.progress("transcribing", len(jobs), "files") as advance:

        def started(todo: int, skipped: int) -> None:
            if skipped:
                advance(skipped, info=f"{skipped:,} already done")

        def step(outcome: Any, s: RunSummary) -> None:
            advance(1, info=f"{s.audio_s / 3600:.2f} h audio · RTF {s.rtf:.3f} · {len(s.failures)} failed")

        summary = run_transcription(jobs, lake, opts, [where], on_outcome=step, on_start=started)
    return summary


def _report(ctx: typer.Context, summary: RunSummary) -> None:
    o = state(ctx).output
    data = {
        "run_id": summary.run_id,
        "model_id": summary.model_id,
        "files_seen": summary.seen,
        "done": summary.done,
        "skipped": summary.skipped,
        "failed": [{"file": f.job.path, "reason": f.reason, "message": f.message} for f in summary.failures],
        "no_speech": [f.job.path for f in summary.no_speech],
        "segments": summary.segments,
        "audio_s": round(summary.audio_s, 2),
        "wall_s": round(summary.wall_s, 2),
        "rtf": round(summary.rtf, 4),
        "outputs": [str(p) for p in summary.outputs],
        "run_record": str(summary.record),
    }
    line = (
        f"transcribed {summary.done:,} call(s), {summary.segments:,} segments, "
        f"{summary.audio_s / 60:.1f} min audio in {summary.wall_s:.1f} s (RTF {summary.rtf:.3f}, "
        f"{summary.audio_s / summary.wall_s if summary.wall_s else 0:.1f}x real time); "
        f"skipped {summary.skipped:,} already done; {len(summary.no_speech):,} without speech; "
        f"{len(summary.failures):,} failed · run record {summary.record}"
    )
    o.result(data, line, schema=TranscribeResult)
    for f in summary.no_speech[:20]:
        o.say(f"[yellow]no speech:[/] {f.message}")
    for f in summary.mislabelled[:20]:
        o.say(f"decoded by content: {f.job.path} holds {f.container} data")
    for f in summary.failures[:20]:
        o.error(f"{f.reason}: {f.message}")
    if len(summary.failures) > 20:
        o.error(f"… and {len(summary.failures) - 20:,} more in {summary.record}")


def register(app: typer.Typer) -> None:
    """Add the transcription command to the CLI."""

    @app.command(rich_help_panel="Stages")
    def transcribe(
        ctx: typer.Context,
        input_: Annotated[
            Path | None,
            typer.Option(
                "--input",
                "-i",
                help="Folder of recordings, or a calls manifest (Parquet/CSV with call_id, audio_path …). Default: the lake's raw/calls.",
            ),
        ] = None,
        out: Annotated[
            Path | None,
            typer.Option("--out", "-o", help="Lake to write transcripts/ and _runs/ into (default: --lake)."),
        ] = None,
        lake: Annotated[
            Path | None, typer.Option("--lake", "-l", help="Lake folder (default: CDNA_LAKE / config).")
        ] = None,
        date_: Annotated[
            str | None,
            typer.Option(
                "--date",
                help="Only calls of this Korea-time day, YYYY-MM-DD (also the partition for a folder input).",
            ),
        ] = None,
        model: Annotated[
            str | None,
            typer.Option(help="'default' (Whisper base), a CTranslate2 folder or an openai-whisper .pt."),
        ] = None,
        backend: Annotated[
            str | None, typer.Option(help="faster-whisper (default) or openai-whisper (torch extra).")
        ] = None,
        engine: Annotated[str | None, typer.Option(help="local (process pool) or ray (actor pool).")] = None,
        workers: Annotated[
            int | None, typer.Option(min=1, help="Worker processes / actors, one model each.")
        ] = None,
        threads: Annotated[int | None, typer.Option(min=1, help="CPU threads per worker.")] = None,
        device: Annotated[str | None, typer.Option(help="cpu or cuda.")] = None,
    ) -> None:
        """Transcribe call recordings with Whisper into LAKE/transcripts/ (speaker roles, timings, VAD).

        Stereo calls are transcribed per channel and labelled agent/customer (config asr.channel_roles);
        calls already transcribed with the same model are skipped; bad files are listed and give exit 3.

        Example: [bold]cdna transcribe --lake ./lake --date 2025-06-30[/]
        """
        from cdna.core.errors import ConfigError

        choices = {
            "backend": (backend, ("faster-whisper", "openai-whisper")),
            "engine": (engine, ("local", "ray")),
            "device": (device, ("cpu", "cuda")),
        }
        for name, (value, allowed) in choices.items():
            if value is not None and value not in allowed:
                raise ConfigError(
                    f"--{name} {value!r} is not allowed", hint=f"use one of: {', '.join(allowed)}"
                )
        try:
            day = parse_day(date_, "--date")
        except ValueError as exc:
            raise ConfigError(f"--date {date_!r} is not a date", hint="use YYYY-MM-DD") from exc
        st = state(ctx)
        target = st.lake(out or lake, create=input_ is not None)
        summary = run_transcribe(
            ctx,
            target,
            input_,
            day,
            model=model,
            backend=backend,
            engine=engine,
            workers=workers,
            threads_per_worker=threads,
            device=device,
        )
        _report(ctx, summary)
        exit_for(len(summary.failures))
