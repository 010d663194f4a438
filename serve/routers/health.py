"""Liveness, readiness (with the last failed load) and Prometheus metrics; no key needed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from cdna.serve.deps import Ctx
from cdna.serve.models import HealthStatus, ReadyStatus

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthStatus, summary="Liveness")
async def healthz() -> JSONResponse:
    """The process answers."""
    return JSONResponse({"status": "ok"})


@router.get(
    "/readyz",
    response_model=ReadyStatus,
    responses={503: {"model": ReadyStatus, "description": "nothing loaded yet"}},
    summary="Readiness and the last failed load",
)
async def readyz(ctx: Ctx) -> JSONResponse:
    """200 while a snapshot serves (`degraded` when the last reload failed and the old one is kept), else 503.

    `audit` reports the audit writer's backlog (rows waiting, the oldest one's age, the last store error).
    """
    h = ctx.holder
    live = h.current
    body = {
        "ready": live is not None,
        "degraded": live is not None and h.last_error is not None,
        "model_version": live.model_version if live else None,
        "loaded_at": live.loaded_at if live else None,
        "customers_with_scores": live.n_scored if live else 0,
        "last_error": h.last_error,
        "last_error_at": h.last_error_at,
        "last_check_at": h.last_check_at,
        # Rows waiting for the audit writer: a growing backlog means the audit store is locked or failing.
        "audit": ctx.writer.backlog() if ctx.writer is not None else None,
        # The event processor loads the lake's rows in the background after start: POST /v1/events answers
        # 503 until then, and the loading competes with lookups for the CPU.
        "events_ready": ctx.events is not None and ctx.events.processor() is not None,
        "events_error": ctx.events.error if ctx.events is not None else None,
    }
    return JSONResponse(body, status_code=200 if live is not None else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(request: Request) -> Response:
    """Request counts and latencies per route, reloads and their failures."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    m = request.app.state.ctx.metrics
    m.refresh(request.app.state.ctx)
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)
