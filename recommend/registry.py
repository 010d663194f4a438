"""MLflow tracking and model registry: runs with params, metrics, report and model; aliases champion/challenger.

By default the backend is an embedded SQLite file (`sqlite:///LAKE/mlflow.db`) with artifacts under
LAKE/mlartifacts; any MLflow tracking URI works through `recommend.tracking_uri`. The champion history is
kept as a registered-model tag so `rollback` can restore the previous champion.
"""

from __future__ import annotations

import contextlib
import getpass
import io
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import joblib

from cdna.core.errors import CdnaError
from cdna.core.lake import Lake

__all__ = [
    "ModelVersionInfo",
    "NoChampionError",
    "Registry",
    "RegistryError",
    "RegistryView",
    "VersionInfo",
    "read_registry",
]

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


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return os.environ.get("USER", "cdna")


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

            if self.uri == self.lake.mlflow_uri:
                from cdna.recommend.mlflow_store import relocate

                # a copied or restored lake: its stored artifact paths still name the old folder
                relocate(self.lake.mlflow_db, self.lake.root)
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
            location = self.lake.mlartifacts.as_uri() if self.uri.startswith("sqlite:") else None
            created = str(self.client.create_experiment(EXPERIMENT, artifact_location=location))
        if self.uri == self.lake.mlflow_uri:
            from cdna.recommend.mlflow_store import pin_default_experiment

            pin_default_experiment(self.lake.mlflow_db, self.lake.root)
        return created

    def log_run(
        self,
        bundle: Any,
        params: dict[str, Any],
        metrics: dict[str, float],
        tags: dict[str, str],
        files: dict[str, Path] | None = None,
        run_name: str | None = None,
        scoring: Any = None,
    ) -> str:
        """Log one run (params, metrics, tags, files and, with `bundle`, the pyfunc model); returns its id.

        `scoring` (a `mlflow_model.ScoringContext`) makes the model an MLflow pyfunc that scores a snapshot
        frame; `bundle=None` logs an evaluation without a model. The run is named "<kind> <KST time>"
        unless named, and records the OS user (issue 18: every run was `retrain` by `unknown`).
        """
        exp = self._experiment_id()
        kind = tags.get("kind", "run")
        stamp = datetime.now(ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%d %H:%M KST")
        tags = {"mlflow.user": _user(), "mlflow.source.name": f"cdna {kind}", **tags}
        with _silenced():
            run = self.client.create_run(exp, run_name=run_name or f"{kind} {stamp}", tags=tags)
            rid = run.info.run_id
            for k, v in params.items():
                self.client.log_param(rid, k, str(v)[:500])
            for k, v in metrics.items():
                self.client.log_metric(rid, k.replace("@", "_at_"), float(v))
            if bundle is not None:
                with tempfile.TemporaryDirectory() as tmp:
                    model_dir = Path(tmp) / "model"
                    if scoring is not None:
                        from cdna.recommend.mlflow_model import save_pyfunc

                        save_pyfunc(bundle, scoring, model_dir)
                    else:
                        model_dir.mkdir()
                        joblib.dump(bundle, model_dir / "bundle.joblib", compress=3)
                    self.client.log_artifacts(rid, str(model_dir), "model")
            for name, path in (files or {}).items():
                self.client.log_artifact(rid, str(path), name)
            self.client.set_terminated(rid)
        return str(rid)

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
                names = {f.path for f in self.client.list_artifacts(mv.run_id, "model/artifacts")}
                # pyfunc models keep the bundle among their artefacts; earlier versions beside MLmodel
                path = (
                    "model/artifacts/bundle.joblib"
                    if "model/artifacts/bundle.joblib" in names
                    else "model/bundle.joblib"
                )
                local = self.client.download_artifacts(mv.run_id, path, tmp)
                return joblib.load(local)

    def champion(self) -> tuple[int, Any]:
        """(version, bundle) of the champion, or NoChampionError."""
        version = self.alias(CHAMPION)
        if version is None:
            raise self.no_champion()
        return version, self.load(version)


# ---------------------------------------------------------------- read-only view (service, nightly)
# The one cheap way to ask "who is champion?" without the write client: serve polls it, nightly checks it.


@dataclass(frozen=True)
class ModelVersionInfo:
    """One registered model version.

    Attributes:
        name: registered model name.
        version: version number as a string.
        aliases: aliases pointing at it (champion, challenger).
        run_id: the MLflow run that produced it.
        status: MLflow status (READY …).
        created_at_ms: creation time in epoch milliseconds.
    """

    name: str
    version: str
    aliases: tuple[str, ...] = ()
    run_id: str | None = None
    status: str | None = None
    created_at_ms: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "version": self.version,
            "aliases": list(self.aliases),
            "run_id": self.run_id,
            "status": self.status,
            "created_at_ms": self.created_at_ms,
        }


@dataclass(frozen=True)
class RegistryView:
    """What the registry holds right now.

    Attributes:
        versions: every version of every registered model.
        champion: the version behind alias `champion` (first model that has one), or None.
    """

    versions: tuple[ModelVersionInfo, ...] = ()
    champion: ModelVersionInfo | None = None
    source: str = field(default="none")

    @property
    def champion_key(self) -> tuple[str, str] | None:
        """(name, version) of the champion, used to detect a promotion."""
        return (self.champion.name, self.champion.version) if self.champion else None


def read_registry(lake_root: Path) -> RegistryView:
    """Versions and aliases of LAKE/mlflow.db (an empty view when the registry does not exist yet).

    Never creates the database: an absent file means no model has been registered.
    """
    db = Lake(lake_root).mlflow_db
    if not db.is_file():
        return RegistryView()
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{db}", registry_uri=f"sqlite:///{db}")
    versions: list[ModelVersionInfo] = []
    champion: ModelVersionInfo | None = None
    for rm in client.search_registered_models():
        # search_model_versions leaves `aliases` empty on some MLflow versions; the model's map is reliable.
        by_version: dict[str, list[str]] = {}
        for alias, version in (getattr(rm, "aliases", None) or {}).items():
            by_version.setdefault(str(version), []).append(alias)
        for mv in client.search_model_versions(f"name='{rm.name}'"):
            info = ModelVersionInfo(
                name=rm.name,
                version=str(mv.version),
                aliases=tuple(
                    sorted(set(getattr(mv, "aliases", None) or ()) | set(by_version.get(str(mv.version), ())))
                ),
                run_id=mv.run_id,
                status=str(mv.status) if mv.status is not None else None,
                created_at_ms=int(mv.creation_timestamp) if mv.creation_timestamp else None,
            )
            versions.append(info)
            if champion is None and "champion" in info.aliases:
                champion = info
    versions.sort(key=lambda v: (v.name, int(v.version) if v.version.isdigit() else 0))
    return RegistryView(tuple(versions), champion, "mlflow")
