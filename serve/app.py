"""The FastAPI app factory: `create_app(settings)` builds everything; nothing is built at import time."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

from cdna.core.heap import freeze_heap
from cdna.core.lake import Lake
from cdna.core.secrets import KeyMissingError, SecretKey, create_key_file, load_key
from cdna.serve.audit import AuditLog, audit_path
from cdna.serve.audit_writer import AuditWriter
from cdna.serve.deps import AppContext
from cdna.serve.docs import install_docs
from cdna.serve.events import EventsHolder
from cdna.serve.fastlane import FastLookup
from cdna.serve.keys import KeyStore, keys_path
from cdna.serve.metrics import Metrics
from cdna.serve.observe import ObserveMiddleware, Receive, Scope, Send
from cdna.serve.problems import install_handlers
from cdna.serve.ratelimit import RateLimiter
from cdna.serve.routers import customers, events, health, insight, keys, models, runs
from cdna.serve.routers import offers as offers_router
from cdna.serve.runs import RetrainRuns
from cdna.serve.settings import ServeSettings
from cdna.serve.state import ServingHolder

__all__ = ["create_app", "create_app_from_env"]

_log = logging.getLogger("cdna.serve")


DESCRIPTION = """Staff API of Customer DNA: what to offer a customer, and why.

* Send an API key as `Authorization: Bearer KEY` (issue one with `cdna keys create --role staff --name NAME`).
* Roles: **staff** reads recommendations and profiles, **ml** also retrains, **admin** also manages keys.
* Every customer lookup must say why with `X-Purpose` (counseling, sales, complaint, review, compliance,
  campaign or app by default; 400 otherwise) and is written to a hash-chained, signed audit log (who, whom,
  when, purpose, result) before it is answered; if the log cannot take the row in time, the answer is 503.
* Errors are RFC 9457 `application/problem+json` with English `title`/`detail` and Korean `title_ko`/`detail_ko`.
* The staff console (Korean) is at [/console](/console).
"""


def _freeze_heap(_: object) -> None:
    """Once the event path is built: start-up's objects out of the garbage collector's sight (p99, issue 16)."""
    freeze_heap()


class StaffApp(FastAPI):
    """The FastAPI app with the fast lane in front of every middleware (see `cdna.serve.fastlane`)."""

    fast: FastLookup | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = self.fast
        if fast is not None and await fast.handle(scope, receive, send):
            return
        await super().__call__(scope, receive, send)


def _console_file(name: str) -> bytes:
    return resources.files("cdna.serve.console").joinpath(name).read_bytes()


def _audit_key(settings: ServeSettings) -> SecretKey:
    """The checkpoint key: env var, else the key file — created (0600) on first start when it is absent."""
    try:
        return load_key("audit", settings.audit_key_file, settings.audit_key_env, settings.lake)
    except KeyMissingError:
        path = settings.audit_key_file
        if path is None or Path(path).expanduser().exists():
            raise
        key = create_key_file(Path(path), settings.lake)
        _log.warning(
            "created a new audit key at %s (key id %s): keep a copy outside the lake", path, key.key_id
        )
        return key


def _offer_log(lake: Path | str) -> Any:
    """The offer log (issue 17): recommendations shown with X-Purpose counseling/sales/campaign/app, and outcomes."""
    from cdna.recommend.offer_log import OfferLog

    return OfferLog.of(Lake(Path(lake)))


def _build_context(settings: ServeSettings) -> AppContext:
    from cdna.core.config import load_intents, load_memo_categories, load_products

    lake = settings.lake
    catalog = load_products()
    audit = None
    if settings.audit:
        # A short busy timeout: the writer thread retries on its own, so a lock never parks it for long.
        audit = AuditLog(
            audit_path(lake), _audit_key(settings), settings.audit_checkpoint_every, busy_timeout_ms=250
        )
        try:
            audit.sign_if_unsigned()
        except (
            sqlite3.OperationalError
        ):  # locked by another process: the first N rows or the shutdown sign it
            _log.warning("audit log busy at start: its first checkpoint is signed later")
    return AppContext(
        settings=settings,
        keys=KeyStore(keys_path(lake)),
        audit=audit,
        writer=AuditWriter(audit, settings.audit_queue) if audit is not None else None,
        limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst),
        holder=ServingHolder(lake, settings.reload_interval_s, settings.online_store, settings.redis_url),
        runs=RetrainRuns(
            Lake(lake).serve_runs, settings.retrain_argv(), rescore_argv=settings.rescore_argv()
        ),
        products={p.id: {"name": p.name, "family": p.family} for p in catalog.products},
        intents={i.id: i.name for i in load_intents().intents},
        interests={c.id: c.name for c in load_memo_categories().categories},
        metrics=Metrics(),
        offers=_offer_log(lake),
        events=EventsHolder(Lake(Path(lake))),
    )


def create_app(settings: ServeSettings) -> FastAPI:
    """Build the staff API for one lake: key store, audit log, limiter, hot-swapped serving data, console."""
    ctx = _build_context(settings)
    if ctx.audit is None:
        _log.warning("the access log is OFF (serve.audit: false): customer lookups are not recorded")
    if ctx.audit is not None:
        ctx.audit.defer_checkpoints()
        ctx.holder.background.append(ctx.audit.fold_wal)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx.holder.refresh(force=True)
        if ctx.holder.current is None:
            _log.warning(
                "nothing to serve yet (%s); /readyz reports 503 until a load succeeds", ctx.holder.last_error
            )
        ctx.holder.start()
        if ctx.writer is not None:
            ctx.writer.start()
        # the event path loads the lake's rows and the champion: off the start-up path (503 until ready)
        events_build = asyncio.get_running_loop().run_in_executor(None, ctx.events.build)
        events_build.add_done_callback(_freeze_heap)
        try:
            yield
        finally:
            await ctx.holder.stop()
            await events_build
            if ctx.writer is not None:
                # Rows still queued are written, then the tail is signed (a "shutdown" checkpoint).
                await asyncio.to_thread(ctx.writer.close, settings.audit_timeout_s + 5.0)

    app = StaffApp(
        title="Customer DNA staff API",
        version="1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served offline by install_docs (no CDN on a bank network)
        redoc_url=None,
        openapi_tags=[
            {"name": "customers", "description": "고객별 추천과 DNA 프로필 (audited)"},
            {"name": "offers", "description": "제안 결과 기록 (수락·거절·관심 없음·재연락)"},
            {"name": "models", "description": "model registry"},
            {"name": "runs", "description": "retraining (role ml)"},
            {"name": "keys", "description": "API keys (role admin)"},
            {"name": "health", "description": "liveness, readiness, metrics"},
            {"name": "market", "description": "시장 동향: 주별 상담 의도·민원·관심사"},
        ],
    )
    app.state.ctx = ctx
    install_handlers(app)
    install_docs(app)
    app.include_router(customers.build_router(settings.max_k))
    app.include_router(insight.router)
    app.include_router(models.router)
    app.include_router(runs.router)
    app.include_router(keys.router)
    app.include_router(health.router)
    app.include_router(offers_router.router)
    app.include_router(events.router)
    if settings.console:

        @app.get("/console", include_in_schema=False)
        async def console() -> HTMLResponse:
            return HTMLResponse(_console_file("index.html"), headers={"Cache-Control": "no-store"})

        @app.get("/console/console.js", include_in_schema=False)
        async def console_js() -> Response:
            return Response(_console_file("console.js"), media_type="text/javascript; charset=utf-8")

        @app.get("/console/offers.js", include_in_schema=False)
        async def console_offers_js() -> Response:
            return Response(_console_file("offers.js"), media_type="text/javascript; charset=utf-8")

        @app.get("/console/market", include_in_schema=False)
        async def console_market() -> HTMLResponse:
            return HTMLResponse(_console_file("market.html"), headers={"Cache-Control": "no-store"})

        @app.get("/console/market.js", include_in_schema=False)
        async def console_market_js() -> Response:
            return Response(_console_file("market.js"), media_type="text/javascript; charset=utf-8")

        @app.get("/console/leads", include_in_schema=False)
        async def console_leads() -> HTMLResponse:
            return HTMLResponse(_console_file("leads.html"), headers={"Cache-Control": "no-store"})

        @app.get("/console/leads.js", include_in_schema=False)
        async def console_leads_js() -> Response:
            return Response(_console_file("leads.js"), media_type="text/javascript; charset=utf-8")

        @app.get("/", include_in_schema=False)
        async def root() -> Response:
            return Response(status_code=307, headers={"Location": "/console"})

    app.add_middleware(ObserveMiddleware, ctx=ctx)
    if settings.fast_lookup:
        app.fast = FastLookup(ctx)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for uvicorn worker processes: settings come from CDNA_SERVE_SETTINGS (set by `cdna serve`)."""
    from cdna.serve.server import tune_interpreter

    tune_interpreter()
    return create_app(ServeSettings.from_env())
