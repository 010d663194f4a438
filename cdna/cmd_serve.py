"""`cdna serve` (issue #7) and `cdna nightly` (issue #8)."""

from __future__ import annotations

import typer

from cdna.state import not_built

__all__ = ["register"]

_EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}


def register(app: typer.Typer) -> None:
    """Add the service and scheduling commands to the CLI."""

    @app.command(rich_help_panel="Stages", context_settings=_EXTRA)
    def serve() -> None:
        """Run the staff API and console (not built yet)."""
        raise not_built("serve", 7)

    @app.command(rich_help_panel="Stages", context_settings=_EXTRA)
    def nightly() -> None:
        """Run the night's batch: transcribe → mine → features → recommend → retrain (not built yet)."""
        raise not_built("nightly", 8)
