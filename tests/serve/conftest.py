"""Fixtures of the service tests: a small contract-shaped lake, keys of each role, and a TestClient."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cdna.core.lake import Lake
from cdna.serve.app import create_app
from cdna.serve.keys import KeyStore, keys_path
from cdna.serve.settings import ServeSettings
from tests.serve.lakes import N_DEFAULT, make_lake

N_CUSTOMERS = N_DEFAULT


@dataclass
class Keys:
    staff: str
    ml: str
    admin: str

    def h(self, role: str = "staff", purpose: str | None = "review") -> dict[str, str]:
        """Headers of a call with this role's key and (customer lookups need one) an allowed purpose."""
        headers = {"Authorization": f"Bearer {getattr(self, role)}"}
        if purpose is not None:
            headers["X-Purpose"] = purpose
        return headers


@pytest.fixture(scope="session")
def _template_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve-template") / "lake"
    make_lake(root, N_CUSTOMERS)
    return root


@pytest.fixture
def lake(tmp_path: Path, _template_lake: Path) -> Lake:
    """A fresh copy of the small lake (online store, batch scores, signals) for one test."""
    root = tmp_path / "lake"
    shutil.copytree(_template_lake, root)
    return Lake.at(root)


@pytest.fixture
def keys(lake: Lake) -> Keys:
    store = KeyStore(keys_path(lake.root))
    return Keys(
        store.create("staff-kim", "staff"), store.create("ml-lee", "ml"), store.create("admin-park", "admin")
    )


def settings_for(lake: Lake, **kw: object) -> ServeSettings:
    """Test settings: fast polling off (tests refresh by hand), generous limits unless asked."""
    base: dict[str, object] = {
        "lake": lake.root,
        "reload_interval_s": 3600.0,
        "rate_limit_per_minute": 1_000_000,
        "rate_limit_burst": 100_000,
        "rescore_command": (),
        # The audit checkpoint key lives beside the lake, never in it (and never in the tester's home).
        "audit_key_file": lake.root.parent / "audit.key",
        "audit_key_env": None,
    }
    base.update(kw)
    return ServeSettings(**base)  # type: ignore[arg-type]


@pytest.fixture
def client(lake: Lake, keys: Keys) -> Iterator[TestClient]:
    app = create_app(settings_for(lake))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
