"""Customer search and the market-sensing trends behind the console (role staff and above)."""

# No `from __future__ import annotations`: FastAPI reads the Annotated query bounds at runtime.

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from cdna.serve.deps import AppContext, live_serving, require
from cdna.serve.insight import SearchHit, market_trends, search_customers
from cdna.serve.keys import KeyRecord
from cdna.serve.models import problems

__all__ = ["CONTACT_SEARCH_ROLES", "router"]

# Tellers and admins look customers up by phone tail or surname; the ML team works with ids only.
CONTACT_SEARCH_ROLES = ("staff", "admin")

router = APIRouter(tags=["customers"])
_staff = Depends(require("staff"))


@router.get(
    "/v1/search/customers",
    responses=problems(401, 403, 422, 429, 503),
    summary="Find customers by id prefix, 4-digit phone tail or surname (masked results)",
)
async def search(
    request: Request,
    key: Annotated[KeyRecord, _staff],
    q: Annotated[
        str, Query(min_length=1, max_length=64, description="C00001 · 5678 · 김", examples=["C00001"])
    ],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> JSONResponse:
    """An id prefix matches any case; a phone tail or surname needs a contact table and a teller's role."""
    ctx: AppContext = request.app.state.ctx
    live_serving(request)
    live = live_serving(request)
    mode, hits = search_customers(ctx.settings.lake, q, key.role in CONTACT_SEARCH_ROLES, limit)
    known = live.recommendations(q) is not None or live.features(q) is not None
    if mode == "none" and known:  # a lake without raw/customers: the exact id still finds them
        mode, hits = "id_prefix", [SearchHit(q, None, None, None, None)]
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
