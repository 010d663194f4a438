"""Re-scoring a few customers on an event: the batch scorer with the decision policy, on fresh vectors.

Pure: feature rows of the touched customers in, their policy-checked top-k (with reasons) out. It is
`batch_recommend` itself, so an event never shows a product the nightly batch would have suppressed, and
vice versa.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from cdna.core.config import IntentTaxonomy, PolicyConfig, ProductCatalog, RecommendConfig
from cdna.recommend.reasons import Evidence, Explainer, ReasonContext
from cdna.recommend.scoring import batch_recommend, suppression_counts

__all__ = ["Rescored", "rescore"]


@dataclass(frozen=True)
class Rescored:
    """New recommendations of the touched customers.

    Attributes:
        items: customer id -> list of {rank, product_id, score, reasons, evidence_ids} (may be empty).
        counts: rule id -> offers the policy removed from the customers' top k.
    """

    items: dict[str, list[dict[str, Any]]]
    counts: dict[str, int]


def rescore(
    bundle: Any,
    feats: pd.DataFrame,
    catalog: ProductCatalog,
    intents: IntentTaxonomy,
    cfg: RecommendConfig,
    ctx: ReasonContext,
    version: str,
    policy: PolicyConfig,
    evidence: Evidence | None = None,
    explainer: Explainer | None = None,
) -> Rescored:
    """Score, apply the policy, keep the top k and word reasons for each row of `feats`.

    `explainer`: one kept across batches (its SHAP tables and worded sentences warm up), else a new one.
    """
    table = batch_recommend(
        bundle, feats, catalog, intents, cfg, ctx, version, evidence, policy=policy, explainer=explainer
    )
    items: dict[str, list[dict[str, Any]]] = {str(c): [] for c in feats["customer_id"]}
    for r in table.to_pylist():
        items[str(r["customer_id"])].append(
            {
                "rank": int(r["rank"]),
                "product_id": str(r["product_id"]),
                "score": round(float(r["score"]), 6),
                "reasons": list(r["reasons"] or []),
                "evidence_ids": list(r["evidence_ids"] or []),
            }
        )
    return Rescored(items, suppression_counts(table) or {})
