"""Running the service: check the port first, announce only once listening, end cleanly on SIGTERM.

Issue 18: `cdna serve` printed "staff API on …" ~15 s before it listened (and before failing to bind a
taken port), and exited 143 on SIGTERM because uvicorn re-raises the signal after draining.
"""

from __future__ import annotations

import contextlib
import errno
import signal
import socket
import sys
import threading
from collections.abc import Callable, Generator
from typing import Any

import uvicorn
from uvicorn.server import HANDLED_SIGNALS

from cdna.core.errors import CdnaError

_SWITCH_INTERVAL_S = 0.0005

__all__ = ["PortInUseError", "check_port", "serve_app", "tune_interpreter"]


class PortInUseError(CdnaError):
    """Another process listens on the address the service was asked to use."""

    exit_code = 2


def check_port(host: str, port: int) -> None:
    """Raise PortInUseError when `host:port` cannot be bound (checked before anything is announced)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUseError(
                    f"cannot listen on {host}:{port}: {exc.strerror}",
                    hint="stop the other service or pick another --port",
                ) from None
            raise


class _Server(uvicorn.Server):
    """uvicorn's server that reports when it listens and treats a drained SIGTERM/SIGINT as a clean end."""

    def __init__(self, config: uvicorn.Config, on_listening: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Load the app (lifespan: serving data), bind, then announce."""
        await super().startup(sockets)
        if self.started:
            self._on_listening()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Handle SIGINT/SIGTERM by draining; unlike uvicorn, do not re-raise them afterwards (exit 0)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def tune_interpreter() -> None:
    """Settings of the serving process's interpreter (called by each process that serves the app).

    Lookups wait for the audit writer thread's commit. Under load the event loop always wants the
    interpreter, and the writer got it only when the loop was forced to yield: after the default 5 ms
    switch interval, which became the slowest lookups' latency (issue #16: p99). 0.5 ms bounds that wait.
    """
    sys.setswitchinterval(_SWITCH_INTERVAL_S)


def serve_app(app: Any, host: str, port: int, on_listening: Callable[[], None], **options: Any) -> None:
    """Serve `app` on one process until SIGTERM/SIGINT; `on_listening` runs once it accepts connections."""
    tune_interpreter()
    config = uvicorn.Config(app, host=host, port=port, **options)
    _Server(config, on_listening).run()
