"""`cdna serve --workers 2` as an operator runs it: SIGTERM drains both workers and ends with exit 0 (issue 18).

The parent (uvicorn's supervisor) stops its workers; each worker's lifespan shutdown drains the audit writer
and signs a checkpoint, so the audit log verifies after the stop.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cdna.core.lake import Lake
from cdna.serve.keys import KeyStore, keys_path
from tests.serve.test_serve_process import _free_port


def _wait_ready(proc: subprocess.Popen[str], port: int, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        assert proc.poll() is None, f"the service exited with {proc.returncode}"
        assert time.monotonic() < deadline, "the service did not come up"
        time.sleep(0.3)


def test_two_workers_drain_and_exit_0_on_sigterm(lake: Lake, tmp_path: Path) -> None:
    key = KeyStore(keys_path(lake.root)).create("staff-kim", "staff")
    env = {**os.environ, "CDNA_AUDIT_KEY": secrets.token_hex(32)}  # the key stays outside the lake
    port = _free_port()
    argv = [
        sys.executable,
        "-m",
        "cdna",
        "serve",
        "--lake",
        str(lake.root),
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        _wait_ready(proc, port)
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/customers/C0000001/recommendations?k=3",
            headers={"Authorization": f"Bearer {key}", "X-Purpose": "counseling"},
        )
        for _ in range(4):  # the kernel spreads connections over both workers
            with urllib.request.urlopen(req, timeout=30) as resp:
                assert json.load(resp)["customer_id"] == "C0000001"
    finally:
        proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-2000:]
    assert time.monotonic() - t0 < 30, "draining took too long"
    assert "staff API stopped" in err
    verify = subprocess.run(
        [sys.executable, "-m", "cdna", "--json", "audit", "verify", "--lake", str(lake.root)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert verify.returncode == 0, verify.stderr[-2000:]
    report = json.loads(verify.stdout)
    assert (
        report["ok"] and report["rows"] == 4 and report["unanchored_rows"] == 0
    )  # both workers signed at shutdown
