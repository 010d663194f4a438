"""Process trees that die together: worker pools and stage children end when their parent is SIGKILLed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pyarrow.parquet as pq
import pytest

# A parent with a spawn process pool of two busy workers (as `cdna transcribe` runs them); prints READY.
_POOL = textwrap.dedent(
    """
    import functools, multiprocessing as mp, sys, time
    from concurrent.futures import ProcessPoolExecutor
    from cdna.core.procs import die_with_parent

    if __name__ == "__main__":
        mode = sys.argv[1]
        init = {"both": die_with_parent, "watchdog": functools.partial(die_with_parent, kernel_signal=False),
                "none": None}[mode]
        pool = ProcessPoolExecutor(2, mp.get_context("spawn"), initializer=init)
        futures = [pool.submit(time.sleep, 120) for _ in range(2)]
        time.sleep(1.5)
        print("READY", flush=True)
        time.sleep(120)
    """
)


def _wait_for_tree(proc: subprocess.Popen[str], workers: int, timeout: float = 60) -> list[psutil.Process]:
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY"
    deadline = time.monotonic() + timeout
    parent = psutil.Process(proc.pid)
    while time.monotonic() < deadline:
        kids = parent.children(recursive=True)
        if len([k for k in kids if "resource_tracker" not in " ".join(k.cmdline())]) >= workers:
            return kids
        time.sleep(0.1)
    raise AssertionError(f"the pool did not start {workers} workers")


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            continue
    return out


def _survivors_after_kill(proc: subprocess.Popen[str], tree: list[psutil.Process], wait_s: float = 5.0):
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and _alive(tree):
        time.sleep(0.1)
    return _alive(tree)


@pytest.mark.parametrize("mode", ["both", "watchdog"])
def test_pool_workers_and_resource_tracker_die_with_a_sigkilled_parent(mode: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _POOL, mode], stdout=subprocess.PIPE, text=True)
    tree = _wait_for_tree(proc, workers=2)
    assert any("resource_tracker" in " ".join(p.cmdline()) for p in tree)  # it must go too
    survivors = _survivors_after_kill(proc, tree)
    assert not survivors, [(p.pid, p.cmdline()) for p in survivors]


def test_without_the_initializer_the_workers_outlive_their_parent() -> None:
    """The control: the failure issue 15 describes happens without die_with_parent."""
    proc = subprocess.Popen([sys.executable, "-c", _POOL, "none"], stdout=subprocess.PIPE, text=True)
    tree = _wait_for_tree(proc, workers=2)
    survivors = _survivors_after_kill(proc, tree, wait_s=2.0)
    try:
        assert len(survivors) >= 2
    finally:
        for p in survivors:
            p.kill()


def test_child_process_kwargs_tie_a_subprocess_and_name_its_parent() -> None:
    from cdna.core.procs import ENV_PARENT_PID

    script = textwrap.dedent(
        """
        import subprocess, sys, time
        from cdna.core.procs import child_process_kwargs
        child = subprocess.Popen([sys.executable, "-c",
            "import os, time; print(os.environ.get('CDNA_PARENT_PID'), flush=True); time.sleep(120)"],
            **child_process_kwargs())
        time.sleep(1.0)
        print("READY", flush=True)
        time.sleep(120)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == str(proc.pid)  # the child was told its parent
    tree = _wait_for_tree(proc, workers=1)
    assert ENV_PARENT_PID not in os.environ
    assert not _survivors_after_kill(proc, tree)


# ---------------------------------------------------------------- the real commands (slow)

DAY = "2025-06-30"


def _cdna(*args: str) -> list[str]:
    return [sys.executable, "-m", "cdna", "--quiet", *args]


def _kill_when(
    proc: subprocess.Popen[bytes], ready, timeout: float = 240, settle_s: float = 0.0
) -> list[psutil.Process]:
    """Wait until `ready(descendants)`, then SIGKILL the parent alone; return what lived below it."""
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + timeout
    tree: list[psutil.Process] = []
    while time.monotonic() < deadline and proc.poll() is None:
        tree = parent.children(recursive=True)
        if ready(tree):
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"never ready (exit {proc.poll()}); tree {[p.cmdline()[-3:] for p in tree]}")
    time.sleep(settle_s)  # let the children get to work
    tree = parent.children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return tree


def _gone_after(tree: list[psutil.Process], seconds: float = 5.0) -> list[psutil.Process]:
    time.sleep(seconds)
    survivors = _alive(tree)
    for p in survivors:  # never leave them to the next test
        p.kill()
    return survivors


def _calls(root) -> list[str]:
    """Transcript row keys (the contract's key) written by the ASR runs."""
    folder = root / "transcripts"
    if not folder.exists():
        return []
    cols = ["call_id", "channel", "segment_index", "model_id"]
    table = pq.read_table(folder, columns=cols)
    return ["/".join(map(str, row)) for row in zip(*(table.column(c).to_pylist() for c in cols), strict=True)]


@pytest.mark.slow
def test_sigkilled_transcribe_leaves_no_worker_and_a_rerun_does_every_call_once(tmp_path) -> None:
    import shutil

    from tests.ingest.asr_helpers import CLIPS, DATA

    folder, lake = tmp_path / "in", tmp_path / "lake"
    folder.mkdir()
    for i in range(4):
        shutil.copy(DATA / f"{CLIPS[i % 2]}.ogg", folder / f"K{i}.ogg")
    cmd = _cdna("transcribe", "--input", str(folder), "--out", str(lake), "--date", DAY, "--workers", "2")
    env = {**os.environ, "CDNA_ASR__FLUSH_EVERY": "1"}
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    workers = lambda tree: sum("spawn_main" in " ".join(p.cmdline()) for p in tree) >= 2  # noqa: E731
    tree = _kill_when(proc, workers)
    assert any("resource_tracker" in " ".join(p.cmdline()) for p in tree)
    survivors = _gone_after(tree)
    assert not survivors, [p.cmdline()[-3:] for p in survivors]
    assert subprocess.run(cmd, env=env, check=False).returncode == 0
    keys = _calls(lake)
    assert len(keys) == len(set(keys)) and {k.split("/")[0] for k in keys} == {f"K{i}" for i in range(4)}


@pytest.mark.slow
def test_sigkilled_nightly_leaves_no_stage_and_a_rerun_does_every_call_once(tmp_path) -> None:
    import duckdb

    from tests.test_nightly import _bank

    lake = _bank(tmp_path / "lake", 120, audio_calls=3)
    day = duckdb.sql(
        f"SELECT max(timezone('Asia/Seoul', started_at))::DATE::VARCHAR FROM "
        f"read_parquet('{lake.raw('calls')}/*.parquet') WHERE audio_path IS NOT NULL"
    ).fetchall()[0][0]
    cmd = _cdna("nightly", "--lake", str(lake.root), "--date", day, "--no-purge")
    proc = subprocess.Popen(cmd, start_new_session=True)
    stage = lambda tree: any("transcribe" in p.cmdline() for p in tree)  # noqa: E731
    tree = _kill_when(proc, stage, settle_s=3.0)
    survivors = _gone_after(tree)
    assert not survivors, [p.cmdline()[-3:] for p in survivors]
    subprocess.run(cmd, check=False)  # later stages are not this test's business: the transcripts are
    record = json.loads((lake.runs / f"nightly-{day}.json").read_text(encoding="utf-8"))
    asr = record["stages"][0]
    assert asr["name"] == "transcribe" and asr["status"] == "ok"
    counts = asr["result"]
    assert not counts["failed"]
    assert (
        counts["files_seen"] >= 1
        and counts["done"] + counts["skipped"] + len(counts["no_speech"]) == counts["files_seen"]
    )
    keys = _calls(lake.root)
    assert keys and len(keys) == len(set(keys))
