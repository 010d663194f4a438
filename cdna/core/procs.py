"""Child processes that end with their parent, whatever signal ended it (issue 15).

A SIGKILLed `cdna transcribe` left its Whisper workers (~600 MB each, still busy) and the multiprocessing
resource tracker alive for over an hour, and a SIGKILLed `cdna nightly` left its stage running beside the
rerun. Two mechanisms, because neither covers every case alone:

- the Linux parent-death signal (`prctl(PR_SET_PDEATHSIG)`): the kernel signals the child the moment the
  parent exits, even on SIGKILL; Linux only, and it follows the parent *thread* that forked;
- a watchdog thread polling the parent's pid: portable, and catches a parent that died before the
  signal was armed.

The resource tracker needs neither: it exits when the last holder of its pipe (parent and workers) is gone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["ENV_PARENT_PID", "adopt_parent_from_env", "child_process_kwargs", "die_with_parent"]

ENV_PARENT_PID = "CDNA_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def _prctl() -> Callable[..., int] | None:
    """libc's prctl, resolved now (a child between fork and exec must not load libraries)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


def _watchdog(parent: int, sig: int, poll_s: float) -> None:
    while True:
        time.sleep(poll_s)
        if os.getppid() != parent:  # re-parented to init or a subreaper: our parent is gone
            os.kill(os.getpid(), sig)


def die_with_parent(
    parent_pid: int | None = None,
    sig: int = signal.SIGKILL,
    poll_s: float = 0.5,
    kernel_signal: bool = True,
) -> None:
    """End this process when its parent ends: arm the parent-death signal and start a watchdog thread.

    Use it as a worker pool's initializer (or first thing in a child's main).

    Args:
        parent_pid: the parent to outlive no longer; default the multiprocessing parent, else getppid().
        sig: the signal this process gets (SIGKILL: nothing in a worker can block or delay it).
        poll_s: how often the watchdog looks at the parent's pid.
        kernel_signal: arm PR_SET_PDEATHSIG too (False leaves the watchdog alone, for its tests).
    """
    if parent_pid is None:
        mp_parent = multiprocessing.parent_process()
        parent_pid = mp_parent.pid if mp_parent is not None and mp_parent.pid else os.getppid()
    prctl = _prctl() if kernel_signal else None
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    threading.Thread(
        target=_watchdog, args=(parent_pid, int(sig), poll_s), name="die-with-parent", daemon=True
    ).start()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os.kill(os.getpid(), sig)


def child_process_kwargs(sig: int = signal.SIGKILL, env: dict[str, str] | None = None) -> dict[str, Any]:
    """`subprocess.Popen` arguments that make the child end with this process.

    The parent-death signal is armed between fork and exec (it survives exec), and the child's
    environment names this process so a `cdna` child also starts a watchdog (`adopt_parent_from_env`).
    """
    parent = os.getpid()
    prctl = _prctl()

    def arm() -> None:
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), sig)

    return {"preexec_fn": arm, "env": {**(os.environ if env is None else env), ENV_PARENT_PID: str(parent)}}


def adopt_parent_from_env() -> None:
    """In a `cdna` child started with `child_process_kwargs`: watch that parent (and drop the variable).

    The variable is removed so that this process's own children are not tied to their grandparent.
    """
    value = os.environ.pop(ENV_PARENT_PID, None)
    if value and value.isdigit():
        die_with_parent(int(value))
