"""Training and scoring frames: entities joined point-in-time to the feature store, one row per candidate.

The features come only from the feature store's point-in-time builder (`features.snapshot.training_set` /
`snapshot`), so a row at as_of never sees an event after the end of that Korea-time day. Candidate-aligned
columns (`cand_*`) copy, for each candidate product, the evidence that names that product (intents from
configs/intents.yaml, web pages from recommend.web_page_products) so one binary model can share them
across products.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cdna.contracts.parts import read_raw
from cdna.contracts.schemas import CUSTOMERS, DECISION_ONLY, FEATURE_SNAPSHOT, HOLDINGS, conform
from cdna.core.config import IntentTaxonomy, ProductCatalog, RecommendConfig
from cdna.core.duck import scan
from cdna.core.errors import LakeError, SchemaError
from cdna.core.lake import Lake, atomic_write_parquet
from cdna.recommend.labels import attach_labels, candidates, check_products

__all__ = [
    "CandidateFrame",
    "FeatureGroups",
    "aligned_features",
    "build_candidates",
    "data_window",
    "feature_groups",
    "load_customers",
    "load_holdings",
    "point_in_time_features",
]

CAND_SIGNAL = ("cand_intent_30d", "cand_intent_90d", "cand_intent_decay", "cand_intent_days_since")
CAND_MEMO = ("cand_memo_share",)
CAND_STRUCTURED = ("cand_web_decay", "cand_family_held")


@dataclass(frozen=True)
class FeatureGroups:
    """Feature columns by origin.

    Attributes:
        structured: columns from non-signal views plus structured candidate columns.
        signal: columns of the signal views (calls/memos) plus signal candidate columns.
    """

    structured: tuple[str, ...]
    signal: tuple[str, ...]

    def columns(self, structured_only: bool = False) -> list[str]:
        """The feature columns of a model (structured-only leaves out calls and memos)."""
        return list(self.structured) if structured_only else [*self.structured, *self.signal]


@dataclass
class CandidateFrame:
    """One row per (customer_id, as_of, product_id) candidate with its features (and label when known).

    Attributes:
        frame: the rows.
        groups: which columns are features, by origin.
        lineage: where the features came from (feature store lineage).
    """

    frame: pd.DataFrame
    groups: FeatureGroups
    lineage: dict[str, object] = field(default_factory=dict)


def load_holdings(lake: Lake) -> pd.DataFrame:
    """The holdings events of the lake (validated against the HOLDINGS contract)."""
    return read_raw(lake, HOLDINGS).to_pandas()


def load_customers(lake: Lake) -> pd.DataFrame:
    """The customers table of the lake (validated against the CUSTOMERS contract)."""
    return read_raw(lake, CUSTOMERS).to_pandas()


def data_window(lake: Lake, timezone: str) -> tuple[date, date]:
    """First and last Korea-time day of the lake's transactions (the span of behavioural history)."""
    import duckdb

    folder = lake.require_raw("transactions")
    con = duckdb.connect()
    try:
        row = con.execute(
            f"SELECT CAST(timezone('{timezone}', min(ts)) AS DATE), CAST(timezone('{timezone}', max(ts)) AS DATE) "
            f"FROM {scan(folder / '*.parquet')}"
        ).fetchone()
    finally:
        con.close()
    if row is None or row[0] is None:
        raise LakeError(
            f"{folder}: no transactions with a timestamp", hint="the lake needs transaction history"
        )
    return row[0], row[1]


def point_in_time_features(
    fs: object, lake: Lake, ents: pd.DataFrame, workdir: Path
) -> tuple[pd.DataFrame, dict]:
    """Features for each (customer_id, as_of) row from the feature store's point-in-time training-set builder."""
    from cdna.features.snapshot import training_set

    workdir.mkdir(parents=True, exist_ok=True)
    ent_path = workdir / "entities.parquet"
    out = workdir / "training_set.parquet"
    table = pa.Table.from_pandas(ents[["customer_id", "as_of"]], preserve_index=False)
    atomic_write_parquet(table, ent_path)
    res = training_set(fs, lake.root, ent_path, out)  # type: ignore[arg-type]
    feats = conform(pq.read_table(out), FEATURE_SNAPSHOT, str(out)).to_pandas()
    feats["as_of"] = pd.to_datetime(feats["as_of"]).dt.date
    return feats, dict(res.lineage)


def feature_groups(
    fs: object, columns: list[str], signal_views: list[str], signal_columns: list[str] | None = None
) -> FeatureGroups:
    """Split the snapshot's feature columns by origin: signal views and memo-text columns vs the rest."""
    from fnmatch import fnmatch

    views = fs.views  # type: ignore[attr-defined]
    signal = {f.name for v in views if v.name in signal_views for f in v.features}
    feats = [c for c in columns if c not in ("customer_id", "as_of") and c not in DECISION_ONLY]
    signal |= {c for c in feats for pat in signal_columns or [] if fnmatch(c, pat)}
    structured = [c for c in feats if c not in signal]
    sig = [c for c in feats if c in signal]
    structured += list(CAND_STRUCTURED)
    if any(c.startswith("intent_") for c in sig):
        sig += list(CAND_SIGNAL)
    if any(c.startswith("spend_share_") for c in sig):
        sig += list(CAND_MEMO)
    else:
        structured += list(CAND_MEMO)
    return FeatureGroups(tuple(structured), tuple(sig))


class _Columns:
    """Columns of a frame as float64 arrays, each converted once (a product's groups share columns).

    Selecting `frame[cols]` per product and group cost 0.2 ms each, 140 times per call: most of an
    event's scoring (issue 16, item 6).
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.names = set(frame.columns)
        self._got: dict[str, np.ndarray] = {}

    def __call__(self, name: str) -> np.ndarray:
        got = self._got.get(name)
        if got is None:
            got = self._got[name] = self.frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
        return got


def _sum_cols(frame: _Columns, rows: np.ndarray, cols: list[str], how: str = "sum") -> np.ndarray:
    cols = [c for c in cols if c in frame.names]
    if not cols:
        return np.full(len(rows), np.nan if how == "min" else 0.0, dtype=np.float32)
    m = np.column_stack([frame(c)[rows] for c in cols])
    if how == "min":
        with np.errstate(all="ignore"):
            out = np.where(
                np.isnan(m).all(axis=1), np.nan, np.nanmin(np.where(np.isnan(m), np.inf, m), axis=1)
            )
        return out.astype(np.float32)
    return np.nansum(m, axis=1).astype(np.float32)


def aligned_features(
    frame: pd.DataFrame,
    pairs: pd.DataFrame,
    catalog: ProductCatalog,
    intents: IntentTaxonomy,
    cfg: RecommendConfig,
) -> pd.DataFrame:
    """Candidate-aligned columns: the intent, memo-spend and web evidence naming each pair's product."""
    out = {c: np.zeros(len(pairs), dtype=np.float32) for c in (*CAND_SIGNAL, *CAND_MEMO, *CAND_STRUCTURED)}
    out["cand_intent_days_since"][:] = np.nan
    prod = pairs["product_id"].to_numpy()
    rows = pairs["row"].to_numpy()
    columns = _Columns(frame)
    for p in catalog.products:
        sel = np.flatnonzero(prod == p.id)
        if not len(sel):
            continue
        r = rows[sel]
        ids = [i.id for i in intents.intents if p.id in i.products]
        out["cand_intent_30d"][sel] = _sum_cols(columns, r, [f"intent_{i}_30d" for i in ids])
        out["cand_intent_90d"][sel] = _sum_cols(columns, r, [f"intent_{i}_90d" for i in ids])
        out["cand_intent_decay"][sel] = _sum_cols(columns, r, [f"intent_{i}_decay" for i in ids])
        out["cand_intent_days_since"][sel] = _sum_cols(
            columns, r, [f"intent_{i}_days_since" for i in ids], "min"
        )
        pages = [w for w, prods in cfg.web_page_products.items() if p.id in prods]
        out["cand_web_decay"][sel] = _sum_cols(columns, r, [f"web_{w}_decay" for w in pages])
        cats = [c for c, prods in cfg.memo_category_products.items() if p.id in prods]
        out["cand_memo_share"][sel] = _sum_cols(columns, r, [f"spend_share_{c}" for c in cats])
        family = [q.id for q in catalog.products if q.family == p.family and q.id != p.id]
        out["cand_family_held"][sel] = _sum_cols(columns, r, [f"held_{q}" for q in family])
    return pd.DataFrame(out, index=pairs.index)


def build_candidates(
    feats: pd.DataFrame,
    catalog: ProductCatalog,
    intents: IntentTaxonomy,
    cfg: RecommendConfig,
    groups: FeatureGroups,
    holdings: pd.DataFrame | None = None,
    timezone: str = "Asia/Seoul",
) -> pd.DataFrame:
    """Expand a feature frame to one row per eligible candidate, with aligned features and (optional) labels."""
    if feats.empty:
        raise SchemaError(
            "the feature frame has no rows", hint="check the as-of dates and the customers table"
        )
    pairs = candidates(feats, catalog)
    base_cols = [c for c in groups.columns() if c in feats.columns]
    missing = [c for c in groups.columns() if c not in feats.columns and not c.startswith("cand_")]
    if missing:
        raise SchemaError(
            f"feature snapshot is missing feature(s) {missing[:5]} the model needs",
            hint="rebuild the snapshot with the feature views the model was trained on (`cdna features snapshot`)",
        )
    rows = pairs["row"].to_numpy()
    body = feats[base_cols].iloc[rows].reset_index(drop=True)
    out = pd.concat(
        [
            pd.DataFrame(
                {
                    "customer_id": feats["customer_id"].to_numpy()[rows],
                    "as_of": feats["as_of"].to_numpy()[rows],
                    "product_id": pairs["product_id"].to_numpy(),
                }
            ),
            body,
            aligned_features(feats, pairs, catalog, intents, cfg).reset_index(drop=True),
        ],
        axis=1,
    )
    if holdings is not None:
        check_products(holdings, catalog)
        out["label"] = attach_labels(out, holdings, cfg.horizon_days, timezone).to_numpy()
    return out
