"""Prometheus metrics of one app (its own registry, so several apps in one process never collide)."""

from __future__ import annotations

import re
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["Metrics", "route_label"]

_CUSTOMER = re.compile(r"^/v1/customers/[^/]+/(recommendations|profile)$")
_KNOWN = {
    "/v1/models",
    "/v1/search/customers",
    "/v1/retrain",
    "/v1/keys",
    "/healthz",
    "/readyz",
    "/metrics",
    "/console",
    "/docs",
    "/openapi.json",
}


def route_label(path: str) -> str:
    """A bounded label for a path: ids are replaced by their placeholder, unknown paths become `other`."""
    m = _CUSTOMER.match(path)
    if m:
        return f"/v1/customers/{{id}}/{m.group(1)}"
    if path.startswith("/v1/runs/"):
        return "/v1/runs/{id}"
    if path.startswith("/v1/keys/"):
        return "/v1/keys/{name}"
    if path.startswith("/console/"):
        return "/console/{file}"
    return path if path in _KNOWN else "other"


class Metrics:
    """Request counters and latency histograms, plus serving gauges refreshed on scrape.

    Attributes:
        registry: the Prometheus registry of this app.
    """

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "cdna_http_requests_total",
            "HTTP requests by route and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "cdna_http_request_seconds",
            "HTTP request latency by route",
            ["route"],
            registry=self.registry,
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
        self.audit_rows = Counter("cdna_audit_rows_total", "audit rows appended", registry=self.registry)
        self.swaps = Gauge("cdna_serving_swaps", "serving snapshots swapped in", registry=self.registry)
        self.load_failures = Gauge(
            "cdna_serving_load_failures", "failed serving loads", registry=self.registry
        )
        self.ready = Gauge("cdna_ready", "1 while a serving snapshot is live", registry=self.registry)
        self.degraded = Gauge("cdna_degraded", "1 while the last reload failed", registry=self.registry)

    def observe(self, path: str, method: str, status: int, seconds: float, route: str | None = None) -> None:
        """Count one request (`route`: its label when the caller knows it)."""
        route = route or route_label(path)
        key = (route, method, status)
        child = self._children.get(key)
        if child is None:  # labels() validates and hashes on every call: keep each series' child
            child = self._children[key] = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route),
            )
        child[0].inc()
        child[1].observe(seconds)

    def refresh(self, ctx: Any) -> None:
        """Update the serving gauges from the holder (on each scrape)."""
        h = ctx.holder
        self.swaps.set(h.swaps)
        self.load_failures.set(h.failures)
        self.ready.set(1 if h.current is not None else 0)
        self.degraded.set(1 if h.last_error else 0)
