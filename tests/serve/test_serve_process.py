"""`cdna serve` as a process: port checked before any announcement, "listening" only once it answers, exit 0 on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request

from cdna.core.lake import Lake


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_announces_when_listening_refuses_a_taken_port_and_ends_cleanly(lake: Lake) -> None:
    port = _free_port()
    argv = [sys.executable, "-m", "cdna", "serve", "--lake", str(lake.root), "--port", str(port)]
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                assert urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2).status == 200
                break
            except OSError:
                assert first.poll() is None and time.monotonic() < deadline, "the service did not come up"
                time.sleep(0.3)
        second = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        assert second.returncode == 2
        assert "already in use" in second.stderr and "listening" not in second.stderr + second.stdout
    finally:
        first.send_signal(signal.SIGTERM)
        out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err[-2000:]
    lines = err.splitlines()
    listening = [i for i, line in enumerate(lines) if "listening on" in line]
    loaded = [i for i, line in enumerate(lines) if "serving swapped in" in line]
    assert listening and loaded and loaded[0] < listening[0]  # announced after the data loaded
    assert "staff API stopped" in err
