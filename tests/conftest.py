"""Shared fixtures: one small synthetic bank per test session (generated once, read-only)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A private redis-server on a free port, no persistence; skipped where the package is not installed."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    proc = subprocess.Popen(
        [
            exe,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
