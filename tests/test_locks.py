"""Partition locks: one holder per name, and no file left behind once released (issue 18)."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cdna.core.errors import LockedError
from cdna.core.lake import Lake, partition_lock


def test_a_second_holder_is_refused_naming_the_first(tmp_path: Path) -> None:
    lake = Lake.at(tmp_path, create=True)
    with partition_lock(lake, "signals/date=2025-06-30") as path:
        with (
            pytest.raises(LockedError, match=f"pid {os.getpid()}"),
            partition_lock(lake, "signals/date=2025-06-30"),
        ):
            pass
        assert path.name == "signals_date=2025-06-30.lock"
    assert not path.exists()


def test_an_acquirer_holding_an_unlinked_file_takes_the_path_again(tmp_path: Path) -> None:
    """The race the unlink opens: B opened the file A then removed; B must not count that as the lock."""
    lake = Lake.at(tmp_path, create=True)
    path = lake.locks / "raw-customers.lock"
    with partition_lock(lake, "raw-customers"):
        stale = open(path, "a+")  # noqa: SIM115 - B's open before A releases
    try:
        assert not path.exists()
        fcntl.flock(stale.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # B would now "hold" the unlinked inode
        with partition_lock(lake, "raw-customers") as again:  # so C must get the path's own, new file …
            assert again.exists() and os.stat(again).st_ino != os.fstat(stale.fileno()).st_ino
            with pytest.raises(LockedError), partition_lock(lake, "raw-customers"):  # … and exclude the rest
                pass
    finally:
        stale.close()


def test_many_threads_never_hold_one_name_at_once(tmp_path: Path) -> None:
    lake = Lake.at(tmp_path, create=True)
    inside, overlaps, taken = [0], [0], [0]
    guard = threading.Lock()

    def worker() -> None:
        for _ in range(200):
            try:
                with partition_lock(lake, "nightly"):
                    with guard:
                        inside[0] += 1
                        overlaps[0] += inside[0] > 1
                        taken[0] += 1
                    time.sleep(0.0005)
                    with guard:
                        inside[0] -= 1
            except LockedError:
                pass

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps[0] == 0 and taken[0] > 0
    assert list(lake.locks.iterdir()) == []


def _interrupt_when_locked(argv: list[str], lake: Lake, wanted: int) -> tuple[list[str], int, str]:
    """Run `cdna ARGV`, send SIGINT to its process group (a terminal's Ctrl-C) once `wanted` locks are held."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cdna", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    held: list[str] = []
    while time.monotonic() < deadline and proc.poll() is None:
        held = sorted(p.name for p in lake.locks.glob("*.lock")) if lake.locks.is_dir() else []
        if len(held) >= wanted:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    return held, proc.returncode, err


def test_ctrl_c_in_the_nightly_leaves_no_lock_files(tmp_path: Path) -> None:
    """While the night holds its own lock and a stage's partition lock."""
    root = tmp_path / "lake"
    subprocess.run(
        [sys.executable, "-m", "cdna", "world", "--customers", "150", "--out", str(root)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    lake = Lake.at(root)
    held, code, err = _interrupt_when_locked(
        ["nightly", "--lake", str(root), "--date", "2025-06-30"], lake, 2
    )
    assert "nightly.lock" in held, f"the night never held its lock (exit {code}, {held})"
    assert code == 130, err[-2000:]
    assert list(lake.locks.iterdir()) == [], f"left in {lake.locks}: {[p.name for p in lake.locks.iterdir()]}"


def test_ctrl_c_in_the_demo_leaves_no_lock_files(tmp_path: Path) -> None:
    """While the demo transcribes last night's recordings (one partition lock per day)."""
    root = tmp_path / "demo"
    held, code, err = _interrupt_when_locked(
        ["demo", "--customers", "150", "--out", str(root)], Lake.at(root, create=True), 1
    )
    assert held and all(h.startswith("transcripts-date=") for h in held), (code, held)
    assert code == 130 and "interrupted" in err, err[-2000:]
    lake = Lake.at(root)
    assert list(lake.locks.iterdir()) == [], f"left in {lake.locks}: {[p.name for p in lake.locks.iterdir()]}"


def test_an_error_raised_while_unwinding_from_ctrl_c_is_the_interrupt() -> None:
    """Ctrl-C between a thread's creation and start made clean-up fail ("cannot join thread before it is
    started"): exit 130 with the interrupt message, not a crash (seen once in CI, demo during transcription)."""
    from cdna.cli.app import raised_while_interrupted

    try:
        try:
            raise KeyboardInterrupt
        finally:
            raise RuntimeError("cannot join thread before it is started")
    except RuntimeError as exc:
        assert raised_while_interrupted(exc)
    assert not raised_while_interrupted(RuntimeError("a real crash"))
    try:
        try:
            raise ValueError("first")
        except ValueError as inner:
            raise RuntimeError("second") from inner
    except RuntimeError as exc:
        assert not raised_while_interrupted(exc)


def test_main_exits_130_when_clean_up_fails_after_ctrl_c(monkeypatch: pytest.MonkeyPatch) -> None:
    import cdna.cli.app as cli

    def command(**_: object) -> int:
        try:
            raise KeyboardInterrupt
        finally:
            raise RuntimeError("cannot join thread before it is started")

    monkeypatch.setattr(cli, "app", command)
    assert cli.main(["demo"]) == 130
