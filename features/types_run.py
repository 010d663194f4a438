"""Customer types, as the CLI runs them: snapshot, segment, name, profile, predict new customers, write.

The edge of `features.types`: reads snapshots (and the customers' join dates), writes
LAKE/features/types/date=D/part.parquet (customer_id, type_id, type_name, type_source). The new-customer
model is tested on the customers who joined during the history, observed `types_probe_days` after they
joined (when they had at most `types_new_max_txns` transactions), against the type their later history
gave them: the very task it is for. It is trained on the established customers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from cdna.core.config import load_customer_types
from cdna.core.lake import Lake, atomic_write_parquet
from cdna.features.segments import Segmentation, SegmentOptions, fit_segments
from cdna.features.snapshot import FeatureSet, snapshot, training_set
from cdna.features.types import (
    TypeModelResult,
    TypeProfile,
    fit_type_models,
    name_types,
    new_customer_mask,
    profile_types,
)

__all__ = ["TypesResult", "run_types"]


@dataclass
class TypesResult:
    """What `run_types` produced.

    Attributes:
        as_of: the snapshot day; frame: the snapshot rows of established customers (report columns).
        segmentation: the K-means fit on established customers, with archetype names in `names_`.
        profiles: one profile per type; model: the new-customer type models (None when too few rows).
        new_customers: customers typed by the model at the as-of; path: the types partition written.
        notes: one line per caveat; chose_k: whether k was chosen by silhouette (else configured).
    """

    as_of: date
    frame: pd.DataFrame
    segmentation: Segmentation
    profiles: list[TypeProfile]
    model: TypeModelResult | None
    new_customers: int
    path: Path
    notes: list[str] = field(default_factory=list)
    chose_k: bool = False


def _options(fs: FeatureSet, choose_k: bool | None) -> SegmentOptions:
    cfg = fs.config
    return SegmentOptions(
        k_min=cfg.segments_k_min,
        k_max=max(cfg.segments_k_max, cfg.segments_k_min),
        k=cfg.segments_k,
        choose_k=cfg.segments_choose_k if choose_k is None else choose_k,
        silhouette_sample=cfg.silhouette_sample,
        recency_cap_days=cfg.ttl_days,
    )


def _probe_rows(fs: FeatureSet, lake: Lake, as_of: date, workdir: Path) -> pd.DataFrame:
    """Features of customers who joined during the history, `types_probe_days` after joining."""
    customers = pd.read_parquet(lake.raw("customers"), columns=["customer_id", "join_date"])
    join = pd.to_datetime(customers["join_date"]).dt.date
    probe = join + timedelta(days=fs.config.types_probe_days)
    # Far enough back that their later history defines a type (a quarter of transactions at least).
    ok = (probe <= as_of - timedelta(days=90)) & (join >= as_of - timedelta(days=fs.config.ttl_days))
    ents = pd.DataFrame({"customer_id": customers.loc[ok, "customer_id"], "as_of": probe[ok]})
    if ents.empty:
        return pd.DataFrame()
    path = workdir / "type-probe-entities.parquet"
    atomic_write_parquet(pa.Table.from_pandas(ents, preserve_index=False), path)
    out = workdir / "type-probe.parquet"
    training_set(fs, lake.root, path, out)
    return pd.read_parquet(out)


def run_types(
    fs: FeatureSet,
    lake: Lake,
    as_of: date,
    choose_k: bool | None = None,
    label_names: dict[str, str] | None = None,
    seed: int = 7,
) -> TypesResult:
    """Type every customer at `as_of`: named RFM clusters for established ones, predicted for new ones."""
    workdir = lake.tmp_dir("types")
    snap = snapshot(fs, lake.root, as_of, workdir / f"snapshot-{as_of}.parquet")
    df = pd.read_parquet(snap.path)
    new = new_customer_mask(df, fs.config.types_new_max_txns)
    est = df[~new].reset_index(drop=True)
    opts = _options(fs, choose_k)
    seg = fit_segments(est, opts)
    types = load_customer_types()
    names = name_types(seg, est, types, fs.config.ttl_days)
    seg.names_ = names
    seg.profile_["name"] = [names[int(s)] for s in seg.profile_["segment"]]
    profiles = profile_types(est, seg.labels_, names, types, label_names)
    notes: list[str] = []
    model = None
    probe = _probe_rows(fs, lake, as_of, workdir)
    type_of = dict(zip(est["customer_id"], seg.labels_, strict=True))
    if len(probe):
        probe = probe[probe["customer_id"].isin(type_of.keys())]
        probe = probe[new_customer_mask(probe, fs.config.types_new_max_txns)]
    cohort = set(probe["customer_id"]) if len(probe) else set()
    train = est[~est["customer_id"].isin(cohort)]
    if len(probe) >= 20:
        model = fit_type_models(
            train,
            np.array([type_of[c] for c in train["customer_id"]]),
            probe.reset_index(drop=True),
            np.array([type_of[c] for c in probe["customer_id"]]),
            f"기간 중 가입한 고객 {len(probe)}명을 가입 {fs.config.types_probe_days}일 뒤(거래 "
            f"{fs.config.types_new_max_txns}건 이하일 때)의 정보로 예측해, 이후 거래로 정해진 유형과 비교",
            seed,
        )
    else:
        notes.append(
            f"only {len(probe)} customer(s) joined during the history with a later type: "
            "the new-customer model was not trained"
        )
    new_rows = df[new]
    pred = model.predict(new_rows) if model is not None and len(new_rows) else np.zeros(0, int)
    if len(new_rows) and model is None:
        notes.append(f"{len(new_rows)} new customer(s) left without a type (no model)")
        new_rows = new_rows.iloc[0:0]
    out = pa.table(
        {
            "customer_id": pa.array([*est["customer_id"], *new_rows["customer_id"]], pa.string()),
            "type_id": pa.array([*seg.labels_.tolist(), *[int(p) for p in pred]], pa.int16()),
            "type_name": pa.array(
                [names[int(t)] for t in [*seg.labels_.tolist(), *pred.tolist()]], pa.string()
            ),
            "type_source": pa.array(["rfm"] * len(est) + ["predicted"] * len(new_rows), pa.string()),
        }
    )
    path = atomic_write_parquet(out, lake.feature_view_file("types", as_of))
    return TypesResult(as_of, est, seg, profiles, model, len(new_rows), path, notes, opts.choose_k)
