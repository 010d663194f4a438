"""The FastAPI app factory: `create_app(settings)` builds everything; nothing is built at import time."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

from cdna.serve.audit import AuditEntry, AuditLog, audit_path
from cdna.serve.deps import AppContext
from cdna.serve.keys import KeyStore, keys_path
from cdna.serve.metrics import Metrics, route_label
from cdna.serve.problems import install_handlers
from cdna.serve.ratelimit import RateLimiter
from cdna.serve.routers import customers, health, keys, models, runs
from cdna.serve.runs import RetrainRuns
from cdna.serve.settings import ServeSettings
from cdna.serve.state import ServingHolder

__all__ = ["create_app", "create_app_from_env"]

_log = logging.getLogger("cdna.serve")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]

DESCRIPTION = """Staff API of Customer DNA: what to offer a customer, and why.

* Send an API key as `Authorization: Bearer KEY` (issue one with `cdna keys create --role staff --name NAME`).
* Roles: **staff** reads recommendations and profiles, **ml** also retrains, **admin** also manages keys.
* Every customer lookup is written to a hash-chained audit log (who, whom, when, purpose, result);
  send `X-Purpose: 상담` to record why.
* Errors are RFC 9457 `application/problem+json` with English `title`/`detail` and Korean `title_ko`/`detail_ko`.
* The staff console (Korean) is at [/console](/console).
"""


class ObserveMiddleware:
    """Pure ASGI middleware: audit customer lookups before the answer leaves, and count every request.

    The audit row is written when the response status is known but before it is sent, so no lookup is
    answered without its row (issue #7: regulators ask who looked at whom).
    """

    def __init__(self, app: ASGIApp, ctx: AppContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        path: str = scope["path"]
        audited = path.startswith("/v1/customers/") and self.ctx.audit is not None
        status_box = [500]
        written = [False]

        def _audit(status: int) -> None:
            if not audited or written[0]:
                return
            rec = scope.get("state", {}).get("principal")
            if rec is None:  # 401s: nobody identified looked at anyone
                return
            written[0] = True
            parts = path.split("/")
            customer = unquote(parts[3]) if len(parts) > 3 else ""
            purpose = None
            for name, value in scope.get("headers", ()):
                if name == b"x-purpose":
                    purpose = value.decode("utf-8", "replace")
                    break
            assert self.ctx.audit is not None
            self.ctx.audit.append(
                AuditEntry(rec.name, rec.role, customer, route_label(path), scope["method"], purpose, status)
            )
            self.ctx.metrics.audit_rows.inc()

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = int(message["status"])
                _audit(status_box[0])
            await send(message)

        try:
            await self.app(scope, receive, _send)
        except Exception:
            _audit(500)
            self.ctx.metrics.observe(path, scope["method"], 500, time.perf_counter() - t0)
            raise
        self.ctx.metrics.observe(path, scope["method"], status_box[0], time.perf_counter() - t0)


def _console_file(name: str) -> bytes:
    return resources.files("cdna.serve.console").joinpath(name).read_bytes()


def _build_context(settings: ServeSettings) -> AppContext:
    from cdna.core.config import load_intents, load_memo_categories, load_products

    lake = settings.lake
    catalog = load_products()
    return AppContext(
        settings=settings,
        keys=KeyStore(keys_path(lake)),
        audit=AuditLog(audit_path(lake)) if settings.audit else None,
        limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst),
        holder=ServingHolder(lake, settings.reload_interval_s),
        runs=RetrainRuns(
            lake / "serve" / "runs", settings.retrain_argv(), rescore_argv=settings.rescore_argv()
        ),
        products={p.id: {"name": p.name, "family": p.family} for p in catalog.products},
        intents={i.id: i.name for i in load_intents().intents},
        interests={c.id: c.name for c in load_memo_categories().categories},
        metrics=Metrics(),
    )


def create_app(settings: ServeSettings) -> FastAPI:
    """Build the staff API for one lake: key store, audit log, limiter, hot-swapped serving data, console."""
    ctx = _build_context(settings)
    if ctx.audit is None:
        _log.warning("the access log is OFF (serve.audit: false): customer lookups are not recorded")
    if ctx.audit is not None:
        ctx.audit.defer_checkpoints()
        ctx.holder.background.append(ctx.audit.checkpoint)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.holder.refresh(force=True)
        if ctx.holder.current is None:
            _log.warning(
                "nothing to serve yet (%s); /readyz reports 503 until a load succeeds", ctx.holder.last_error
            )
        ctx.holder.start()
        try:
            yield
        finally:
            await ctx.holder.stop()

    app = FastAPI(
        title="Customer DNA staff API",
        version="1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "customers", "description": "고객별 추천과 DNA 프로필 (audited)"},
            {"name": "models", "description": "model registry"},
            {"name": "runs", "description": "retraining (role ml)"},
            {"name": "keys", "description": "API keys (role admin)"},
            {"name": "health", "description": "liveness, readiness, metrics"},
        ],
    )
    app.state.ctx = ctx
    install_handlers(app)
    app.include_router(customers.build_router(settings.max_k))
    app.include_router(models.router)
    app.include_router(runs.router)
    app.include_router(keys.router)
    app.include_router(health.router)
    if settings.console:

        @app.get("/console", include_in_schema=False)
        async def console() -> HTMLResponse:
            return HTMLResponse(_console_file("index.html"), headers={"Cache-Control": "no-store"})

        @app.get("/console/console.js", include_in_schema=False)
        async def console_js() -> Response:
            return Response(_console_file("console.js"), media_type="text/javascript; charset=utf-8")

        @app.get("/", include_in_schema=False)
        async def root() -> Response:
            return Response(status_code=307, headers={"Location": "/console"})

    app.add_middleware(ObserveMiddleware, ctx=ctx)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for uvicorn worker processes: settings come from CDNA_SERVE_SETTINGS (set by `cdna serve`)."""
    return create_app(ServeSettings.from_env())
