"""Shared fixtures: one small synthetic bank per test session (generated once, read-only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdna.core.lake import Lake


@pytest.fixture(scope="session")
def world_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """A 2,000-customer bank (seed 7, no audio) shared by tests that only read it."""
    from cdna.ingest.world.generator import synthetic_bank

    return synthetic_bank(tmp_path_factory.mktemp("world") / "lake", customers=2000, seed=7)


@pytest.fixture
def repo_root() -> Path:
    """The repository root (for configs and shared data)."""
    return Path(__file__).resolve().parents[1]


@pytest.fixture
def shared_data(repo_root: Path) -> Path:
    """The ../shared/data folder beside the checkout; tests using it skip when it is absent."""
    path = repo_root.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip("../shared/data is not present beside this checkout")
    return path
