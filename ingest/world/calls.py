"""Who calls the call center, when and why: life-event calls, calls before opening, everyday calls."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cdna.core.config import IntentTaxonomy, ProductCatalog
from cdna.ingest.world.behaviour import DAY_US, KST_US, Events, Opens
from cdna.ingest.world.population import Population
from cdna.ingest.world.vocab import EVENTS, NOISE_INTENTS

__all__ = ["CallPlan", "draw_calls"]


@dataclass
class CallPlan:
    """Planned calls of a chunk: customer index, start time (µs UTC), intents, product hint, cause."""

    cust: np.ndarray
    ts: np.ndarray
    intents: list[tuple[str, ...]]
    hint: list[str | None]
    cause: list[str]


def _business_hours(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """Move times onto a Korea-time working hour (09:00-18:00) of the same day."""
    day = (t + KST_US) // DAY_US
    sec = rng.uniform(9 * 3600, 18 * 3600, len(t))
    return day * DAY_US - KST_US + (sec * 1_000_000).astype(np.int64)


def draw_calls(
    rng: np.random.Generator,
    pop: Population,
    events: Events,
    opens: Opens,
    catalog: ProductCatalog,
    intents: IntentTaxonomy,
    calls_per_customer: float,
    start_us: int,
    end_us: int,
) -> CallPlan:
    """Plan every call of a chunk with its reasons (the reasons go to `_truth/`, never to a stage)."""
    cust: list[int] = []
    ts: list[int] = []
    why: list[tuple[str, ...]] = []
    hint: list[str | None] = []
    cause: list[str] = []
    noise_ids = [i for i, _ in NOISE_INTENTS]
    noise_w = np.array([w for _, w in NOISE_INTENTS])
    noise_w = noise_w / noise_w.sum()
    # Life events: the customer calls weeks before acting.
    u = rng.random(len(events.cust))
    for c, k, t, r in zip(events.cust, events.kind, events.ts, u, strict=True):
        ev = EVENTS[int(k)]
        if r >= ev.call_prob:
            continue
        n_calls = 1 + int(rng.random() < 0.25)
        for _ in range(n_calls):
            first = ev.intents[0] if rng.random() < 0.6 else ev.intents[int(rng.integers(len(ev.intents)))]
            reasons = [first]
            if rng.random() < 0.25:
                extra = ev.intents[int(rng.integers(len(ev.intents)))]
                if extra != first:
                    reasons.append(extra)
            cust.append(int(c))
            ts.append(int(t + rng.uniform(-40, 5) * DAY_US))
            why.append(tuple(reasons))
            product_hint = ev.products[0][0] if ev.products else None
            hint.append(product_hint)
            cause.append(ev.id)
    # Calls shortly before a baseline open (people ask before they sign).
    by_product: dict[str, str] = {}
    for intent in intents.intents:
        for p in intent.products:
            by_product.setdefault(p, intent.id)
    pick = opens.baseline_open & (rng.random(len(opens.cust)) < 0.3)
    for c, p, t in zip(opens.cust[pick], opens.product[pick], opens.ts[pick], strict=True):
        pid = catalog.ids[int(p)]
        if pid not in by_product:
            continue
        cust.append(int(c))
        ts.append(int(t - rng.uniform(2, 20) * DAY_US))
        why.append((by_product[pid],))
        hint.append(pid)
        cause.append("pre_open")
    # Everyday calls: lost cards, app errors, complaints … unrelated to what the customer will open.
    n_noise = rng.poisson(calls_per_customer * 0.45, len(pop))
    for c in np.flatnonzero(n_noise):
        join = max(int(pop.join_days[c]) * DAY_US, start_us)
        for _ in range(int(n_noise[c])):
            first = noise_ids[int(rng.choice(len(noise_ids), p=noise_w))]
            reasons = [first]
            if rng.random() < 0.12:
                extra = noise_ids[int(rng.choice(len(noise_ids), p=noise_w))]
                if extra != first:
                    reasons.append(extra)
            cust.append(int(c))
            ts.append(int(join + rng.random() * (end_us - join)))
            why.append(tuple(reasons))
            hint.append(None)
            cause.append("everyday")
    t_arr = _business_hours(rng, np.array(ts, dtype=np.int64)) if ts else np.zeros(0, np.int64)
    c_arr = np.array(cust, dtype=np.int64)
    join_us = pop.join_days[c_arr] * DAY_US if len(c_arr) else np.zeros(0, np.int64)
    ok = (t_arr >= np.maximum(start_us, join_us)) & (t_arr <= end_us)
    idx = np.flatnonzero(ok)
    order = idx[np.lexsort((t_arr[idx], c_arr[idx]))]
    return CallPlan(
        c_arr[order],
        t_arr[order],
        [why[i] for i in order],
        [hint[i] for i in order],
        [cause[i] for i in order],
    )
