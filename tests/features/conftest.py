"""Fixtures: a small synthetic bank (the world generator) and helpers to build tiny lakes by hand."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from cdna.core.config import load_config, load_intents, load_memo_categories, load_products
from cdna.core.lake import Lake, atomic_write_parquet
from cdna.features.snapshot import FeatureSet

BANK_CUSTOMERS = 300


@pytest.fixture(scope="session")
def fs() -> FeatureSet:
    cfg = load_config(environ={})
    return FeatureSet(
        cfg.features.model_copy(update={"memory_limit": "1GB", "threads": 2}),
        load_products(),
        load_intents(),
        load_memo_categories(),
        cfg.timezone,
    )


@pytest.fixture(scope="session")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-customer synthetic bank (13 months ending 2025-06-30)."""
    from cdna.ingest.world.generator import WorldOptions, write_world

    root = tmp_path_factory.mktemp("bank")
    cfg = load_config(environ={}).world.model_copy(update={"customers": BANK_CUSTOMERS, "seed": 11})
    write_world(WorldOptions(cfg, audio=False), load_products(), load_intents(), Lake.at(root, create=True))
    return root


def write_table(root: Path, rel: str, table: pa.Table) -> Path:
    """Write a Parquet table at root/rel."""
    return atomic_write_parquet(table, root / rel)
