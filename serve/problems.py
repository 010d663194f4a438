"""RFC 9457 problem details for every error, in English and Korean, never with a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["PROBLEM_JSON", "Problem", "ProblemError", "install_handlers", "problem_response"]

PROBLEM_JSON = "application/problem+json"
_log = logging.getLogger("cdna.serve")

# status -> (slug, English title, Korean title)
_TITLES: dict[int, tuple[str, str, str]] = {
    400: ("bad-request", "Bad request", "잘못된 요청입니다"),
    401: ("unauthorized", "Missing or unknown API key", "API 키가 없거나 유효하지 않습니다"),
    403: ("forbidden", "This key's role may not do this", "이 키의 권한으로는 할 수 없는 작업입니다"),
    404: ("not-found", "Not found", "찾을 수 없습니다"),
    405: ("method-not-allowed", "Method not allowed", "허용되지 않는 메서드입니다"),
    409: ("conflict", "Conflict", "요청이 현재 상태와 충돌합니다"),
    422: ("invalid-request", "The request is not valid", "요청 형식이 올바르지 않습니다"),
    429: ("rate-limited", "Too many requests for this key", "요청이 너무 많습니다. 잠시 후 다시 시도하세요"),
    500: ("internal", "Internal error", "내부 오류가 발생했습니다"),
    503: ("not-ready", "The service is not ready", "서비스가 아직 준비되지 않았습니다"),
}


class Problem(BaseModel):
    """An RFC 9457 problem document with Korean translations as extension members."""

    type: str = Field(description="URI naming the kind of problem", examples=["/problems/not-found"])
    title: str = Field(description="short English summary", examples=["Unknown customer"])
    status: int = Field(description="the HTTP status", examples=[404])
    detail: str = Field(
        "", description="what happened, in English", examples=["customer 'C9999999' is not known"]
    )
    instance: str = Field("", description="the request path", examples=["/v1/customers/C9999999/profile"])
    title_ko: str = Field("", description="제목 (한국어)", examples=["고객을 찾을 수 없습니다"])
    detail_ko: str = Field(
        "", description="설명 (한국어)", examples=["고객 'C9999999'을(를) 찾을 수 없습니다"]
    )
    errors: list[dict[str, Any]] | None = Field(None, description="field errors of a 422")


class ProblemError(Exception):
    """Raised anywhere in serve/ to answer with a problem document.

    Attributes:
        status: HTTP status.
        detail / detail_ko: what happened, in English and Korean.
        title / title_ko: overrides of the status' default titles.
        headers: extra response headers (WWW-Authenticate, Retry-After).
    """

    def __init__(
        self,
        status: int,
        detail: str,
        detail_ko: str,
        title: str | None = None,
        title_ko: str | None = None,
        headers: dict[str, str] | None = None,
        slug: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.detail_ko = status, detail, detail_ko
        self.title, self.title_ko, self.headers, self.slug = title, title_ko, headers or {}, slug


def problem_response(
    request: Request | None,
    status: int,
    detail: str = "",
    detail_ko: str = "",
    title: str | None = None,
    title_ko: str | None = None,
    headers: dict[str, str] | None = None,
    slug: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    instance: str | None = None,
) -> JSONResponse:
    """A problem+json response for `status`.

    Messages are never run through the PII masker (it turned a pattern in a 422 into `[[EMAIL]]`, issue
    #14): they are written not to quote what the caller typed, and `instance` is the route with its ids
    replaced by placeholders, so a resident or card number typed into a URL is never sent back or logged.
    """
    from cdna.serve.metrics import route_label

    default_slug, en, ko = _TITLES.get(status, ("error", "Error", "오류가 발생했습니다"))
    if instance is None:
        instance = route_label(request.url.path) if request is not None else ""
    body: dict[str, Any] = {
        "type": f"/problems/{slug or default_slug}",
        "title": title or en,
        "status": status,
        "detail": detail,
        "instance": instance,
        "title_ko": title_ko or ko,
        "detail_ko": detail_ko,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _clean_errors(errors: Any) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        out.append({"loc": loc, "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))})
    return out


def install_handlers(app: FastAPI) -> None:
    """Turn every error into problem+json: ours, HTTP errors, validation errors and crashes."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            request, exc.status, exc.detail, exc.detail_ko, exc.title, exc.title_ko, exc.headers, exc.slug
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            detail, ko = "no such path (see /docs for the API)", "요청한 경로가 없습니다"
        elif exc.status_code == 405:
            detail, ko = (
                f"{request.method} is not allowed on this path",
                "이 경로에서 허용되지 않는 메서드입니다",
            )
        else:
            detail, ko = str(exc.detail), ""
        return problem_response(request, exc.status_code, detail, ko, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _clean_errors(exc.errors())
        where = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors)
        return problem_response(request, 422, where, f"요청 값이 올바르지 않습니다: {where}", errors=errors)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        # Ids only in logs (STYLE rule 7): the exception type, never its message, which may quote data.
        _log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return problem_response(
            request,
            500,
            "an unexpected error occurred; it has been logged",
            "예기치 않은 오류가 발생했습니다. 기록되었습니다",
        )
