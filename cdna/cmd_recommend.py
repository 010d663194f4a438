"""`cdna train|evaluate|retrain|recommend`: the product recommender (issue #6)."""

from __future__ import annotations

import typer

from cdna.state import not_built

__all__ = ["register"]

_EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}


def register(app: typer.Typer) -> None:
    """Add the recommender commands to the CLI."""

    @app.command(rich_help_panel="Stages", context_settings=_EXTRA)
    def train() -> None:
        """Train a recommender on point-in-time training sets (not built yet)."""
        raise not_built("train", 6)

    @app.command(rich_help_panel="Stages", context_settings=_EXTRA)
    def evaluate() -> None:
        """Evaluate champion, challenger and baselines on the same holdout (not built yet)."""
        raise not_built("evaluate", 6)

    @app.command(rich_help_panel="Stages", context_settings=_EXTRA)
    def retrain() -> None:
        """Train a challenger and promote it only if it beats the champion (not built yet)."""
        raise not_built("retrain", 6)

    @app.command(rich_help_panel="Stages", context_settings=_EXTRA)
    def recommend() -> None:
        """Score customers and explain each recommendation in Korean (not built yet)."""
        raise not_built("recommend", 6)
