"""`cdna stream`: the event handler as a Redis Stream consumer (consumer groups, at-least-once, idempotent ids).

Each stream entry holds one event as JSON in its `event` field (or a JSON list in `events`). The consumer
reads a batch with XREADGROUP, hands it to the same `EventProcessor` as `POST /v1/events`, and XACKs the
entries only after their effects are stored. A consumer killed mid-batch leaves its entries pending; on
restart (same consumer name) it reads its own pending entries first, and entries of a consumer that never
came back are claimed after `claim_idle_ms`. A redelivered event is applied once: its id is in the ledger,
or, when the kill came before the ledger write, every effect is recomputed from rows keyed by event id.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

__all__ = ["StreamOptions", "StreamStats", "consume"]

_log = logging.getLogger("cdna.stream")


@dataclass(frozen=True)
class StreamOptions:
    """Where to read and how.

    Attributes:
        url: redis://host:port/db (query `stream=` and `group=` override the next two).
        stream: the stream key.
        group: the consumer group (created at the stream's start when missing).
        consumer: this consumer's name; keep it stable across restarts so pending entries come back to it.
        batch: entries per read (at most 1,000, the HTTP batch limit).
        block_ms: how long a read waits for new entries.
        claim_idle_ms: entries pending this long on another consumer are taken over.
        exit_when_idle: stop after a read that returns nothing (tests, backfills).
    """

    url: str
    stream: str = "cdna:events"
    group: str = "cdna"
    consumer: str = field(default_factory=socket.gethostname)
    batch: int = 1000
    block_ms: int = 1000
    claim_idle_ms: int = 60_000
    exit_when_idle: bool = False

    @classmethod
    def from_url(cls, url: str, **kw: Any) -> StreamOptions:
        """Options from `redis://host:port/db?stream=S&group=G` plus keyword overrides."""
        parts = urlsplit(url)
        q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        values: dict[str, Any] = {"stream": q.get("stream", cls.stream), "group": q.get("group", cls.group)}
        values.update({k: v for k, v in kw.items() if v is not None})
        return cls(base, **values)


@dataclass
class StreamStats:
    """What a consume loop did."""

    entries: int = 0
    applied: int = 0
    duplicates: int = 0
    refused: int = 0
    batches: int = 0
    latencies_ms: list[float] = field(default_factory=list)


def _events_of(fields: dict[bytes, bytes]) -> list[Any]:
    if b"event" in fields:
        return [json.loads(fields[b"event"])]
    if b"events" in fields:
        got = json.loads(fields[b"events"])
        return got if isinstance(got, list) else [got]
    return [None]  # refused by the processor as a malformed event


def consume(
    opts: StreamOptions,
    process: Callable[[list[Any]], Any],
    stop: Callable[[], bool] | None = None,
    on_batch: Callable[[Any, float], None] | None = None,
) -> StreamStats:
    """Read the stream until `stop()` (or SIGTERM/SIGINT, or idle with `exit_when_idle`), applying batches.

    `process` is `EventProcessor.process`; its refusals go to `<stream>:dead` with the reason, then are
    acknowledged (a malformed event never becomes valid by retrying).
    """
    import redis

    r: Any = redis.Redis.from_url(opts.url)  # replies are typed loosely by redis-py; we read them as bytes
    try:
        r.xgroup_create(opts.stream, opts.group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
    stats = StreamStats()
    stopping = [False]

    def _term(_signum: int, _frame: Any) -> None:
        stopping[0] = True

    old = {s: signal.signal(s, _term) for s in (signal.SIGTERM, signal.SIGINT)}
    pending_first = True
    try:
        while not stopping[0] and not (stop is not None and stop()):
            fresh = not pending_first
            if pending_first:
                # our own entries delivered before a crash come back first (id 0 = this consumer's pending list)
                got = r.xreadgroup(opts.group, opts.consumer, {opts.stream: "0"}, count=opts.batch)
                entries = got[0][1] if got else []
                if not entries:
                    pending_first = False
                    claimed = r.xautoclaim(
                        opts.stream, opts.group, opts.consumer, opts.claim_idle_ms, "0-0", count=opts.batch
                    )
                    entries = claimed[1] if claimed else []
            else:
                got = r.xreadgroup(
                    opts.group, opts.consumer, {opts.stream: ">"}, count=opts.batch, block=opts.block_ms
                )
                entries = got[0][1] if got else []
            entries = [(i, f) for i, f in entries if f]  # entries deleted while pending come back empty
            if not entries:
                if opts.exit_when_idle and fresh:  # only a read of new entries that came back empty is idle
                    break
                continue
            t0 = time.perf_counter()
            events: list[Any] = []
            owner: list[bytes] = []
            for eid, fields in entries:
                try:
                    evs = _events_of(fields)
                except ValueError:
                    evs = [None]
                events += evs
                owner += [eid] * len(evs)
            res = process(events)
            if res.problems:
                pipe = r.pipeline(transaction=False)
                for p in res.problems:
                    pipe.xadd(
                        f"{opts.stream}:dead",
                        {"entry": owner[p.index], "field": p.field, "reason": p.message},
                        maxlen=100_000,
                    )
                pipe.execute()
            r.xack(opts.stream, opts.group, *[eid for eid, _ in entries])
            dt = time.perf_counter() - t0
            stats.entries += len(entries)
            stats.applied += res.applied
            stats.duplicates += res.duplicates
            stats.refused += len(res.problems)
            stats.batches += 1
            stats.latencies_ms.append(dt * 1000)
            if on_batch is not None:
                on_batch(res, dt)
            _log.info(
                "batch of %d: %d applied, %d duplicates, %d refused (%.0f ms)",
                len(events),
                res.applied,
                res.duplicates,
                len(res.problems),
                dt * 1000,
            )
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        r.close()
    return stats
