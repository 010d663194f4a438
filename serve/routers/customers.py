"""Customer lookups: top-k recommendations and the DNA profile (every call is audited by the app)."""

# No `from __future__ import annotations`: the `k` bound is a closure value FastAPI must see at runtime.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from cdna.serve.deps import AppContext, live_serving, require_purpose
from cdna.serve.insight import EvidenceNotFoundError, evidence_snippet
from cdna.serve.keys import KeyRecord
from cdna.serve.labels import fact_rows, likelihood, segment_label
from cdna.serve.models import CUSTOMER_ID_PATTERN, Profile, Recommendations, problems
from cdna.serve.offers import log_offers
from cdna.serve.problems import ProblemError
from cdna.serve.state import Serving, mask_generated, mask_text

__all__ = ["build_router", "profile_of", "recommendations_of"]

CustomerId = Annotated[
    str,
    Path(
        pattern=CUSTOMER_ID_PATTERN,
        max_length=64,
        description="customer id (letters, digits, '_' or '-')",
        examples=["C0000001"],
    ),
]

# Read by the audit middleware from the raw headers; declared here so that the API documents it.
Purpose = Annotated[
    str | None,
    Header(
        alias="X-Purpose",
        max_length=200,
        description="why you look, recorded in the audit log; required, one of the configured purposes "
        "(default: counseling, sales, complaint, review, compliance, campaign, app)",
        examples=["counseling"],
    ),
]


EVIDENCE_ID_PATTERN = r"^(?:(?:call|memo|txn|web):)?[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def _unknown(customer_id: str) -> ProblemError:
    return ProblemError(
        404,
        # The id is not quoted: the caller knows it, and a resident number typed as an id is not echoed.
        "this customer id is not known to the service",
        "요청한 고객 번호를 찾을 수 없습니다",
        title="Unknown customer",
        title_ko="고객을 찾을 수 없습니다",
        slug="unknown-customer",
    )


def base_rates(live: Serving) -> dict[str, float]:
    """Each product's base open rate, as the recommender wrote it beside the scores (empty when absent)."""
    if live.recs_store is None:
        return {}
    rates = live.recs_store.info().get("base_rates") or {}
    return {str(p): float(r) for p, r in rates.items() if r is not None}


def recommendations_of(ctx: AppContext, live: Serving, customer_id: str, k: int) -> dict[str, Any]:
    """The recommendations body for one customer (404 ProblemError when unknown)."""
    rows = live.recommendations(customer_id)
    rates = base_rates(live)
    if rows is None:
        if live.features(customer_id) is None:
            raise _unknown(customer_id)
        rows = []
    out = []
    for r in rows[:k]:
        product = ctx.products.get(r["product_id"], {})
        out.append(
            {
                "rank": r["rank"],
                "product_id": r["product_id"],
                "product_name": product.get("name", r["product_id"]),
                "family": product.get("family"),
                "score": round(r["score"], 6),
                "likelihood": _likelihood(r["score"], rates.get(r["product_id"])),
                "reasons": [mask_generated(t) for t in r["reasons"]],
                "evidence_ids": r["evidence_ids"],
            }
        )
    return {
        "customer_id": customer_id,
        "as_of": rows[0]["as_of"] if rows else live.recs_as_of,
        "model_version": rows[0]["model_version"] if rows else live.model_version,
        "k": k,
        "recommendations": out,
    }


def _likelihood(score: float, rate: float | None) -> dict[str, Any] | None:
    band = likelihood(score, rate)
    return band.as_dict() if band is not None else None


def _unique_by_label(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The most recent item per label (the same interest mined from five memos is one tag, not five)."""
    seen: set[str] = set()
    out = []
    for item in items:
        if item["label"] not in seen:
            seen.add(item["label"])
            out.append(item)
    return out


_DEMOGRAPHICS = ("age_band", "household", "income_band", "region_sido", "tenure_days")
_RFM = ("recency_days", "txn_count_365d", "spend_amount_365d", "txn_count_30d", "spend_amount_30d")


def profile_of(ctx: AppContext, live: Serving, customer_id: str) -> dict[str, Any]:
    """The profile body for one customer (404 ProblemError when unknown)."""
    vec = live.features(customer_id)
    sig = live.signals.get(customer_id, {})
    if vec is None and not sig and live.recommendations(customer_id) is None:
        raise _unknown(customer_id)
    vec = vec or {}
    segment = None
    if vec.get("segment_name") is not None:
        segment = {
            "id": vec.get("segment_id"),
            "name": vec.get("segment_name"),
            "label": segment_label(vec.get("segment_name")),
        }
    holdings = [
        {"product_id": pid, "name": ctx.products.get(pid, {}).get("name", pid)}
        for pid in ctx.products
        if vec.get(f"held_{pid}") is True
    ]
    counts: list[dict[str, Any]] = [
        {"label": label, "name": name, "count": int(vec[f"intent_{label}_90d"])}
        for label, name in ctx.intents.items()
        if vec.get(f"intent_{label}_90d")
    ]
    counts.sort(key=lambda c: -c["count"])
    recent = [
        {**s, "name": ctx.intents.get(s["label"], s["label"]), "evidence": mask_text(s["evidence"])}
        for s in sig.get("intent", [])
    ]
    interests = _unique_by_label(
        [
            {**s, "name": ctx.interests.get(s["label"], s["label"]), "evidence": mask_text(s["evidence"])}
            for s in sig.get("interest", [])
        ]
    )
    if not interests:
        # Without mined memo signals, the feature store's decayed interest scores still show what they spend on.
        scored = [(label, vec.get(f"interest_{label}") or 0.0) for label in ctx.interests]
        interests = [
            {"label": label, "name": ctx.interests[label], "score": round(float(score), 4)}
            for label, score in sorted(scored, key=lambda x: -x[1])[:5]
            if score > 0
        ]
    shares = [(label, vec.get(f"spend_share_{label}") or 0.0) for label in ctx.interests]
    spend_mix = [
        {"label": label, "name": ctx.interests[label], "share": round(float(share), 4)}
        for label, share in sorted(shares, key=lambda x: -x[1])[:3]
        if share > 0
    ]
    churn = vec.get("churn_risk")
    demographics = {k: vec[k] for k in _DEMOGRAPHICS if vec.get(k) is not None}
    rfm = {k: vec[k] for k in _RFM if vec.get(k) is not None}
    return {
        "customer_id": customer_id,
        "as_of": vec.get("as_of") or live.online_info.get("as_of"),
        "segment": segment,
        "demographics": demographics,
        "rfm": rfm,
        "facts": fact_rows({**demographics, **rfm}),
        "churn_risk": float(churn) if churn is not None else None,
        "holdings": holdings,
        "intent_counts_90d": counts,
        "recent_intents": recent,
        "interests": interests,
        "spend_mix": spend_mix,
        "model_version": live.model_version,
    }


def build_router(max_k: int) -> APIRouter:
    """The customers router; `k` is bounded by the configured `max_k`."""
    router = APIRouter(prefix="/v1/customers", tags=["customers"])
    staff = Depends(require_purpose("staff"))  # 400 without an allowed X-Purpose

    @router.get(
        "/{customer_id}/recommendations",
        response_model=Recommendations,
        responses=problems(400, 401, 403, 404, 422, 429, 503),
        summary="Top-k products for a customer, with Korean reasons",
    )
    async def recommendations(
        customer_id: CustomerId,
        request: Request,
        key: Annotated[KeyRecord, staff],
        purpose: Purpose = None,
        k: Annotated[int, Query(ge=1, le=max_k, description="how many products", examples=[5])] = 5,
    ) -> JSONResponse:
        """Products ranked by the champion model's batch scores, each with its reasons and evidence ids.

        Send `X-Purpose` to record why you looked (kept in the audit log).
        """
        ctx = request.app.state.ctx
        body = recommendations_of(ctx, live_serving(request), customer_id, k)
        # issue 17: an answer that reaches a customer (counseling, sales, campaign, app) is logged as offers
        log_offers(ctx, body, purpose, key.name, request.headers.get("x-cdna-client"))
        return JSONResponse(body)

    @router.get(
        "/{customer_id}/profile",
        response_model=Profile,
        responses=problems(400, 401, 403, 404, 422, 429, 503),
        summary="The customer's DNA: segment, RFM, churn risk, recent intents and interests",
    )
    async def profile(
        customer_id: CustomerId,
        request: Request,
        key: Annotated[KeyRecord, staff],
        purpose: Purpose = None,
    ) -> JSONResponse:
        """Segment, RFM, churn risk, holdings, recent call intents and interests, with masked evidence only."""
        return JSONResponse(profile_of(request.app.state.ctx, live_serving(request), customer_id))

    @router.get(
        "/{customer_id}/evidence/{evidence_id}",
        responses=problems(400, 401, 403, 404, 422, 429, 503),
        summary="The masked snippet behind one evidence id (call, web visit or transaction)",
    )
    async def evidence(
        customer_id: CustomerId,
        evidence_id: Annotated[
            str, Path(pattern=EVIDENCE_ID_PATTERN, max_length=80, examples=["CL000001429"])
        ],
        request: Request,
        key: Annotated[KeyRecord, staff],
        purpose: Purpose = None,
    ) -> JSONResponse:
        """Call: date, intent and masked quote; web: page and date; transaction: masked memo and amount."""
        ctx: AppContext = request.app.state.ctx
        live_serving(request)
        try:
            body = evidence_snippet(ctx.settings.lake, customer_id, evidence_id, ctx.intents)
        except EvidenceNotFoundError as exc:
            raise ProblemError(
                404,
                str(exc),
                f"이 고객의 근거 {evidence_id!r}를 찾을 수 없습니다",
                title="Unknown evidence",
                title_ko="근거를 찾을 수 없습니다",
                slug="unknown-evidence",
            ) from None
        return JSONResponse(body)

    return router
