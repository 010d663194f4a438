"""`cdna mlflow-ui`: the MLflow UI over a lake's runs, metrics, reports and model registry (issue 18)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from cdna.cli.state import state
from cdna.core.errors import ConfigError
from cdna.core.lake import Lake

__all__ = ["mlflow_ui_argv", "register"]


def mlflow_ui_argv(lake_root: Path, host: str, port: int) -> list[str]:
    """The `mlflow server` command line that serves this lake's store (runs and registry)."""
    exe = shutil.which("mlflow") or str(Path(sys.executable).parent / "mlflow")
    return [
        exe,
        "server",
        "--backend-store-uri",
        Lake(lake_root).mlflow_uri,
        "--default-artifact-root",
        Lake(lake_root).mlartifacts.as_uri(),
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
    ]


def register(app: typer.Typer) -> None:
    """Add `cdna mlflow-ui` to the CLI."""

    @app.command("mlflow-ui", rich_help_panel="Models")
    def mlflow_ui(
        ctx: typer.Context,
        lake: Annotated[
            Path | None, typer.Option("--lake", "-l", help="Lake folder (default: CDNA_LAKE / config).")
        ] = None,
        host: Annotated[
            str, typer.Option(help="Interface to listen on (loopback by default).")
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port of the UI.")] = 5000,
    ) -> None:
        """Start the MLflow UI on the lake's runs and registry (Ctrl-C stops it).

        Example: [bold]cdna mlflow-ui --lake ./lake[/], then open http://127.0.0.1:5000
        """
        from cdna.recommend.mlflow_store import relocate

        st = state(ctx)
        lk = st.lake(lake)
        db = lk.mlflow_db
        if not db.is_file():
            raise ConfigError(
                f"no MLflow store in {lk.root} ({db.name} is missing)",
                hint=f"train a model first: `cdna retrain --lake {lk.root}`",
            )
        relocate(db, lk.root)  # a copied or restored lake: point artifact paths at this folder
        argv = mlflow_ui_argv(lk.root, host, port)
        st.output.say(f"MLflow UI on http://{host}:{port} (runs and registry of {lk.root}); Ctrl-C stops it")
        env = {**os.environ, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
        sys.stdout.flush()
        sys.stderr.flush()
        # become the server: Ctrl-C and SIGTERM reach it (and its job workers) directly, no orphan is left
        os.execve(argv[0], argv, env)
