"""Request dependencies: the app context, the caller's key (401/429) and role checks (403)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cdna.serve.audit import AuditLog
from cdna.serve.audit_writer import AuditWriter
from cdna.serve.keys import KeyRecord, KeyStore, role_allows
from cdna.serve.problems import ProblemError
from cdna.serve.ratelimit import RateLimiter
from cdna.serve.runs import RetrainRuns
from cdna.serve.settings import ServeSettings
from cdna.serve.state import Serving, ServingHolder

__all__ = [
    "AppContext",
    "Ctx",
    "Principal",
    "bearer",
    "get_ctx",
    "live_serving",
    "principal",
    "require",
    "require_purpose",
    "serving",
]

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="API key issued by `cdna keys create --role staff|ml|admin --name NAME`.",
)


@dataclass
class AppContext:
    """Everything the routes share, built once by `create_app`.

    Attributes:
        settings: the service settings.
        keys / audit / limiter / holder / runs: the key store, access log, rate limiter, serving holder, retrains.
        writer: the audit writer thread (requests queue their rows on it), None when the log is off.
        products: product id -> {name, family}.
        intents / interests: label id -> Korean name.
    """

    settings: ServeSettings
    keys: KeyStore
    audit: AuditLog | None
    limiter: RateLimiter
    holder: ServingHolder
    runs: RetrainRuns
    products: dict[str, dict[str, str]]
    intents: dict[str, str]
    interests: dict[str, str]
    metrics: Any = None
    offers: Any = None  # cdna.recommend.offer_log.OfferLog: offers shown and their outcomes (issue 17)
    writer: AuditWriter | None = None
    events: Any = None  # serve.events.EventsHolder: POST /v1/events and leads (issue #16)


def _ctx(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


# Dependencies are `async def` on purpose: FastAPI runs plain `def` ones in a thread pool, a hop per call
# that costs more than the whole lookup on 2 cores.
async def get_ctx(request: Request) -> AppContext:
    """The app's context."""
    return _ctx(request)


Ctx = Annotated[AppContext, Depends(get_ctx)]

_WWW = {"WWW-Authenticate": 'Bearer realm="cdna"'}


def _authenticate(request: Request, creds: HTTPAuthorizationCredentials | None) -> KeyRecord:
    ctx = _ctx(request)
    if creds is None or not creds.credentials:
        raise ProblemError(
            401,
            "send the API key as `Authorization: Bearer KEY`",
            "API 키를 `Authorization: Bearer KEY` 헤더로 보내 주세요",
            headers=_WWW,
        )
    rec = ctx.keys.verify(creds.credentials)
    if rec is None:
        raise ProblemError(
            401,
            "this API key is unknown or revoked",
            "등록되지 않았거나 폐기된 API 키입니다",
            headers=_WWW,
        )
    request.state.principal = rec
    wait = ctx.limiter.take(rec.name)
    if wait > 0:
        after = ctx.limiter.retry_after(wait)
        raise ProblemError(
            429,
            f"key {rec.name!r} is limited to {ctx.limiter.per_minute} requests per minute; retry in {after} s",
            f"키 {rec.name!r}의 한도(분당 {ctx.limiter.per_minute}회)를 넘었습니다. {after}초 후 다시 시도하세요",
            headers={"Retry-After": after},
        )
    return rec


async def principal(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> KeyRecord:
    """The caller's active key: 401 when missing or unknown, 429 past its rate limit."""
    return _authenticate(request, creds)


Principal = Annotated[KeyRecord, Depends(principal)]


def require(role: str) -> Callable[..., Awaitable[KeyRecord]]:
    """A dependency that admits keys of `role` or above (staff < ml < admin), else 403; 401/429 as `principal`."""

    # One flat dependency (not principal → require): each level of FastAPI's solver costs on the hot path.
    async def _check(
        request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> KeyRecord:
        rec = _authenticate(request, creds)
        if not role_allows(rec.role, role):
            raise ProblemError(
                403,
                f"key {rec.name!r} has role {rec.role!r}; this needs role {role!r} or above",
                f"키 {rec.name!r}의 권한({rec.role})으로는 할 수 없습니다. {role} 이상의 권한이 필요합니다",
            )
        return rec

    return _check


def require_purpose(role: str) -> Callable[..., Awaitable[KeyRecord]]:
    """`require(role)` for customer lookups, which also need an allowed X-Purpose header (else 400).

    The purpose goes into the audit row; the check runs after authentication so that an unknown caller
    still gets 401. The value is never echoed: a header is free text and may hold anything.
    """
    check_role = require(role)

    async def _check(
        request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> KeyRecord:
        rec = await check_role(request, creds)
        allowed = _ctx(request).settings.purposes
        given = request.headers.get("x-purpose")
        if given not in allowed:
            got = "none was sent" if not given else "the value sent is not one of them"
            raise ProblemError(
                400,
                f"customer lookups need an X-Purpose header naming why you look, one of: {', '.join(allowed)} "
                f"({got})",
                f"고객 조회에는 조회 목적(X-Purpose 헤더)이 필요합니다. 허용 값: {', '.join(allowed)}",
                title="Purpose required",
                title_ko="조회 목적이 필요합니다",
                slug="purpose-required",
            )
        return rec

    return _check


def live_serving(request: Request) -> Serving:
    """The live serving snapshot, or a 503 ProblemError until the first load succeeds."""
    ctx = _ctx(request)
    current = ctx.holder.current
    if current is None:
        err = ctx.holder.last_error or "nothing loaded yet"
        raise ProblemError(
            503,
            f"no recommendations or online store loaded yet ({err})",
            "추천 결과나 온라인 피처가 아직 적재되지 않았습니다",
            headers={"Retry-After": str(max(1, int(ctx.settings.reload_interval_s)))},
        )
    return current


async def serving(request: Request) -> Serving:
    """The live serving snapshot, or 503 until the first load succeeds."""
    return live_serving(request)
