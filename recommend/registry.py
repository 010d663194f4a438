"""MLflow tracking and model registry: runs with params, metrics, report and model; aliases champion/challenger.

By default the backend is an embedded SQLite file (`sqlite:///LAKE/mlflow.db`) with artifacts under
LAKE/mlartifacts; any MLflow tracking URI works through `recommend.tracking_uri`. The champion history is
kept as a registered-model tag so `rollback` can restore the previous champion.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib

from cdna.core.errors import CdnaError
from cdna.core.lake import Lake

__all__ = ["NoChampionError", "Registry", "RegistryError", "VersionInfo"]

CHAMPION = "champion"
CHALLENGER = "challenger"
_HISTORY = "champion_history"
EXPERIMENT = "cdna-recommend"


class RegistryError(CdnaError):
    """The model registry refused an operation (unknown version, nothing to roll back to)."""

    exit_code = 2


class NoChampionError(RegistryError):
    """The registry has no champion model yet."""


@dataclass(frozen=True)
class VersionInfo:
    """One registered model version.

    Attributes:
        version: version number; run_id: MLflow run; aliases: aliases on it; created: UTC ms;
        metrics: the run's holdout metrics; tags: version tags (gate decision).
    """

    version: int
    run_id: str
    aliases: tuple[str, ...]
    created: int
    metrics: dict[str, float]
    tags: dict[str, str]


def _quiet() -> None:
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_TRACKING_INSECURE_TLS", "false")
    for name in ("mlflow", "alembic", "sqlalchemy", "urllib3"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="mlflow")


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


class Registry:
    """The recommender's MLflow experiment and registered model.

    Attributes:
        lake: the lake (default backend and artifact store).
        name: registered model name.
        uri: tracking URI.
    """

    def __init__(self, lake: Lake, name: str = "cdna-recommender", uri: str | None = None) -> None:
        _quiet()
        self.lake = lake
        self.name = name
        self.uri = uri or lake.mlflow_uri
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The MlflowClient (created on first use)."""
        if self._client is None:
            import mlflow
            from mlflow.tracking import MlflowClient

            with _silenced():
                mlflow.set_tracking_uri(self.uri)
                mlflow.set_registry_uri(self.uri)
                self._client = MlflowClient(self.uri, self.uri)
        return self._client

    def _experiment_id(self) -> str:
        with _silenced():
            exp = self.client.get_experiment_by_name(EXPERIMENT)
            if exp is not None:
                return str(exp.experiment_id)
            location = (self.lake.root / "mlartifacts").as_uri() if self.uri.startswith("sqlite:") else None
            return str(self.client.create_experiment(EXPERIMENT, artifact_location=location))

    def log_run(
        self,
        bundle: Any,
        params: dict[str, Any],
        metrics: dict[str, float],
        tags: dict[str, str],
        files: dict[str, Path] | None = None,
        run_name: str | None = None,
    ) -> str:
        """Log one training run (params, metrics, tags, files, pickled model) and return its run id."""
        exp = self._experiment_id()
        with _silenced():
            run = self.client.create_run(exp, run_name=run_name, tags=tags)
            rid = run.info.run_id
            for k, v in params.items():
                self.client.log_param(rid, k, str(v)[:500])
            for k, v in metrics.items():
                self.client.log_metric(rid, k.replace("@", "_at_"), float(v))
            with tempfile.TemporaryDirectory() as tmp:
                model_dir = Path(tmp) / "model"
                model_dir.mkdir()
                joblib.dump(bundle, model_dir / "bundle.joblib", compress=3)
                (model_dir / "MLmodel.json").write_text(
                    json.dumps({"flavor": "cdna-recommender", "params": params}, default=str, indent=2)
                )
                self.client.log_artifacts(rid, str(model_dir), "model")
            for name, path in (files or {}).items():
                self.client.log_artifact(rid, str(path), name)
            self.client.set_terminated(rid)
        return str(rid)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        """Add tags to a run (e.g. the gate decision)."""
        with _silenced():
            for k, v in tags.items():
                self.client.set_tag(run_id, k, v[:5000])

    def register(self, run_id: str) -> int:
        """Register the run's model as a new version of the registered model."""
        from mlflow.exceptions import MlflowException

        with _silenced():
            try:
                self.client.get_registered_model(self.name)
            except MlflowException:
                self.client.create_registered_model(self.name)
            source = f"{self.client.get_run(run_id).info.artifact_uri}/model"
            mv = self.client.create_model_version(self.name, source, run_id)
        return int(mv.version)

    def _history(self) -> list[int]:
        from mlflow.exceptions import MlflowException

        try:
            with _silenced():
                rm = self.client.get_registered_model(self.name)
        except MlflowException:
            return []
        return [int(v) for v in json.loads(rm.tags.get(_HISTORY, "[]"))]

    def _set_history(self, history: list[int]) -> None:
        with _silenced():
            self.client.set_registered_model_tag(self.name, _HISTORY, json.dumps(history))

    def alias(self, alias: str) -> int | None:
        """The version holding `alias`, or None."""
        from mlflow.exceptions import MlflowException

        try:
            with _silenced():
                return int(self.client.get_model_version_by_alias(self.name, alias).version)
        except MlflowException:
            return None

    def set_alias(self, alias: str, version: int) -> None:
        """Point `alias` at `version`."""
        self._check_version(version)
        with _silenced():
            self.client.set_registered_model_alias(self.name, alias, str(version))

    def _check_version(self, version: int) -> None:
        known = [v.version for v in self.versions()]
        if version not in known:
            raise RegistryError(
                f"model version {version} is not in the registry {self.name!r} (known: {known or 'none'})",
                hint=f"see `cdna models list --lake {self.lake.root}`",
            )

    def promote(self, version: int) -> int | None:
        """Make `version` the champion (recording the history); returns the previous champion."""
        self._check_version(version)
        previous = self.alias(CHAMPION)
        self.set_alias(CHAMPION, version)
        history = [v for v in self._history() if v != version] + [version]
        self._set_history(history)
        if self.alias(CHALLENGER) == version:
            with _silenced():
                self.client.delete_registered_model_alias(self.name, CHALLENGER)
        return previous

    def rollback(self) -> tuple[int, int]:
        """Restore the previous champion; returns (demoted version, restored version)."""
        current = self.alias(CHAMPION)
        if current is None:
            raise self.no_champion()
        history = [v for v in self._history() if v != current]
        if not history:
            raise RegistryError(
                f"version {current} is the only champion {self.name!r} has had: nothing to roll back to",
                hint="promote another version with `cdna models promote VERSION`",
            )
        restored = history[-1]
        self.set_alias(CHAMPION, restored)
        self._set_history(history)
        return current, restored

    def no_champion(self) -> NoChampionError:
        """The error for an empty registry."""
        return NoChampionError(
            f"no champion model yet in {self.uri} (registered model {self.name!r})",
            hint=f"run `cdna retrain --lake {self.lake.root}` first",
        )

    def versions(self) -> list[VersionInfo]:
        """All versions, newest first, with aliases and holdout metrics."""
        from mlflow.exceptions import MlflowException

        try:
            with _silenced():
                mvs = self.client.search_model_versions(f"name='{self.name}'")
        except MlflowException:
            return []
        held = {a: self.alias(a) for a in (CHAMPION, CHALLENGER)}
        out = []
        for mv in mvs:
            with _silenced():
                run = self.client.get_run(mv.run_id)
            metrics = {k.replace("_at_", "@"): v for k, v in run.data.metrics.items()}
            aliases = tuple(
                sorted(set(mv.aliases or ()) | {a for a, v in held.items() if v == int(mv.version)})
            )
            out.append(
                VersionInfo(
                    int(mv.version),
                    mv.run_id,
                    aliases,
                    int(mv.creation_timestamp),
                    metrics,
                    dict(run.data.tags),
                )
            )
        return sorted(out, key=lambda v: -v.version)

    def load(self, version: int) -> Any:
        """The ModelBundle of a version."""
        self._check_version(version)
        with _silenced():
            mv = self.client.get_model_version(self.name, str(version))
            with tempfile.TemporaryDirectory() as tmp:
                local = self.client.download_artifacts(mv.run_id, "model/bundle.joblib", tmp)
                return joblib.load(local)

    def champion(self) -> tuple[int, Any]:
        """(version, bundle) of the champion, or NoChampionError."""
        version = self.alias(CHAMPION)
        if version is None:
            raise self.no_champion()
        return version, self.load(version)
