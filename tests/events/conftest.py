"""Fixtures of the event-path tests: one small demo bank (champion, online stores) per session and a service
with a `system` and a `staff` key (the redis-server fixture is in tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cdna.core.lake import Lake
from cdna.serve.app import create_app
from cdna.serve.keys import KeyStore, keys_path
from tests.serve.conftest import settings_for

DEMO_CUSTOMERS = 300


@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """`cdna demo` on a 300-customer bank (no audio): champion, batch scores, online stores, signals.

    TEST_DEMO_LAKE=DIR reuses a demo lake built before (read only: every test works on a copy).
    """
    from cdna.cli.app import main

    given = os.environ.get("TEST_DEMO_LAKE")
    if given:
        return Lake.at(given)
    root = tmp_path_factory.mktemp("events-demo") / "lake"
    assert main(["demo", "--out", str(root), "--customers", str(DEMO_CUSTOMERS), "--no-audio"]) == 0
    return Lake.at(root)


@pytest.fixture
def lake(demo_lake: Lake, tmp_path: Path) -> Lake:
    """A private copy of the demo lake (events change its online stores, events/ and leads)."""
    root = tmp_path / "lake"
    shutil.copytree(demo_lake.root, root, ignore=shutil.ignore_patterns("audio", "reports"))
    return Lake.at(root)


@dataclass
class Service:
    client: TestClient
    system: dict[str, str]
    staff: dict[str, str]


@pytest.fixture
def service(lake: Lake) -> Iterator[Service]:
    """The staff API on the lake copy, with the event processor built before the first request."""
    store = KeyStore(keys_path(lake.root))
    system = {"Authorization": f"Bearer {store.create('callcenter-feed', 'system')}"}
    staff = {"Authorization": f"Bearer {store.create('staff-kim', 'staff')}", "X-Purpose": "counseling"}
    app = create_app(settings_for(lake))
    with TestClient(app, raise_server_exceptions=False) as c:
        app.state.ctx.events.build()
        assert app.state.ctx.events.processor() is not None, app.state.ctx.events.error
        yield Service(c, system, staff)
