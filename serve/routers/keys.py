"""Key management over HTTP (role admin); the CLI `cdna keys` does the same on the lake."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse

from cdna.serve.deps import Ctx, require
from cdna.serve.keys import KeyError_, KeyRecord
from cdna.serve.models import CreatedKey, KeyInfo, NewKey, problems
from cdna.serve.problems import ProblemError

__all__ = ["router"]

router = APIRouter(prefix="/v1/keys", tags=["keys"])
Admin = Annotated[KeyRecord, Depends(require("admin"))]


@router.get(
    "", response_model=list[KeyInfo], responses=problems(401, 403, 429), summary="List keys (role admin)"
)
async def list_keys(ctx: Ctx, key: Admin) -> JSONResponse:
    """Every key ever issued (names, roles, dates; never the keys)."""
    return JSONResponse([asdict(r) for r in ctx.keys.list()])


@router.post(
    "",
    status_code=201,
    response_model=CreatedKey,
    responses=problems(401, 403, 409, 422, 429),
    summary="Issue a key (role admin)",
)
async def create_key(body: NewKey, ctx: Ctx, key: Admin) -> JSONResponse:
    """Issue a key; the response is the only place the key is ever shown."""
    try:
        new = ctx.keys.create(body.name, body.role)
    except KeyError_ as exc:
        raise ProblemError(
            409, str(exc).splitlines()[0], f"이미 같은 이름의 키가 있습니다: {body.name}"
        ) from None
    rec = ctx.keys.verify(new)
    assert rec is not None
    return JSONResponse({**asdict(rec), "key": new}, status_code=201)


@router.delete(
    "/{name}",
    response_model=KeyInfo,
    responses=problems(401, 403, 404, 422, 429),
    summary="Revoke a key (role admin)",
)
async def revoke_key(
    name: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")], ctx: Ctx, key: Admin
) -> JSONResponse:
    """Revoke the active key with this name; it stops working at once."""
    try:
        rec = ctx.keys.revoke(name)
    except KeyError_:
        raise ProblemError(
            404, f"no active key named {name!r}", f"{name!r} 이름의 활성 키가 없습니다"
        ) from None
    return JSONResponse(asdict(rec))
