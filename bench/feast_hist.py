"""Run Feast's get_historical_features (local file offline store) on given Parquet files; print JSON timings.

Runs inside the Feast virtualenv (see bench/features.py): python feast_hist.py FEATURES ENTITIES OUT TTL_DAYS
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, RepoConfig
from feast.types import Float64
from feast.value_type import ValueType


def main() -> None:
    features, entities, out, ttl = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
    cols = [c for c in pq.read_schema(features).names if c not in ("customer_id", "event_timestamp")]
    repo = Path(tempfile.mkdtemp(prefix="feastrepo"))
    cfg = RepoConfig(
        project="bench",
        provider="local",
        registry=str(repo / "registry.db"),
        offline_store={"type": "file"},
        online_store={"type": "sqlite", "path": str(repo / "o.db")},
        entity_key_serialization_version=3,
        repo_path=str(repo),
    )
    store = FeatureStore(config=cfg)
    customer = Entity(name="customer", join_keys=["customer_id"], value_type=ValueType.STRING)
    src = FileSource(path=str(features), timestamp_field="event_timestamp")
    fv = FeatureView(
        name="dna",
        entities=[customer],
        ttl=timedelta(days=ttl),
        schema=[Field(name=c, dtype=Float64) for c in cols],
        source=src,
    )
    store.apply([customer, fv])
    ent = pd.read_parquet(entities)
    t0 = time.perf_counter()
    df = store.get_historical_features(entity_df=ent, features=[f"dna:{c}" for c in cols]).to_df()
    wall = time.perf_counter() - t0
    df.to_parquet(out)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "wall_s": wall,
                "rows": len(df),
                "entity_rows": len(ent),
                "features": len(cols),
                "peak_rss_mb": peak,
            }
        )
    )


if __name__ == "__main__":
    main()
