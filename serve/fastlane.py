"""The hot lookup, `GET /v1/customers/{id}/recommendations`, answered before FastAPI's routing and dependencies.

Profiled under load (issue #16, item 7), the route's own work (online read, reasons, JSON) was a small part
of each request; FastAPI's middleware stack, dependency solver and parameter validation took most of the
rest. The fast lane answers only the common case — a well-formed request from an authorised key with an
allowed purpose, for a customer the service knows, within the rate limit — with the very functions the
route uses (`recommendations_of`, `log_offers`, `audit_lookup`), and hands every other request to the app
unchanged, so each error (401, 403, 400, 404, 422, 429, 503) keeps its one implementation there. A rate-limit
token is taken only once the answer is certain, so a request handed on is never charged twice.

An answer is rendered once per stored row: the cache is keyed by the row as the online store holds it, so an
event that rewrites a customer's recommendations (issue #16) is served on the next request.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import orjson

from cdna.recommend.offers import PURPOSE_CHANNELS
from cdna.serve.deps import AppContext
from cdna.serve.keys import KeyRecord, role_allows
from cdna.serve.metrics import route_label
from cdna.serve.models import CUSTOMER_ID_PATTERN
from cdna.serve.observe import Receive, Scope, Send, audit_lookup, send_withheld
from cdna.serve.offers import log_offers
from cdna.serve.problems import ProblemError
from cdna.serve.routers.customers import recommendations_of
from cdna.serve.state import Serving

__all__ = ["FastLookup"]

_PATH = re.compile("/v1/customers/(" + CUSTOMER_ID_PATTERN.strip("^$") + ")/recommendations")
_K = re.compile(rb"k=([1-9][0-9]{0,3})")
_ROUTE = route_label("/v1/customers/C/recommendations")  # the metrics and audit label of every lookup here
_DEFAULT_K = 5  # the route's default for `k`
_CACHE_ROWS = 200_000  # rendered answers kept (a few KB each); the cache starts over when full


@dataclass(frozen=True)
class _Lookup:
    """A request the fast lane can answer."""

    customer_id: str
    k: int
    key: KeyRecord
    purpose: str
    client: str | None


class FastLookup:
    """Answers the plain recommendations lookup itself; `handle` returns False for anything else.

    Attributes:
        ctx: the app's context (keys, limiter, serving data, audit writer, metrics, offer log).
        answered: lookups answered by the fast lane so far.
    """

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._purposes = frozenset(ctx.settings.purposes)
        self._max_k = ctx.settings.max_k
        self.answered = 0  # lookups answered here (the rest went to the app)
        # (customer, k) -> (serving data, stored row, body, JSON): a body is rendered once per stored row
        self._rendered: dict[tuple[str, int], tuple[Serving, str | bytes, dict[str, Any], bytes]] = {}
        self._rendered_for: Serving | None = None

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer the request when it is a plain lookup; False (nothing sent, nothing recorded) otherwise."""
        if scope["type"] != "http" or scope["method"] != "GET" or self.ctx.writer is None:
            return False
        lookup = self._plan(scope)
        if lookup is None:
            return False
        return await self._answer(lookup, scope, receive, send)

    def _plan(self, scope: Scope) -> _Lookup | None:
        """The lookup when the request is the common, valid case; None hands it to the app."""
        m = _PATH.fullmatch(scope["path"])
        if m is None:
            return None
        query: bytes = scope.get("query_string", b"")
        k = _DEFAULT_K
        if query:
            km = _K.fullmatch(query)
            if km is None:
                return None
            k = int(km.group(1))
        if k > self._max_k:
            return None
        auth = purpose = client = None
        for name, value in scope["headers"]:
            # the first of repeated headers, as Starlette's `Headers.get` reads them
            if name == b"authorization" and auth is None:
                auth = value
            elif name == b"x-purpose" and purpose is None:
                purpose = value
            elif name == b"x-cdna-client" and client is None:
                client = value
        if auth is None or purpose is None:
            return None
        scheme, _, credential = bytes(auth).decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not credential:
            return None
        rec = self.ctx.keys.verify(credential)
        if rec is None or not role_allows(rec.role, "staff"):
            return None
        text = bytes(purpose).decode("utf-8", "replace")
        if text not in self._purposes:
            return None
        return _Lookup(
            m.group(1), k, rec, text, bytes(client).decode("utf-8", "replace") if client is not None else None
        )

    def _body(self, live: Serving, customer_id: str, k: int) -> tuple[dict[str, Any], bytes]:
        """The answer's body and its JSON, rendered once per stored row (ProblemError 404 when unknown)."""
        store = live.recs_store
        stored = store.stored(customer_id) if store is not None else None
        if stored is not None:
            if self._rendered_for is not live:  # a swap: drop renders of the old data (and its memory)
                self._rendered.clear()
                self._rendered_for = live
            hit = self._rendered.get((customer_id, k))
            if hit is not None and hit[0] is live and hit[1] == stored:
                return hit[2], hit[3]
        body = recommendations_of(self.ctx, live, customer_id, k)
        data = orjson.dumps(body)
        if stored is not None:
            if len(self._rendered) >= _CACHE_ROWS:
                self._rendered.clear()
            self._rendered[(customer_id, k)] = (live, stored, body, data)
        return body, data

    async def _answer(self, lookup: _Lookup, scope: Scope, receive: Receive, send: Send) -> bool:
        t0 = time.perf_counter()
        ctx = self.ctx
        live = ctx.holder.current
        if live is None:
            return False  # 503 with Retry-After, from the app
        try:
            body, data = self._body(live, lookup.customer_id, lookup.k)
        except ProblemError:
            return False  # unknown customer: the app's 404
        if ctx.limiter.take(lookup.key.name) > 0:
            return False  # the app's 429 with Retry-After (a refused take costs nothing)
        if lookup.purpose in PURPOSE_CHANNELS and body["recommendations"]:
            # an answer that reaches a customer carries offer ids of its own (issue 17): a fresh copy
            body = {**body, "recommendations": [dict(r) for r in body["recommendations"]]}
            log_offers(ctx, body, lookup.purpose, lookup.key.name, lookup.client)
            data = orjson.dumps(body)
        path = scope["path"]
        status = 200
        if await audit_lookup(ctx, lookup.key, lookup.customer_id, path, "GET", lookup.purpose, 200, _ROUTE):
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-length", str(len(data)).encode()),
                        (b"content-type", b"application/json"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": data})
        else:
            status = 503
            await send_withheld(ctx, scope, receive, send)
        ctx.metrics.observe(path, "GET", status, time.perf_counter() - t0, _ROUTE)
        self.answered += 1
        return True
