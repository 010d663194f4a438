"""Customer search and the market-sensing trends behind the console (role staff and above)."""

# No `from __future__ import annotations`: FastAPI reads the Annotated query bounds at runtime.

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from cdna.serve.deps import AppContext, live_serving, require, require_purpose
from cdna.serve.insight import SearchHit, market_trends, search_customers
from cdna.serve.keys import KeyRecord
from cdna.serve.models import problems
from cdna.serve.observe import audit_lookup
from cdna.serve.problems import ProblemError

__all__ = ["router"]

router = APIRouter(tags=["customers"])
_staff = Depends(require("staff"))
_staff_with_purpose = Depends(require_purpose("staff"))


@router.get(
    "/v1/search/customers",
    responses=problems(400, 401, 403, 422, 429, 503),
    summary="Find customers by id prefix, 4-digit phone tail or name initials (masked results, audited)",
)
async def search(
    request: Request,
    key: Annotated[KeyRecord, _staff_with_purpose],
    q: Annotated[
        str,
        Query(min_length=1, max_length=64, description="C00001 · 5678 · 김 · ㄱㅁ", examples=["C00001"]),
    ],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> JSONResponse:
    """An id prefix matches any case; a phone tail or name initials (김, ㄱㅁ, 김ㅁ) need the contacts table
    and a role of `serve.contact_search_roles`. Names and phones leave masked (김*수, 010-****-1234).

    Like every customer lookup it needs `X-Purpose`, and each customer found is written to the audit log
    (who searched, whom they were shown, why) before the answer leaves.
    """
    ctx: AppContext = request.app.state.ctx
    live = live_serving(request)
    allowed = key.role in ctx.settings.contact_search_roles
    mode, hits = await asyncio.to_thread(search_customers, ctx.settings.lake, q, allowed, limit)
    known = live.recommendations(q) is not None or live.features(q) is not None
    if mode == "none" and known:  # a lake without raw/customers: the exact id still finds them
        mode, hits = "id_prefix", [SearchHit(q, None, None, None, None)]
    if ctx.writer is not None and hits:
        purpose = request.headers.get("x-purpose")
        written = await asyncio.gather(
            *(audit_lookup(ctx, key, h.customer_id, request.url.path, "GET", purpose, 200) for h in hits)
        )
        if not all(written):
            raise ProblemError(
                503,
                f"the audit store did not record this search within {ctx.settings.audit_timeout_s:g} s, so the "
                "answer is withheld; retry shortly",
                "감사 기록이 제때 저장되지 않아 검색 결과를 보여드릴 수 없습니다. 잠시 후 다시 시도하세요.",
                title="Audit log unavailable",
                title_ko="감사 기록을 저장할 수 없습니다",
                headers={"Retry-After": str(max(1, int(ctx.settings.audit_timeout_s)))},
                slug="audit-unavailable",
            )
    return JSONResponse({"query": q, "mode": mode, "hits": [h.as_dict() for h in hits]})


@router.get(
    "/v1/market/trends",
    responses=problems(401, 403, 422, 429, 503),
    tags=["market"],
    summary="Weekly trends of call intents, complaints and memo interests, by segment and region",
)
async def trends(
    request: Request,
    key: Annotated[KeyRecord, _staff],
    weeks: Annotated[int, Query(ge=2, le=104, description="how many weeks back")] = 12,
    segment: Annotated[str | None, Query(max_length=64, description="segment (Korean name)")] = None,
    region: Annotated[str | None, Query(max_length=64, description="시도, e.g. 서울특별시")] = None,
) -> JSONResponse:
    """Counts per Korea-time week (Monday start); the top labels of each kind are one series each."""
    ctx: AppContext = request.app.state.ctx
    live_serving(request)
    names = {"intent": ctx.intents, "interest": ctx.interests, "complaint": {"complaint": "민원 접수"}}
    return JSONResponse(market_trends(ctx.settings.lake, names, weeks, segment or None, region or None))
