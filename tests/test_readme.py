"""README as a new user follows it: `cdna demo`, then the service section's commands, as written.

One demo run (small bank, audio on) serves both checks: the default pipeline never imports torch, and the
README's staff-service block works on the lake the demo made (issue 18: it used `--lake ./demo` while the
demo writes `./demo-YYYYMMDD-HHMMSS`, and its audit dates predated every lookup).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BLOCKER = """
import importlib.abc, os, sys
class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            with open(os.environ["NO_TORCH_MARKER"], "a") as f:
                f.write(f"{os.getpid()} {name}\\n")
            raise ImportError("torch is blocked by tests/test_readme.py")
        return None
sys.meta_path.insert(0, _NoTorch())
"""


def readme_block(heading: str) -> str:
    """The first ```bash block after the README heading that starts with `heading`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(heading)
    match = re.search(r"```bash\n(.*?)```", text[start:], re.S)
    assert match, f"no bash block after {heading!r}"
    return match.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where `cdna demo` ran as README says (no --out), with torch imports blocked and recorded."""
    cwd = tmp_path_factory.mktemp("readme")
    site = cwd / "_site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "NO_TORCH_MARKER": str(cwd / "torch-imports.txt"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "cdna", "demo", "--customers", "300"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1500,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return cwd


@pytest.mark.slow
def test_the_demo_never_imports_torch(demo_dir: Path) -> None:
    marker = demo_dir / "torch-imports.txt"
    assert not marker.exists(), marker.read_text()


@pytest.mark.slow
def test_readme_service_block_works_on_the_demo_lake(demo_dir: Path) -> None:
    block = readme_block("### Staff service")
    port = str(_free_port())
    lines = []
    for line in block.splitlines():
        if line.startswith("python bench/"):
            continue  # a benchmark, not a step a new user needs
        lines.append(line.replace("8080", port))
    script = "set -euo pipefail\n" + "\n".join(lines) + '\nwait %1; echo "serve-exit=$?"\n'
    proc = subprocess.run(
        ["bash", "-c", script], cwd=demo_dir, capture_output=True, text=True, check=False, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    body = json.loads(proc.stdout[proc.stdout.index("{") : proc.stdout.rindex("}") + 1])
    assert body["customer_id"] == "C0000001" and len(body["recommendations"]) == 5
    assert "serve-exit=0" in proc.stdout  # SIGTERM drains and exits 0
    audit = (demo_dir / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert any(json.loads(r).get("customer_id") == "C0000001" for r in audit)
