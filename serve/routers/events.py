"""Events in (role system), fresh recommendations out; leads for branches (issue #16)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from cdna.ingest.events import MAX_BATCH
from cdna.serve.deps import Ctx, require
from cdna.serve.keys import KeyRecord
from cdna.serve.models import problems
from cdna.serve.problems import ProblemError, problem_response

__all__ = ["EventBatch", "EventsAccepted", "router"]

router = APIRouter(prefix="/v1", tags=["events"])


class EventBatch(BaseModel):
    """Up to 1,000 events; each is checked on its own (a bad one does not stop the others)."""

    events: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="call | page_view | transaction | product_open | product_close events (see `type`)",
        examples=[
            [
                {
                    "event_id": "CALL-20250701-0001",
                    "type": "call",
                    "customer_id": "C0000001",
                    "ts": "2025-07-01T10:00:00+09:00",
                    "intents": [{"label": "jeonse_loan_inquiry", "score": 0.93}],
                    "duration_s": 240,
                    "evidence": "전세자금대출 한도가 얼마나 나오는지 궁금해요",
                }
            ]
        ],
    )


class EventsAccepted(BaseModel):
    """What a batch changed."""

    received: int
    applied: int = Field(description="new events whose effects are stored")
    duplicates: int = Field(description="events seen before (nothing changed)")
    refused: int = Field(0, description="malformed events (listed in `errors` of a 422)")
    customers: list[str] = Field(description="customers whose recommendations were recomputed")
    suppressed: dict[str, int] = Field(description="policy rule -> offers removed from their top k")
    leads_new: int
    leads_merged: int
    timings_ms: dict[str, float]


def _body(res: Any) -> dict[str, Any]:
    return {
        "received": res.received,
        "applied": res.applied,
        "duplicates": res.duplicates,
        "refused": len(res.problems),
        "customers": res.customers,
        "suppressed": res.suppressed,
        "leads_new": res.leads_new,
        "leads_merged": res.leads_merged,
        "timings_ms": {k.removesuffix("_s"): round(v * 1000, 2) for k, v in res.timings.items()},
    }


@router.post(
    "/events",
    response_model=EventsAccepted,
    responses=problems(401, 403, 422, 429, 503),
    summary="Post events; the touched customers are re-scored before the answer (role system)",
)
async def post_events(
    batch: EventBatch, request: Request, ctx: Ctx, key: Annotated[KeyRecord, Depends(require("system"))]
) -> JSONResponse:
    """Append the events, update the touched customers' online features, re-score them with the champion,
    apply the decision policy and store their new recommendations, all before answering. An event id seen
    before changes nothing. A malformed event gets a 422 naming its index and field; the others are applied.
    """
    proc = ctx.events.processor() if ctx.events is not None else None
    if proc is None:
        why = (ctx.events.error if ctx.events is not None else "disabled") or "starting"
        raise ProblemError(
            503,
            f"the event path is not ready ({why})",
            "이벤트 처리기가 아직 준비되지 않았습니다",
            headers={"Retry-After": "5"},
        )
    res = await asyncio.to_thread(proc.process, batch.events)
    body = _body(res)
    if res.problems:
        errors = [
            {
                "loc": ["body", "events", p.index, *([p.field] if p.field else [])],
                "index": p.index,
                "field": p.field,
                "event_id": p.event_id,
                "msg": p.message,
                "type": "invalid_event",
            }
            for p in res.problems
        ]
        first = res.problems[0]
        where = "; ".join(f"events[{p.index}].{p.field or '(event)'}: {p.message}" for p in res.problems[:5])
        resp = problem_response(
            request,
            422,
            f"{len(res.problems)} event(s) refused ({where}); the other {res.applied + res.duplicates} were "
            "applied",
            f"이벤트 {len(res.problems)}건이 거부되었습니다 (첫 번째: {first.index}번 {first.field}); "
            f"나머지 {res.applied + res.duplicates}건은 반영되었습니다",
            errors=errors,
        )
        data = json.loads(bytes(resp.body))
        data.update({"accepted": body})
        return JSONResponse(data, status_code=422, media_type=resp.media_type)
    return JSONResponse(body)


@router.get(
    "/leads",
    responses=problems(401, 403, 422, 429, 503),
    summary="오늘의 영업 기회: open leads of a branch, newest first",
    tags=["leads"],
)
async def leads(
    ctx: Ctx,
    key: Annotated[KeyRecord, Depends(require("staff"))],
    branch: Annotated[
        str | None, Query(max_length=64, description="owning branch, e.g. 서울특별시 강남구")
    ] = None,
    status: Annotated[str, Query(pattern="^(open|expired|closed)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JSONResponse:
    """Leads opened by event triggers (configs/triggers.yaml): customer, product, reasons, evidence, expiry."""
    store = ctx.events.lead_store() if ctx.events is not None else None
    if store is None:
        return JSONResponse({"branch": branch, "leads": [], "branches": []})
    rows = store.leads(branch, status, limit)
    for r in rows:
        r["product_name"] = ctx.products.get(r["product_id"], {}).get("name", r["product_id"])
    return JSONResponse({"branch": branch, "leads": rows, "branches": [b for b, _ in store.branches()]})
