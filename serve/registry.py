"""Read-only view of the MLflow model registry (LAKE/mlflow.db): versions, aliases, the champion."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ModelVersionInfo", "RegistryView", "read_registry"]

_log = logging.getLogger("cdna.serve")


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
    db = Path(lake_root) / "mlflow.db"
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
