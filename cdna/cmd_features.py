"""`cdna features …`: the customer-DNA feature store (issue #5)."""

from __future__ import annotations

import typer

from cdna.state import not_built

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the feature-store commands to the CLI."""

    @app.command(rich_help_panel="Stages", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def features() -> None:
        """Point-in-time snapshots, training sets, segments and the online store (not built yet)."""
        raise not_built("features", 5)
