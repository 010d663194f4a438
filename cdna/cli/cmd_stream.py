"""`cdna stream`: apply events from a Redis Stream as `POST /v1/events` does (issue 16)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cdna.cli.state import state

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the stream command to the CLI."""

    @app.command(rich_help_panel="Stages")
    def stream(
        ctx: typer.Context,
        source: Annotated[
            str,
            typer.Option(
                "--source",
                help="redis://HOST:PORT/DB (add ?stream=KEY&group=NAME to override the options below).",
            ),
        ],
        lake: Annotated[
            Path | None, typer.Option("--lake", "-l", help="Lake folder (default: CDNA_LAKE / config).")
        ] = None,
        stream_key: Annotated[
            str | None, typer.Option("--stream", help="Stream key (default cdna:events).")
        ] = None,
        group: Annotated[str | None, typer.Option(help="Consumer group (default cdna).")] = None,
        consumer: Annotated[
            str | None,
            typer.Option(help="This consumer's name; keep it across restarts (default: the host name)."),
        ] = None,
        batch: Annotated[int, typer.Option(min=1, max=1000, help="Entries per read (at most).")] = 1000,
        exit_when_idle: Annotated[
            bool,
            typer.Option("--exit-when-idle", help="Stop once the stream has nothing new (backfills, tests)."),
        ] = False,
    ) -> None:
        """Consume events from a Redis Stream with a consumer group: at-least-once delivery, applied once.

        Each entry holds one event as JSON in its `event` field (or a JSON list in `events`), in the format of
        `POST /v1/events`. Entries are acknowledged after their effects are stored; refused events go to
        `<stream>:dead` with the reason. Stop with Ctrl-C or SIGTERM (the current batch finishes).

        Example: [bold]cdna stream --source redis://127.0.0.1:6379/0 --lake ./lake[/]
        """
        from cdna.core.heap import freeze_heap
        from cdna.serve.events import EventProcessor
        from cdna.serve.stream import StreamOptions, consume

        st = state(ctx)
        lk = st.lake(lake)
        opts = StreamOptions.from_url(
            source,
            stream=stream_key,
            group=group,
            consumer=consumer,
            batch=batch,
            exit_when_idle=exit_when_idle,
        )
        proc = EventProcessor(lk, st.config)
        proc.warm()
        freeze_heap()  # a long-running consumer: start-up's rows out of the collector's sight (issue 16)
        try:
            stats = consume(opts, proc.process)
        finally:
            proc.close()
        st.output.result(
            {
                "entries": stats.entries,
                "applied": stats.applied,
                "duplicates": stats.duplicates,
                "refused": stats.refused,
                "batches": stats.batches,
            },
            f"{stats.entries:,} entries in {stats.batches:,} batches: {stats.applied:,} applied, "
            f"{stats.duplicates:,} already applied, {stats.refused:,} refused",
        )
