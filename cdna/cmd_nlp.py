"""`cdna mine`, `cdna mask`, `cdna intent`: Korean NLP signals (issue #4)."""

from __future__ import annotations

import typer

from cdna.state import not_built

__all__ = ["register"]

_EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}


def register(app: typer.Typer) -> None:
    """Add the NLP commands to the CLI."""

    @app.command(rich_help_panel="Stages", context_settings=_EXTRA)
    def mine() -> None:
        """Mine masked intents, interests and complaints from transcripts and memos (not built yet)."""
        raise not_built("mine", 4)

    @app.command(rich_help_panel="Tools", context_settings=_EXTRA)
    def mask() -> None:
        """Mask personal data in text lines from stdin (not built yet)."""
        raise not_built("mask", 4)

    @app.command(rich_help_panel="Tools", context_settings=_EXTRA)
    def intent() -> None:
        """Classify call-center utterances into intents (not built yet)."""
        raise not_built("intent", 4)
