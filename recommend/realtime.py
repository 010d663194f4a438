"""Re-scoring a few customers on an event: the batch scorer and the decision policy, on fresh vectors.

Pure: feature rows of the touched customers in, their policy-checked top-k (with reasons) out. Every
eligible product is scored and explained, then `apply_policy` keeps the best k the rules allow, so an
event never shows a product the nightly batch would have suppressed, and vice versa.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cdna.core.config import IntentTaxonomy, PolicyConfig, ProductCatalog, RecommendConfig
from cdna.recommend.policy import apply_policy
from cdna.recommend.reasons import Evidence, ReasonContext
from cdna.recommend.scoring import batch_recommend

__all__ = ["Rescored", "rescore"]


@dataclass(frozen=True)
class Rescored:
    """New recommendations of the touched customers.

    Attributes:
        items: customer id -> list of {rank, product_id, score, reasons, evidence_ids} (may be empty).
        counts: rule id -> offers the policy removed from the customers' top k.
        suppressed: customer id -> rule ids that removed something from its top k.
    """

    items: dict[str, list[dict[str, Any]]]
    counts: dict[str, int]
    suppressed: dict[str, list[str]] = field(default_factory=dict)


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
) -> Rescored:
    """Score every eligible product of each row of `feats`, word reasons, apply the policy, keep the top k."""
    wide = cfg.model_copy(update={"k": len(catalog.ids)})
    table = batch_recommend(bundle, feats, catalog, intents, wide, ctx, version, evidence)
    scores = table.select(["customer_id", "product_id", "score", "reasons", "evidence_ids"]).to_pandas()
    decision = apply_policy(scores, feats, policy, catalog, k=cfg.k)
    items: dict[str, list[dict[str, Any]]] = {str(c): [] for c in feats["customer_id"]}
    for r in decision.kept.itertuples(index=False):
        items[str(r.customer_id)].append(
            {
                "rank": int(r.rank),
                "product_id": str(r.product_id),
                "score": round(float(r.score), 6),
                "reasons": [str(t) for t in r.reasons],
                "evidence_ids": [str(i) for i in (r.evidence_ids if r.evidence_ids is not None else [])],
            }
        )
    top = decision.suppressed[decision.suppressed["rank_before"] <= cfg.k]
    suppressed = {str(c): sorted(set(g["rule"])) for c, g in top.groupby("customer_id")}
    return Rescored(items, decision.counts, suppressed)
