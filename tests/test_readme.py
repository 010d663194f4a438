"""README as a new user follows it: `cdna demo`, then every shell block, as written, on the lake it made.

One demo run (small bank, audio on) serves every check: the default pipeline never imports torch, and each
```bash block of README.md runs in README order from the folder where the demo ran (issue 18: the service
section used `--lake ./demo` while the demo writes `./demo-YYYYMMDD-HHMMSS`, its audit dates predated every
lookup, and `cdna models list|promote 3|rollback` was not a command). A new block runs by default; what is
not run is listed in SKIP with the reason, and the few stand-ins the test makes (a free port, a smaller bank,
the files a user brings) are listed in SUBSTITUTE and USER_FILES.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from dataclasses import dataclass
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

# a piece of a command → why the test does not run it
SKIP: dict[str, str] = {
    "pip install": "installs packages (the environment the test runs in)",
    "python -m pytest": "runs the test suite this test is part of",
    "../shared/data": "needs the ../shared data sets, absent in CI",
    "python bench/": "a benchmark: minutes of load, figures rather than assertions (bench/ scripts)",
    "--engine ray": "starts a local Ray cluster (minutes on 2 cores); tests/ingest/test_asr_runner.py runs the Ray engine",
    "cdna stream": "a Redis consumer that runs until stopped; tests/events/test_stream.py runs it on its own redis-server",
    "30 2 * * *": "a crontab line, not a shell command",
}

# long-running servers that README starts in the foreground: run in the background, asked once, stopped
SERVERS: dict[str, str] = {"cdna mlflow-ui": "/"}

# what the test changes in a command, and why (everything else runs exactly as written)
SUBSTITUTE: list[tuple[str, str, str]] = [
    (r"--customers 2000\b", "--customers 200", "a smaller bank keeps the test to minutes on 2 cores"),
    (r"--size 500\b", "--size 50", "the test's demo bank has 300 customers, README's 2,000"),
    (r"\b8080\b", "{port}", "a free port: CI runs other services"),
    (
        r"part-….parquet",
        '"$(cd ./lake/raw/transactions && ls part-*.parquet | tail -1)"',
        "the part the mine.csv import added",
    ),
    (r"(?<![\w$/.-])LAKE\b(?!=)", '"$LAKE"', "LAKE: the lake `cdna demo` wrote"),
    (
        r"(?<![\w$/.-])L(?=[\s/]|$)",
        "./partner-lake",
        "L in the linkage block: a lake built there with the key",
    ),
]

# files README's commands expect the user to bring, made by the test from the lake it has at that point
USER_FILES: dict[str, str] = {
    "mine.csv": "twenty transactions with new ids",
    "fixed.csv": "the customers table as it is",
    "labels.parquet": "five (customer_id, as_of) rows",
    "recordings/": "two of the bank's recordings",
}

MAKE_USER_FILE = """
import shutil, sys
from pathlib import Path
import duckdb
what, lake = sys.argv[1], Path(sys.argv[2])
part = lambda t: f"read_parquet('{lake}/raw/{t}/*.parquet', union_by_name=true)"
if what == "mine.csv":
    duckdb.sql(f"COPY (SELECT * EXCLUDE (ingested_at) REPLACE ('README-' || txn_id AS txn_id) "
               f"FROM {part('transactions')} ORDER BY txn_id LIMIT 20) TO 'mine.csv' (HEADER)")
elif what == "fixed.csv":
    duckdb.sql(f"COPY (SELECT * EXCLUDE (ingested_at) FROM {part('customers')}) TO 'fixed.csv' (HEADER)")
elif what == "labels.parquet":
    duckdb.sql(f"COPY (SELECT customer_id, DATE '2025-05-31' AS as_of FROM {part('customers')} "
               f"ORDER BY 1 LIMIT 5) TO 'labels.parquet' (FORMAT parquet)")
elif what == "recordings/":
    Path("recordings").mkdir(exist_ok=True)
    for wav in sorted(lake.glob("audio/date=*/*"))[:2]:
        shutil.copy(wav, Path("recordings") / wav.name)
"""


@dataclass(frozen=True)
class Block:
    """One ```bash block of README.md: the heading above it, its first line number, its commands."""

    heading: str
    line: int
    commands: tuple[str, ...]


def _commands(lines: list[str]) -> tuple[str, ...]:
    """Join continuation lines (a trailing backslash or an open quote) into whole commands."""
    out: list[str] = []
    buf: list[str] = []
    for line in lines:
        buf.append(line)
        text = "\n".join(buf)
        if text.endswith("\\"):
            continue
        try:
            shlex.split(text, comments=True)
        except ValueError:  # a quote spans lines
            continue
        out.append(text)
        buf = []
    assert not buf, f"unterminated command in README: {buf}"
    return tuple(c for c in out if c.strip())


def readme_blocks() -> list[Block]:
    """Every ```bash block of README.md, in order."""
    blocks: list[Block] = []
    heading, start = "", 0
    body: list[str] | None = None
    for n, line in enumerate((ROOT / "README.md").read_text(encoding="utf-8").splitlines(), 1):
        if body is None and line.startswith("#"):
            heading = line.lstrip("# ")
        elif body is None and line.strip() == "```bash":
            body, start = [], n
        elif body is not None and line.strip() == "```":
            blocks.append(Block(heading, start, _commands(body)))
            body = None
        elif body is not None:
            body.append(line)
    return blocks


def skip_reason(command: str) -> str | None:
    """Why the test does not run `command`, or None."""
    return next((why for piece, why in SKIP.items() if piece in command), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def runnable(command: str, port: int) -> str:
    """The command with the test's substitutions, a server wrapped in start → ask → stop."""
    for pattern, repl, _why in SUBSTITUTE:
        command = re.sub(pattern, repl.format(port=port), command)
    for piece, path in SERVERS.items():
        if command.startswith(piece):
            cmd = command.split("#")[0].strip()
            url = f"http://127.0.0.1:{port}{path}"
            return (
                f"{cmd} --port {port} & srv=$!\n"
                f"for _ in $(seq 180); do curl -sf {url} > /dev/null && break; sleep 1; done\n"
                f"curl -sf {url} > /dev/null && echo 'server-answered={piece}'\n"
                "kill $srv; wait $srv || true"
            )
    if command.split("#")[0].strip() == "kill %1":  # the service README starts: record how it ended
        return 'kill %1; rc=0; wait %1 || rc=$?; echo "serve-exit=$rc"'
    for name in USER_FILES:
        if re.search(rf"(?<![\w/.]){re.escape(name)}", command) and not command.lstrip().startswith("#"):
            return f"test -e {name} || python _user_file.py {name} ./lake\n{command}"
    return command


def block_script(block: Block, port: int) -> str:
    """A bash script for the block: stops at the first failing command and names it."""
    parts = ["set -euo pipefail"]
    for cmd in block.commands:
        if cmd.lstrip().startswith("#") or skip_reason(cmd):
            continue
        parts.append(f"echo {shlex.quote('>>> ' + cmd.splitlines()[0][:120])} >&2")
        parts.append(runnable(cmd, port))
    return "\n".join(parts) + "\n"


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


def test_readme_blocks_parse_and_every_skip_is_used() -> None:
    blocks = readme_blocks()
    assert any(b.heading.startswith("Staff service") for b in blocks)
    commands = [c for b in blocks for c in b.commands]
    unused = [piece for piece in SKIP if not any(piece in c for c in commands)]
    assert not unused, f"SKIP entries that match no README command (remove them): {unused}"
    multi = next(c for c in commands if "CALL-1" in c)  # a JSON body spanning lines is one command
    assert multi.startswith("curl -X POST") and multi.rstrip().endswith("/v1/events")


@pytest.mark.slow
def test_the_demo_never_imports_torch(demo_dir: Path) -> None:
    marker = demo_dir / "torch-imports.txt"
    assert not marker.exists(), marker.read_text()


@pytest.mark.slow
def test_every_readme_block_runs_on_the_demo_lake(demo_dir: Path) -> None:
    lake = next(demo_dir.glob("demo-*"))
    (demo_dir / "_user_file.py").write_text(MAKE_USER_FILE, encoding="utf-8")
    env = {
        **os.environ,
        "LAKE": str(lake),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    failures, outputs = [], {}
    for block in readme_blocks():
        script = block_script(block, _free_port())
        proc = subprocess.run(
            ["bash", "-c", script],
            cwd=demo_dir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        outputs[block.heading] = proc.stdout
        if proc.returncode != 0:
            failures.append(f"README line {block.line} ({block.heading}):\n{proc.stderr[-2500:]}")
    assert not failures, "\n\n".join(failures)

    served = outputs["Staff service (`cdna serve`)"]
    body = json.loads(served[served.index("{") : served.rindex("}") + 1])
    assert body["customer_id"] == "C0000001" and len(body["recommendations"]) == 5
    assert "serve-exit=0" in served  # SIGTERM drains and exits 0
    audit = (demo_dir / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert any(json.loads(r).get("customer_id") == "C0000001" for r in audit)
    assert "server-answered=cdna mlflow-ui" in "".join(outputs.values())
    assert (demo_dir / "lake" / "raw" / "customers").is_dir()  # `cdna world` made ./lake as written
    events = outputs[
        "Right-time decisions: policy, events, leads (`configs/policy.yaml`, `POST /v1/events`, `cdna stream`)"
    ]
    assert re.search(r'"applied":\s*1\b', events), events[-1500:]  # the call event was stored
