"""The audit writer thread: lookups queue their row and wait for it without ever blocking the event loop.

Issue #15: the append used to run inside the request path, so while another process held the audit
database's write lock every request — `/healthz` too — waited out the busy timeout. Now one thread per
worker owns the database connection; requests put their entry on a bounded queue and await a future.
The thread commits whatever has queued up in one transaction (group commit), retries while the database
is locked, and signs a checkpoint at shutdown.

A lookup still waits for its own row before it is answered (issue #7: no answer without its row). A caller
that gives up (timeout) cancels its future: if the thread has not claimed the entry yet, the row is later
written with the status the caller actually answered (503), so the log never claims an answer that was
withheld.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from cdna.serve.audit import AuditEntry, AuditLog

__all__ = ["AuditBacklogFullError", "AuditTicket", "AuditWriter", "WITHHELD_STATUS"]

_log = logging.getLogger("cdna.serve")

# The status recorded for a lookup whose answer was withheld because its row was not written in time.
WITHHELD_STATUS = 503


class AuditBacklogFullError(RuntimeError):
    """The writer's queue is full: the lookup is refused rather than answered without its row."""


@dataclass
class AuditTicket:
    """One queued entry and the future its request awaits (resolves to the row's sequence number).

    Attributes:
        entry: what to record.
        when: the time of the lookup.
        future: set by the writer thread; cancelled by a caller that stopped waiting.
        queued_at: monotonic time it was queued (for the backlog's age).
        waiter: an event loop and a future of it, woken once `future` is settled. The writer wakes all of a
            batch's waiters with one call into the loop: a wrapped future per request cost the loop a wake-up
            per row, which under load was most of a lookup's time (issue #16).
    """

    entry: AuditEntry
    when: datetime
    future: Future[int] = field(default_factory=Future)
    queued_at: float = field(default_factory=time.monotonic)
    waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None


_STOP = object()


def _wake(batch: list[AuditTicket]) -> None:
    """Wake the waiters of `batch`: one call into each event loop, whatever the batch's size."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for t in batch:
        if t.waiter is not None:
            by_loop.setdefault(t.waiter[0], []).append(t.waiter[1])
    for loop, waiters in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits any more
            loop.call_soon_threadsafe(_set_all, waiters)


def _set_all(waiters: list[asyncio.Future[None]]) -> None:
    for w in waiters:
        if not w.done():
            w.set_result(None)


class AuditWriter:
    """One thread appending queued entries to an AuditLog in batches.

    Attributes:
        log: the access log.
        capacity: the queue's bound (entries waiting beyond it are refused).
        max_batch: entries committed in one transaction at most.
        retry_s: pause before retrying when the database is locked or failing.
    """

    def __init__(
        self, log: AuditLog, capacity: int = 10_000, max_batch: int = 512, retry_s: float = 0.05
    ) -> None:
        self.log = log
        self.capacity = capacity
        self.max_batch = max_batch
        self.retry_s = retry_s
        # SimpleQueue (C) rather than Queue: its put was a twentieth of a lookup's time (issue #16). The
        # bound is checked by hand; `_times` holds the queued entries' times, oldest first, for `backlog`.
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._times: collections.deque[float] = collections.deque()
        self._inflight: list[AuditTicket] = []
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._deadline = float("inf")  # set by close(): when to stop retrying a locked database
        self.written = 0
        self.last_error: str | None = None
        self.last_error_at: str | None = None

    def start(self) -> None:
        """Start the thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="cdna-audit-writer", daemon=True)
            self._thread.start()

    def submit(
        self,
        entry: AuditEntry,
        waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None,
    ) -> AuditTicket:
        """Queue an entry; AuditBacklogFullError when the queue is full (never blocks).

        `waiter` (a loop and one of its futures) is set once the ticket's future is settled.
        """
        # The app's lifespan starts the thread; bare ASGI transports run no lifespan, so start it here too.
        if self._thread is None:
            with self._guard:
                self.start()
        if len(self._times) >= self.capacity:
            raise AuditBacklogFullError(f"{self.capacity} audit rows are already waiting")
        ticket = AuditTicket(entry, datetime.now(UTC), waiter=waiter)
        self._times.append(ticket.queued_at)
        self._queue.put(ticket)
        return ticket

    def backlog(self) -> dict[str, Any]:
        """Entries waiting (queued and in the batch being written), the oldest one's age, the last error."""
        with self._guard:
            inflight = list(self._inflight)
        queued = len(self._times)
        oldest = min((t.queued_at for t in inflight), default=None)
        if oldest is None and queued:
            with contextlib.suppress(IndexError):  # taken meanwhile
                oldest = self._times[0]
        return {
            "backlog": queued + len(inflight),
            "oldest_s": round(time.monotonic() - oldest, 3) if oldest is not None else 0.0,
            "capacity": self.capacity,
            "written": self.written,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
        }

    def _take_batch(self, first: AuditTicket) -> list[AuditTicket]:
        batch = [first]
        while len(batch) < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                self._stopping.set()
                break
            batch.append(item)
        for _ in batch:
            with contextlib.suppress(IndexError):
                self._times.popleft()  # now in flight: counted by `_inflight`
        return batch

    def _claim(self, batch: list[AuditTicket]) -> list[tuple[AuditEntry, datetime | None]]:
        """Called inside the write transaction, once the lock is held: claim each entry's future.

        A caller that cancelled (gave up waiting) answered 503, so its row records 503; a claimed future can
        no longer be cancelled, and the commit that follows does not wait on other writers.
        """
        items: list[tuple[AuditEntry, datetime | None]] = []
        for t in batch:
            if not t.future.running() and not t.future.cancelled():
                t.future.set_running_or_notify_cancel()
            entry = t.entry if t.future.running() else replace(t.entry, status=WITHHELD_STATUS)
            items.append((entry, t.when))
        return items

    def _write(self, batch: list[AuditTicket]) -> None:
        """Commit the batch, retrying while the database is locked; then resolve the futures."""
        with self._guard:
            self._inflight = batch
        try:
            while True:
                try:
                    seqs = self.log.append_many(lambda: self._claim(batch))
                    break
                except sqlite3.Error as exc:
                    if self.last_error is None:  # once per outage, not once per retry
                        _log.warning(
                            "audit store busy or failing (%s); %d row(s) wait and are retried",
                            type(exc).__name__,
                            len(batch),
                        )
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    self.last_error_at = datetime.now(UTC).isoformat(timespec="seconds")
                    if self._stopping.is_set() and self._give_up(batch):
                        return
                    time.sleep(self.retry_s)
            self.written += len(seqs)
            if self.last_error is not None:
                _log.warning("audit store available again; %d waiting row(s) written", len(seqs))
            self.last_error = None
            for t, seq in zip(batch, seqs, strict=True):
                if t.future.running():
                    t.future.set_result(seq)
        finally:
            with self._guard:
                self._inflight = []
            _wake(batch)

    def _give_up(self, batch: list[AuditTicket]) -> bool:
        """At shutdown, stop retrying after the close deadline: fail the waiting futures."""
        if time.monotonic() < self._deadline:
            return False
        for t in batch:
            if not t.future.done() and (t.future.running() or t.future.set_running_or_notify_cancel()):
                t.future.set_exception(RuntimeError("the audit store stayed unavailable until shutdown"))
        return True

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = self._take_batch(item)
            self._write(batch)
            if self._stopping.is_set():
                self._drain()
                return

    def _drain(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                self._write(self._take_batch(item))

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what is queued (for up to `timeout_s`), stop the thread, and sign the tail ("shutdown")."""
        self._deadline = time.monotonic() + timeout_s
        self._stopping.set()
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout_s)
            self._thread = None
        try:
            self.log.checkpoint("shutdown")
        except sqlite3.Error as exc:
            _log.error("could not sign the audit log at shutdown (%s)", type(exc).__name__)
