"""`cdna transcribe`: nightly call transcription (issue #3)."""

from __future__ import annotations

import typer

from cdna.state import not_built

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the transcription command to the CLI."""

    @app.command(rich_help_panel="Stages", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def transcribe() -> None:
        """Transcribe call recordings with Whisper into LAKE/transcripts/ (not built yet)."""
        raise not_built("transcribe", 3)
