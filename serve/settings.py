"""Service settings: one frozen object built from the `serve:` config section and the lake folder."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cdna.core.config import DEFAULT_PURPOSES, ServeConfig
from cdna.core.errors import ConfigError
from cdna.core.lake import Lake

__all__ = ["ENV_SETTINGS", "ServeSettings"]

# uvicorn starts each worker process from an import string, so settings travel as JSON in the environment.
ENV_SETTINGS = "CDNA_SERVE_SETTINGS"
# `cdna.cli` has no `__main__` guard, so the CLI is started the way its console script does.
_CLI = "import sys; from cdna.cli.app import main; sys.exit(main())"


def _default_retrain_command() -> tuple[str, ...]:
    return (sys.executable, "-c", _CLI, "--json", "retrain", "--lake", "{lake}")


def _default_rescore_command() -> tuple[str, ...]:
    # `recommend --all` writes LAKE/recommendations/date=D/ and the online top-k store (and needs an --out copy).
    out = str(Lake(Path("{lake}")).tmp_dir("serve") / "rescored.parquet")
    return (sys.executable, "-c", _CLI, "--json", "recommend", "--all", "--out", out, "--lake", "{lake}")


@dataclass(frozen=True)
class ServeSettings:
    """Everything the app needs, passed whole to `create_app` (nothing is read at import time).

    Attributes:
        lake: the lake folder (online store, batch scores, registry, keys, audit).
        host / port / workers: where uvicorn listens.
        rate_limit_per_minute: sustained requests per key per minute.
        rate_limit_burst: requests a key may send at once.
        reload_interval_s: seconds between polls of the champion alias and the serving files.
        max_k: largest `k` accepted by the recommendations endpoint.
        audit: write the access log.
        audit_key_file / audit_key_env: the checkpoint signing key, outside the lake (the variable wins;
            the file is created owner-only on first start when missing).
        audit_checkpoint_every: rows between signed checkpoints.
        audit_timeout_s: how long a lookup waits for its audit row before a 503 (fail closed).
        audit_queue: audit rows that may wait for the writer thread before lookups are refused.
        purposes: allowed X-Purpose values of customer lookups (400 otherwise).
        contact_search_roles: roles that may search by phone tail or name initials (masked, audited).
        online_store / redis_url: sqlite (embedded) or redis (shared by workers and hosts) online stores.
        retrain_command: argv of the background retrain; `{lake}` is replaced by the lake path.
        rescore_command: argv run after a retrain that promoted a new champion (batch scores for it);
            empty to skip.
        console: serve the staff console at /console.
        fast_lookup: answer the plain recommendations lookup before FastAPI's routing (same functions, same
            audit; everything else goes through the app). Off only to compare the two paths.
    """

    lake: Path
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    rate_limit_per_minute: int = 6000
    rate_limit_burst: int = 100
    reload_interval_s: float = 5.0
    max_k: int = 20
    audit: bool = True
    audit_key_file: Path | None = Path("~/.config/cdna/audit.key")
    audit_key_env: str | None = "CDNA_AUDIT_KEY"
    audit_checkpoint_every: int = 1000
    audit_timeout_s: float = 2.0
    audit_queue: int = 10000
    fast_lookup: bool = True
    purposes: tuple[str, ...] = DEFAULT_PURPOSES
    contact_search_roles: tuple[str, ...] = ("staff", "ml", "admin")
    online_store: str = "sqlite"
    redis_url: str = "redis://127.0.0.1:6379/0"
    retrain_command: tuple[str, ...] = field(default_factory=_default_retrain_command)
    rescore_command: tuple[str, ...] = field(default_factory=_default_rescore_command)
    console: bool = True

    @classmethod
    def from_config(cls, cfg: ServeConfig, lake: Path, **overrides: Any) -> ServeSettings:
        """Settings from the `serve:` config section, the lake, and explicit overrides (CLI options)."""
        values: dict[str, Any] = {
            "lake": Path(lake),
            "host": cfg.host,
            "port": cfg.port,
            "workers": cfg.workers,
            "rate_limit_per_minute": cfg.rate_limit_per_minute,
            "rate_limit_burst": cfg.rate_limit_burst,
            "reload_interval_s": cfg.reload_interval_s,
            "max_k": cfg.max_k,
            "audit": cfg.audit,
            "audit_key_file": cfg.audit_key_file,
            "audit_key_env": cfg.audit_key_env,
            "audit_checkpoint_every": cfg.audit_checkpoint_every,
            "audit_timeout_s": cfg.audit_timeout_s,
            "audit_queue": cfg.audit_queue,
            "purposes": tuple(cfg.purposes),
            "contact_search_roles": tuple(cfg.contact_search_roles),
            "online_store": cfg.online_store,
            "redis_url": cfg.redis_url,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def to_env(self) -> str:
        """JSON for ENV_SETTINGS (read back by `from_env` in each worker)."""
        data = asdict(self)
        data["lake"] = str(self.lake)
        data["audit_key_file"] = str(self.audit_key_file) if self.audit_key_file else None
        data["purposes"] = list(self.purposes)
        data["contact_search_roles"] = list(self.contact_search_roles)
        data["retrain_command"] = list(self.retrain_command)
        data["rescore_command"] = list(self.rescore_command)
        return json.dumps(data)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServeSettings:
        """Settings from ENV_SETTINGS, or a ConfigError saying how the service must be started."""
        raw = (os.environ if environ is None else environ).get(ENV_SETTINGS)
        if not raw:
            raise ConfigError(
                f"{ENV_SETTINGS} is not set", hint="start the service with `cdna serve --lake LAKE`"
            )
        data = json.loads(raw)
        data["lake"] = Path(data["lake"])
        if data.get("audit_key_file"):
            data["audit_key_file"] = Path(data["audit_key_file"])
        for name in ("purposes", "contact_search_roles"):
            if name in data:
                data[name] = tuple(data[name])
        data["retrain_command"] = tuple(data.get("retrain_command") or _default_retrain_command())
        data["rescore_command"] = tuple(data.get("rescore_command", _default_rescore_command()))
        return cls(**data)

    def retrain_argv(self) -> list[str]:
        """The retrain command line with the lake filled in."""
        return [part.replace("{lake}", str(self.lake)) for part in self.retrain_command]

    def rescore_argv(self) -> list[str]:
        """The re-scoring command line with the lake filled in (empty: no re-scoring)."""
        return [part.replace("{lake}", str(self.lake)) for part in self.rescore_command]
