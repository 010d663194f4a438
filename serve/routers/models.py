"""The model registry as the service sees it: versions, aliases, and what is being served."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from cdna.serve.deps import Ctx, require, serving
from cdna.serve.keys import KeyRecord
from cdna.serve.models import ModelsView, problems
from cdna.serve.state import Serving

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["models"])


@router.get(
    "/models",
    response_model=ModelsView,
    responses=problems(401, 403, 429, 503),
    summary="Model versions and aliases",
)
async def models(
    ctx: Ctx,
    key: Annotated[KeyRecord, Depends(require("staff"))],
    live: Annotated[Serving, Depends(serving)],
) -> JSONResponse:
    """Registered versions with their aliases (champion, challenger) and the live serving snapshot."""
    reg = live.registry
    return JSONResponse(
        {
            "champion": reg.champion.as_dict() if reg.champion else None,
            "versions": [v.as_dict() for v in reg.versions],
            "serving": {
                "model_version": live.model_version,
                "scores_model_version": live.recs_model_version,
                "scores_as_of": live.recs_as_of,
                "scores_behind_champion": live.scores_behind_champion,
                "customers_with_scores": live.n_scored,
                "online_as_of": live.online_info.get("as_of"),
                "loaded_at": live.loaded_at,
                "swaps": ctx.holder.swaps,
            },
        }
    )
