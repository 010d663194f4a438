"""Batch scoring: snapshot → eligible candidates → scores → top-k with Korean reasons → Parquet + online store."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from cdna.contracts.parts import raw_relation, read_raw
from cdna.contracts.schemas import RECOMMENDATIONS, SIGNALS, TRANSACTIONS, WEB_EVENTS, conform, read_table
from cdna.core.config import IntentTaxonomy, PolicyConfig, ProductCatalog, RecommendConfig
from cdna.core.duck import scan
from cdna.core.lake import Lake, atomic_write_parquet
from cdna.recommend.dataset import aligned_features, build_candidates
from cdna.recommend.labels import candidates
from cdna.recommend.models import PairRows
from cdna.recommend.policy import RULES, customer_facts, rule_codes
from cdna.recommend.reasons import Evidence, Explainer, ReasonContext, evidence_window

__all__ = [
    "TopK",
    "batch_recommend",
    "load_evidence",
    "recommendations_table",
    "suppression_counts",
    "write_online",
    "write_recommendations",
]


@dataclass
class TopK:
    """The k best eligible products per customer row, and what their reasons need.

    Attributes:
        frame: customer_id, as_of, product_id, rank, score (one row per recommendation).
        matrix: the model-input rows of those pairs (LightGBM; lazy PairRows, with their decision codes,
            when scored by the compiled trees), or None for other estimators.
    """

    frame: pd.DataFrame
    matrix: np.ndarray | PairRows | None = None
    suppressed: dict[str, int] = field(default_factory=dict)


def _ranks(cust: np.ndarray, order: np.ndarray) -> np.ndarray:
    """1-based rank of each position of `order` (pairs sorted by customer, then best first) within its customer."""
    c_sorted = cust[order]
    start = np.r_[True, c_sorted[1:] != c_sorted[:-1]]
    first_pos = np.maximum.accumulate(np.where(start, np.arange(len(order)), 0))
    return np.arange(len(order)) - first_pos + 1


_COMPILED_FROM = 2_000  # pairs from which scoring goes through the compiled trees


def _top_k_chunk(
    bundle: Any,
    feats: pd.DataFrame,
    catalog: ProductCatalog,
    intents: IntentTaxonomy,
    cfg: RecommendConfig,
    k: int,
    policy: PolicyConfig | None = None,
) -> TopK:
    pairs = candidates(feats, catalog)
    aligned = aligned_features(feats, pairs, catalog, intents, cfg)
    per_pair: dict[str, Any] = {
        "product_id": pairs["product_id"].to_numpy(),
        **{c: aligned[c].to_numpy() for c in aligned.columns},
    }
    model = bundle.model
    M = scored = None
    # an event's few pairs: LightGBM's own predict beats waking the compiled trees' thread pool (issue 16)
    if (
        len(pairs) >= _COMPILED_FROM
        and hasattr(model, "score_pairs")
        and (scored := model.score_pairs(feats, pairs["row"].to_numpy(), per_pair))
    ):
        score = scored.score
    elif hasattr(model, "pair_matrix"):
        M = model.pair_matrix(feats, pairs["row"].to_numpy(), per_pair)
        score = model.predict_matrix(M)
    else:  # any estimator with predict(candidate frame)
        score = model.predict(build_candidates(feats, catalog, intents, cfg, bundle.groups))
    cust = pairs["row"].to_numpy()
    # ties broken by catalogue order (integer codes: sorting the id strings was a third of this function)
    product_code = pd.Categorical(pairs["product_id"], categories=catalog.ids).codes
    order = np.lexsort((product_code, -score, cust))
    rank = _ranks(cust, order)
    suppressed: dict[str, int] = {}
    if policy is not None:
        # the decision policy (issue 16): offers a rule forbids leave the ranking; the ones that would
        # have been in the top k are counted per rule
        code = rule_codes(customer_facts(feats, policy, catalog), cust, product_code, policy, catalog)
        shown = code[order][rank <= k]
        suppressed = {rule: int((shown == i + 1).sum()) for i, rule in enumerate(RULES)}
        order = order[code[order] == 0]
        rank = _ranks(cust, order)
    keep = order[rank <= k]
    rows = cust[keep]
    frame = pd.DataFrame(
        {
            "customer_id": feats["customer_id"].to_numpy()[rows],
            "as_of": feats["as_of"].to_numpy()[rows],
            "product_id": pairs["product_id"].to_numpy()[keep],
            "rank": rank[rank <= k].astype(np.int16),
            "score": score[keep],
        }
    )
    if scored is not None:
        return TopK(frame, PairRows(scored, keep), suppressed)
    return TopK(frame, None if M is None else M[keep], suppressed)


def _memo_categories(lake: Lake, cutoff: pd.Timestamp, days: int = 90) -> pd.DataFrame:
    """Outgoing transactions of the last `days` with the memo category their memo/merchant names.

    The same lexicon rule as the feature store's spend shares (configs/memo_categories.yaml keywords, first
    category wins), so a spend-share reason cites the very transactions it was computed from.
    """
    import duckdb

    from cdna.core.config import load_memo_categories

    empty = pd.DataFrame(columns=["customer_id", "ts", "txn_id", "category"])
    if not lake.raw_parts("transactions"):
        return empty
    lo = cutoff - pd.Timedelta(days=days)
    con = duckdb.connect()
    try:
        df = con.execute(
            f"SELECT customer_id, ts, txn_id, lower(coalesce(memo, '') || ' ' || coalesce(merchant, '')) AS text "
            f"FROM {raw_relation(lake, TRANSACTIONS)} "
            "WHERE direction = 'out' AND ts < ? AND ts >= ?",
            [cutoff.to_pydatetime(), lo.to_pydatetime()],
        ).df()
    finally:
        con.close()
    if df.empty:
        return empty
    memo = load_memo_categories()
    cat = {t: memo.category_of(t) for t in df["text"].unique()}
    df["category"] = df["text"].map(cat)
    return df.dropna(subset=["category"])[["customer_id", "ts", "txn_id", "category"]]


def load_evidence(lake: Lake, as_of: date, timezone: str) -> Evidence:
    """Signals (LAKE/signals) and web events up to the as-of cutoff, for citing evidence ids."""
    cutoff = evidence_window(as_of, timezone)
    sig = pd.DataFrame(columns=["customer_id", "ts", "source", "source_id", "kind", "label"])
    if lake.signals.is_dir() and any(lake.signals.rglob("*.parquet")):
        t = read_table(lake.signals, SIGNALS).select(
            ["customer_id", "ts", "source", "source_id", "kind", "label"]
        )
        sig = t.to_pandas()
    web = pd.DataFrame(columns=["customer_id", "ts", "event_id", "page_category"])
    if lake.raw_parts("web_events"):
        web = (
            read_raw(lake, WEB_EVENTS).select(["customer_id", "ts", "event_id", "page_category"]).to_pandas()
        )
    memos = _memo_categories(lake, cutoff)
    lo = cutoff - pd.Timedelta(days=365)
    sig = sig[(sig["ts"] < cutoff) & (sig["ts"] >= lo)] if len(sig) else sig
    web = web[(web["ts"] < cutoff) & (web["ts"] >= cutoff - pd.Timedelta(days=90))] if len(web) else web
    return Evidence(sig, web, cutoff, memos)


def recommendations_table(
    top: TopK,
    explainer: Explainer | None,
    version: str,
    evidence: Evidence | None = None,
) -> pa.Table:
    """The RECOMMENDATIONS table (customer_id, as_of, rank, product_id, score, reasons, evidence_ids, model).

    Without an explainer (`--no-reasons`, or an estimator without LightGBM contributions) the reasons are
    empty lists.
    """
    f = top.frame
    n = len(f)
    customers = f["customer_id"].astype(str).to_numpy()
    products = f["product_id"].astype(str).to_numpy()
    if explainer is not None and top.matrix is not None and n > 0:  # a chunk the policy emptied has none
        reasons, ids = explainer.arrays(top.matrix, customers, products, evidence)
    else:
        empty = pa.array(np.zeros(n + 1, dtype=np.int32))
        reasons = ids = pa.ListArray.from_arrays(empty, pa.array([], pa.string()))
    table = pa.table(
        {
            "customer_id": pa.array(customers),
            "as_of": pa.array(pd.to_datetime(f["as_of"]).dt.date.to_numpy(), pa.date32()),
            "rank": pa.array(f["rank"].to_numpy(), pa.int16()),
            "product_id": pa.array(products),
            "score": pa.array(f["score"].to_numpy(dtype=float)),
            "reasons": reasons,
            "evidence_ids": ids,
            "model_version": pa.array(np.full(n, version, dtype=object), pa.string()),
        }
    )
    return conform(table, RECOMMENDATIONS, "recommendations")


def batch_recommend(
    bundle: Any,
    feats: pd.DataFrame,
    catalog: ProductCatalog,
    intents: IntentTaxonomy,
    cfg: RecommendConfig,
    ctx: ReasonContext,
    version: str,
    evidence: Evidence | None = None,
    reasons: bool = True,
    chunk: int = 50_000,
    policy: PolicyConfig | None = None,
    explainer: Explainer | None = None,
) -> pa.Table:
    """Top-k with reasons for every customer of `feats`, `chunk` customers at a time (bounded memory).

    With a `policy`, only offers every rule allows are ranked; the per-rule counts of offers it removed
    from the top k travel with the table as schema metadata (`suppression_counts` reads them). An
    `explainer` of `bundle.model` kept by the caller (the event path) is reused with its tables.
    """
    if explainer is None and reasons and hasattr(bundle.model, "booster_"):
        explainer = Explainer(bundle.model, ctx, 3)
    if not reasons:
        explainer = None
    parts = []
    counts = dict.fromkeys(RULES, 0)
    for i in range(0, max(len(feats), 1), chunk):
        # one chunk is the frame itself: a row slice of the event path's frame (a hundred blocks, Arrow
        # strings) cost 50 ms (issue 16, item 6)
        part = feats if len(feats) <= chunk else feats.iloc[i : i + chunk]
        top = _top_k_chunk(bundle, part, catalog, intents, cfg, cfg.k, policy)
        for rule, n in top.suppressed.items():
            counts[rule] += n
        parts.append(recommendations_table(top, explainer, version, evidence))
    table = pa.concat_tables(parts)
    if policy is None:
        return table
    meta = {**(table.schema.metadata or {}), _POLICY_META: json.dumps(counts).encode()}
    return table.replace_schema_metadata(meta)


_POLICY_META = b"cdna.policy_suppressed"


def suppression_counts(table: pa.Table) -> dict[str, int] | None:
    """Rule id -> offers the decision policy removed from the top k, as `batch_recommend` recorded it."""
    raw = (table.schema.metadata or {}).get(_POLICY_META)
    return None if raw is None else {str(k): int(v) for k, v in json.loads(raw).items()}


def write_recommendations(lake: Lake, table: pa.Table, as_of: date, out: Path | None = None) -> list[Path]:
    """Write LAKE/recommendations/date=D/recommendations.parquet (and `out` when given), atomically."""
    paths = [atomic_write_parquet(table, lake.recommendations_day(as_of) / "recommendations.parquet")]
    if out is not None:
        paths.append(atomic_write_parquet(table, out))
    return paths


def write_online(lake: Lake, table: pa.Table, meta: dict[str, Any]) -> tuple[Path, int]:
    """Materialise each customer's top-k (products, scores, reasons) into LAKE/online/recommendations.sqlite."""
    import duckdb

    from cdna.features.online import write_sqlite_store

    path = lake.online_recommendations_db
    tmp = lake.tmp_dir("recommend") / "online-recs.parquet"
    con = duckdb.connect()
    try:
        con.register("recs", table)
        grouped = con.sql(
            "SELECT customer_id, any_value(as_of) AS as_of, any_value(model_version) AS model_version, "
            "to_json(list({'rank': rank, 'product_id': product_id, 'score': round(score, 6), 'reasons': reasons, "
            "'evidence_ids': evidence_ids} ORDER BY rank)) AS recommendations FROM recs GROUP BY customer_id"
        ).to_arrow_table()
    finally:
        con.close()
    atomic_write_parquet(grouped, tmp)
    n = write_sqlite_store(scan(tmp), path, meta)
    tmp.unlink(missing_ok=True)
    return path, n
