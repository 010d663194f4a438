"""Every request counted, every customer lookup audited before its answer leaves (ASGI middleware).

`audit_lookup` and `send_withheld` are the one implementation of "write the row, then answer; 503 when the
row cannot be written in time": the middleware uses them for every route under /v1/customers/, and the
fast lane (`cdna.serve.fastlane`) for the hot recommendations lookup it answers itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from cdna.serve.audit import AuditEntry, audit_path
from cdna.serve.audit_writer import AuditBacklogFullError
from cdna.serve.deps import AppContext
from cdna.serve.keys import KeyRecord
from cdna.serve.metrics import route_label
from cdna.serve.problems import problem_response

__all__ = [
    "ASGIApp",
    "Message",
    "ObserveMiddleware",
    "Receive",
    "Scope",
    "Send",
    "audit_lookup",
    "purpose_of",
    "send_withheld",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def audit_lookup(
    ctx: AppContext,
    rec: KeyRecord,
    customer: str,
    path: str,
    method: str,
    purpose: str | None,
    status: int,
    route: str | None = None,
) -> bool:
    """Queue the lookup's audit row and wait for its commit; False when it was not written in time (withhold).

    Waiting is an `await`, never a blocking call: while the audit database is locked by another process,
    other requests (`/healthz` above all) are served as usual (issue #15).
    """
    entry = AuditEntry(rec.name, rec.role, customer, route or route_label(path), method, purpose, status)
    writer = ctx.writer
    assert writer is not None
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()
    try:
        fut = writer.submit(entry, (loop, waiter)).future
    except AuditBacklogFullError:
        return False
    # One timer and one loop future per lookup; the writer wakes a whole batch with one call.
    timer = loop.call_later(ctx.settings.audit_timeout_s, _expire, waiter)
    try:
        await waiter
    finally:
        timer.cancel()
    if not fut.done():
        if fut.cancel():
            return False  # never claimed: the writer records it as withheld
        try:  # claimed by the writer: its commit is under way and does not wait on other writers
            await asyncio.wait_for(asyncio.wrap_future(fut), 1.0)
        except Exception:
            return False
    if fut.cancelled() or fut.exception() is not None:
        return False
    ctx.metrics.audit_rows.inc()
    return True


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def send_withheld(ctx: AppContext, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer 503 `/problems/audit-unavailable`: the lookup's audit row was not written in time (fail closed)."""
    after = max(1, int(ctx.settings.audit_timeout_s))
    lake = ctx.settings.lake
    store = audit_path(lake).relative_to(lake)  # the lake-relative name: no server paths leave
    response = problem_response(
        None,
        503,
        f"the audit store ({store}) did not record this lookup within "
        f"{ctx.settings.audit_timeout_s:g} s, so the answer is withheld; retry shortly",
        f"감사 기록 저장소({store})에 조회 기록을 남기지 못해 응답을 보류했습니다. 잠시 후 다시 시도하세요",
        title="Audit store unavailable",
        title_ko="감사 기록 저장소를 사용할 수 없습니다",
        headers={"Retry-After": str(after)},
        slug="audit-unavailable",
        instance=route_label(scope["path"]),
    )
    await response(scope, receive, send)


def purpose_of(scope: Scope) -> str | None:
    """The raw X-Purpose header of a request (the first one), decoded."""
    for name, value in scope.get("headers", ()):
        if name == b"x-purpose":
            return bytes(value).decode("utf-8", "replace")
    return None


class ObserveMiddleware:
    """Pure ASGI middleware: audit customer lookups before the answer leaves, and count every request.

    The audit row is queued when the response status is known and the answer is held until the writer
    thread has committed it, so no lookup is answered without its row (issue #7: regulators ask who looked
    at whom). Waiting is an `await`, never a blocking call: while the audit database is locked by another
    process, other requests (`/healthz` above all) are served as usual (issue #15). A row not written within
    `audit_timeout_s` withholds the answer: the caller gets a 503 naming the audit store (fail closed).
    """

    def __init__(self, app: ASGIApp, ctx: AppContext) -> None:
        self.app = app
        self.ctx = ctx

    async def _record(self, scope: Scope, path: str, status: int) -> bool:
        """Queue the lookup's row and wait for it; False when it was not written in time (withhold)."""
        rec = scope.get("state", {}).get("principal")
        if rec is None:  # 401s: nobody identified looked at anyone
            return True
        # The server already percent-decoded the path once; the router's parameter is that same value.
        # (Decoding again recorded "C%2541" as "C%41"'s customer: issue #14.)
        customer = scope.get("path_params", {}).get("customer_id")
        if customer is None:
            parts = path.split("/")
            customer = parts[3] if len(parts) > 3 else ""
        return await audit_lookup(self.ctx, rec, customer, path, scope["method"], purpose_of(scope), status)

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
        if not (path.startswith("/v1/customers/") and self.ctx.writer is not None):
            status_box = [500]

            async def _plain(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status_box[0] = int(message["status"])
                await send(message)

            try:
                await self.app(scope, receive, _plain)
            finally:
                self.ctx.metrics.observe(path, scope["method"], status_box[0], time.perf_counter() - t0)
            return
        state = {"status": 500, "started": False, "withheld": False}

        async def _send(message: Message) -> None:
            if state["withheld"]:
                return  # the app's body of an answer we withheld
            if message["type"] == "http.response.start":
                state["started"] = True
                state["status"] = int(message["status"])
                if not await self._record(scope, path, int(message["status"])):
                    state["withheld"], state["status"] = True, 503
                    await send_withheld(self.ctx, scope, receive, send)
                    return
            await send(message)

        try:
            await self.app(scope, receive, _send)
        except Exception:
            if not state["started"]:
                await self._record(scope, path, 500)
            raise
        finally:
            self.ctx.metrics.observe(path, scope["method"], int(state["status"]), time.perf_counter() - t0)
