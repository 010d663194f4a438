"""Retrain over HTTP (role ml): start it in the background, then poll its state and metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse

from cdna.serve.deps import Ctx, require
from cdna.serve.keys import KeyRecord
from cdna.serve.models import RetrainRun, problems
from cdna.serve.problems import ProblemError
from cdna.serve.runs import RunBusyError

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["runs"])
RUN_ID = r"^\d{8}T\d{6}Z-[0-9a-f]{8}$"


@router.post(
    "/retrain",
    status_code=202,
    response_model=RetrainRun,
    responses=problems(401, 403, 409, 429),
    summary="Start a retrain in the background (role ml)",
)
async def retrain(ctx: Ctx, key: Annotated[KeyRecord, Depends(require("ml"))]) -> JSONResponse:
    """Runs `cdna retrain` (train a challenger, promote it only if it beats the champion); returns its run id."""
    try:
        rec = ctx.runs.start(requested_by=key.name)
    except RunBusyError as exc:
        raise ProblemError(
            409,
            f"retrain {exc} is still running",
            f"재학습 {exc}이(가) 아직 실행 중입니다",
            headers={"Location": f"/v1/runs/{exc}"},
        ) from None
    return JSONResponse(rec, status_code=202, headers={"Location": f"/v1/runs/{rec['run_id']}"})


@router.get(
    "/runs/{run_id}",
    response_model=RetrainRun,
    responses=problems(401, 403, 404, 422, 429),
    summary="State and metrics of a retrain (role ml)",
)
async def run(
    run_id: Annotated[str, Path(pattern=RUN_ID, examples=["20250701T010203Z-1a2b3c4d"])],
    ctx: Ctx,
    key: Annotated[KeyRecord, Depends(require("ml"))],
) -> JSONResponse:
    """running, succeeded or failed; metrics are what `cdna --json retrain` printed."""
    rec = ctx.runs.get(run_id)
    if rec is None:
        raise ProblemError(404, f"no retrain run {run_id!r}", f"재학습 실행 {run_id!r}이(가) 없습니다")
    return JSONResponse(rec)
