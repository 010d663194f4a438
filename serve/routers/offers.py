"""Offer outcomes: what the customer answered to a recommendation staff or a channel showed (issue 17)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from cdna.recommend.offers import OutcomeConflictError, UnknownOfferError
from cdna.serve.deps import Ctx, require
from cdna.serve.keys import KeyRecord
from cdna.serve.models import problems
from cdna.serve.problems import ProblemError

__all__ = ["OutcomeIn", "OutcomeOut", "router"]

router = APIRouter(prefix="/v1/offers", tags=["offers"])
OFFER_ID = r"^O\d{8}[0-9a-f]{12}$"


class OutcomeIn(BaseModel):
    """The customer's answer to an offer."""

    model_config = ConfigDict(extra="forbid")
    outcome: Literal["accepted", "declined", "not_interested", "call_back"] = Field(
        description="수락 accepted · 거절 declined · 관심 없음 not_interested · 재연락 call_back",
        examples=["accepted"],
    )


class OutcomeOut(BaseModel):
    """The offer's outcome as stored."""

    offer_id: str = Field(examples=["O20250701a1b2c3d4e5f6"])
    outcome: str = Field(examples=["accepted"])
    status: str = Field(
        description="recorded (first answer), unchanged (same answer again: idempotent), updated "
        "(a call back answered)",
        examples=["recorded"],
    )
    recorded_at: str = Field(examples=["2025-07-01T01:02:03+00:00"])


@router.post(
    "/{offer_id}/outcome",
    response_model=OutcomeOut,
    responses=problems(401, 403, 404, 409, 422, 429, 503),
    summary="Record what the customer answered to an offer (once per offer)",
)
async def record_outcome(
    offer_id: Annotated[str, Path(pattern=OFFER_ID, examples=["O20250701a1b2c3d4e5f6"])],
    body: OutcomeIn,
    ctx: Ctx,
    key: Annotated[KeyRecord, Depends(require("staff"))],
) -> JSONResponse:
    """Idempotent by offer id: the same answer again returns the stored one (`unchanged`); a different
    answer to an offer that already has a final one is a 409. Only `call_back` may later be answered."""
    if ctx.offers is None:
        raise ProblemError(503, "the offer log is not available", "제안 기록을 사용할 수 없습니다")
    try:
        res = ctx.offers.record_outcome(offer_id, body.outcome, "api", recorded_by=key.name)
    except UnknownOfferError:
        raise ProblemError(
            404,
            f"offer {offer_id!r} is not in the offer log",
            f"제안 {offer_id!r}을(를) 찾을 수 없습니다",
            title="Unknown offer",
            title_ko="제안을 찾을 수 없습니다",
            slug="unknown-offer",
        ) from None
    except OutcomeConflictError as exc:
        raise ProblemError(
            409,
            str(exc).split("\n")[0],
            f"제안 {offer_id!r}에는 이미 다른 결과가 기록되어 있습니다 (제안당 한 번만 기록)",
            slug="outcome-conflict",
        ) from None
    return JSONResponse(
        {
            "offer_id": res.offer_id,
            "outcome": res.outcome,
            "status": res.status,
            "recorded_at": res.recorded_at.isoformat(),
        },
        status_code=201 if res.status == "recorded" else 200,
    )
