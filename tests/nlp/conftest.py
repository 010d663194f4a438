"""NLP fixtures: the seed-trained models (fitted once per session) and a small mined bank."""

from __future__ import annotations

import pytest

from cdna.core.config import load_config, load_intents, load_products
from cdna.core.lake import Lake
from cdna.nlp.mine import Models


@pytest.fixture(scope="session")
def models() -> Models:
    """Intent model trained on the whole seed set plus the memo classifier."""
    from cdna.nlp.store import fit_models

    return fit_models(load_config(environ={}).nlp)


@pytest.fixture(scope="session")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """A 150-customer bank with two months of history (written here, so mining may write into it)."""
    from datetime import date

    from cdna.ingest.world.generator import WorldOptions, write_world

    lake = Lake.at(tmp_path_factory.mktemp("nlp") / "lake", create=True)
    cfg = load_config(environ={}).world.model_copy(
        update={
            "customers": 150,
            "seed": 11,
            "months": 2,
            "end_date": date(2025, 6, 30),
            "calls_per_customer": 3.0,
        }
    )
    write_world(WorldOptions(cfg), load_products(), load_intents(), lake)
    return lake
