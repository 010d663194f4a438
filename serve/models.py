"""Response bodies of the API (for the OpenAPI document and its examples)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from cdna.serve.problems import PROBLEM_JSON, Problem

__all__ = [
    "CUSTOMER_ID_PATTERN",
    "CreatedKey",
    "HealthStatus",
    "KeyInfo",
    "ModelsView",
    "NewKey",
    "Profile",
    "ReadyStatus",
    "Recommendation",
    "Recommendations",
    "RetrainRun",
    "problems",
]

CUSTOMER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries: problem+json for each status."""
    text = {
        400: "missing or unknown X-Purpose on a customer lookup",
        401: "missing or unknown API key",
        403: "the key's role may not do this",
        404: "unknown customer or resource",
        409: "conflict with the current state",
        422: "malformed id or parameter",
        429: "rate limit exceeded (see Retry-After)",
        503: "nothing loaded yet, or the audit store did not record the lookup in time (fail closed)",
    }
    return {
        s: {"model": Problem, "description": text.get(s, "error"), "content": {PROBLEM_JSON: {}}}
        for s in statuses
    }


class Recommendation(BaseModel):
    """One recommended product with its reasons."""

    rank: int = Field(examples=[1])
    product_id: str = Field(examples=["jeonse_loan"])
    product_name: str = Field(examples=["전세자금대출"])
    family: str | None = Field(None, examples=["loan"])
    score: float = Field(examples=[0.83])
    reasons: list[str] = Field(examples=[["최근 30일 내 전세대출 문의 통화가 2건 있었습니다."]])
    evidence_ids: list[str] = Field(examples=[["call:CALL000123"]])
    offer_id: str | None = Field(
        None,
        description="set when X-Purpose is counseling, sales, campaign or app: record the customer's answer "
        "with POST /v1/offers/{offer_id}/outcome",
        examples=["O20250701a1b2c3d4e5f6"],
    )


class Recommendations(BaseModel):
    """Top-k products for one customer."""

    customer_id: str = Field(examples=["C0000001"])
    as_of: str | None = Field(
        None, description="day the scores were computed (Korea time)", examples=["2025-06-30"]
    )
    model_version: str | None = Field(None, examples=["cdna-recommender/3"])
    k: int = Field(examples=[5])
    recommendations: list[Recommendation]


class Profile(BaseModel):
    """The customer-DNA summary (masked evidence only)."""

    customer_id: str = Field(examples=["C0000001"])
    as_of: str | None = Field(None, examples=["2025-06-30"])
    segment: dict[str, Any] | None = Field(None, examples=[{"id": 1, "name": "저활동 (low value)"}])
    demographics: dict[str, Any] = Field(
        default_factory=dict, examples=[{"age_band": "50s", "household": "couple_kids"}]
    )
    rfm: dict[str, Any] = Field(default_factory=dict, examples=[{"recency_days": 1, "txn_count_365d": 45}])
    churn_risk: float | None = Field(None, examples=[0.12])
    holdings: list[dict[str, Any]] = Field(
        default_factory=list, examples=[[{"product_id": "term_deposit", "name": "정기예금"}]]
    )
    intent_counts_90d: list[dict[str, Any]] = Field(default_factory=list)
    recent_intents: list[dict[str, Any]] = Field(
        default_factory=list,
        examples=[
            [
                {
                    "label": "jeonse_loan_inquiry",
                    "name": "전세대출 문의",
                    "ts": "2025-06-20 01:02:03+00",
                    "score": 0.91,
                    "evidence": "전세 대출 한도가 궁금해서요 [PHONE]",
                }
            ]
        ],
    )
    interests: list[dict[str, Any]] = Field(default_factory=list)
    spend_mix: list[dict[str, Any]] = Field(
        default_factory=list,
        description="top spend categories over 90 days",
        examples=[[{"label": "telecom", "name": "통신", "share": 0.5}]],
    )
    model_version: str | None = None


class ModelsView(BaseModel):
    """Registered model versions, their aliases, and what the service serves now."""

    champion: dict[str, Any] | None = None
    versions: list[dict[str, Any]] = Field(default_factory=list)
    serving: dict[str, Any] = Field(default_factory=dict)


class RetrainRun(BaseModel):
    """A background retrain."""

    run_id: str = Field(examples=["20250701T010203Z-1a2b3c4d"])
    state: str = Field(examples=["running"], description="running, rescoring, succeeded or failed")
    promoted: bool | None = Field(None, description="whether the retrain promoted a new champion")
    rescore_exit_code: int | None = None
    requested_by: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class HealthStatus(BaseModel):
    """Liveness."""

    status: str = Field(examples=["ok"])


class AuditBacklog(BaseModel):
    """The audit writer's state: rows waiting to be written and the last error of the audit store."""

    backlog: int = Field(description="rows queued or being written", examples=[0])
    oldest_s: float = Field(0.0, description="age of the oldest waiting row, seconds", examples=[0.0])
    capacity: int = Field(description="rows the queue holds before lookups are refused", examples=[10000])
    written: int = Field(0, description="rows written by this worker since it started", examples=[1523])
    last_error: str | None = Field(None, description="the audit store's last error while rows wait")
    last_error_at: str | None = None


class ReadyStatus(BaseModel):
    """Readiness: what is loaded, and the last failed load if any."""

    ready: bool
    degraded: bool = False
    model_version: str | None = None
    loaded_at: str | None = None
    customers_with_scores: int = 0
    last_error: str | None = None
    last_error_at: str | None = None
    last_check_at: str | None = None
    audit: AuditBacklog | None = None
    events_ready: bool = False
    events_error: str | None = None


class NewKey(BaseModel):
    """A key to issue."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$", examples=["branch-gangnam-01"])
    role: str = Field(pattern=r"^(staff|ml|admin)$", examples=["staff"])


class KeyInfo(BaseModel):
    """An issued key (never the key itself)."""

    name: str
    role: str
    created_at: str
    revoked_at: str | None = None
    prefix: str = ""


class CreatedKey(KeyInfo):
    """A newly issued key: the only time the key is shown."""

    key: str
