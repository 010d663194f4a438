"""Operations (issue 18): one-line summaries, unwrapped logs, strict dates, global flags anywhere, config errors."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from cdna.cli.app import global_options_first, main
from cdna.cli.nightly import NightResult, StageOutcome, one_line, retention_text
from cdna.cli.state import parse_day
from cdna.core.errors import ConfigError


def test_global_flags_after_the_command_move_before_it() -> None:
    assert global_options_first(["runs", "list", "--json", "--lake", "L"]) == [
        "--json",
        "runs",
        "list",
        "--lake",
        "L",
    ]
    assert global_options_first(["nightly", "-q", "--log-format", "json"]) == [
        "-q",
        "--log-format",
        "json",
        "nightly",
    ]
    assert global_options_first(["mask", "--", "--json"]) == ["mask", "--", "--json"]


def test_dates_are_strictly_yyyy_mm_dd() -> None:
    assert str(parse_day("2025-07-01")) == "2025-07-01"
    for bad in ("20250701", "2025-7-1", "2025/07/01"):
        with pytest.raises(ConfigError):
            parse_day(bad, "--date")


def test_a_missing_config_file_is_an_error_for_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(tmp_path / "nope.yaml"), "runs", "list", "--lake", str(tmp_path)]) == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_retention_and_the_night_in_one_line() -> None:
    ret = {"dry_run": False, "summary": {"transcripts": {"items": 361, "bytes": 2.1e8}}}
    assert retention_text(ret) == "retention removed 361 transcript folders (0.2 GB)"
    assert retention_text({"dry_run": True, "summary": {}}) == "retention removed nothing"
    res = NightResult("2025-06-30", "ok", 0, "2025-06-30T17:30:00+00:00", wall_s=612.0)
    res.stages = [StageOutcome("mine", ["mine"], 0, "ok", 41.0, "mine.log")]
    res.retention = ret
    line = one_line(res, Path("/lake/_runs/nightly-2025-06-30.html"))
    assert "\n" not in line and line.startswith("nightly 2025-06-30 ok in 612 s")
    assert "retention removed 361 transcript folders" in line and line.endswith("nightly-2025-06-30.html")


def test_logs_are_single_unwrapped_lines(tmp_path: Path) -> None:
    """A long log line in a narrow 'terminal' (cron) stays one line; --log-format json gives JSON lines."""
    code = (
        "import logging, sys; from cdna.cli.console import setup_logging; "
        "setup_logging('INFO', False, sys.argv[1]); logging.getLogger('cdna.test').info('x' * 300)"
    )
    env = {"COLUMNS": "80", "PATH": "/usr/bin:/bin"}
    plain = subprocess.run(
        [sys.executable, "-c", code, "plain"], capture_output=True, text=True, env=env, check=True
    )
    lines = plain.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith("x" * 300) and " INFO cdna.test: " in lines[0]
    js = subprocess.run(
        [sys.executable, "-c", code, "json"], capture_output=True, text=True, env=env, check=True
    )
    doc = json.loads(js.stderr.strip())
    assert doc["level"] == "info" and doc["logger"] == "cdna.test" and len(doc["message"]) == 300
    logging.getLogger().handlers.clear()


def test_an_interrupted_run_leaves_no_lock_file(tmp_path: Path) -> None:
    from cdna.core.lake import Lake, partition_lock

    lake = Lake.at(tmp_path, create=True)
    with pytest.raises(KeyboardInterrupt), partition_lock(lake, "demo") as path:
        assert "pid" in path.read_text()
        raise KeyboardInterrupt
    assert not path.exists() and list(lake.locks.iterdir()) == []
    with partition_lock(lake, "demo"):  # and the next run takes it at once
        pass


def test_every_lake_option_has_the_short_form() -> None:
    """Issue 18: `--lake/-l` on every command that reads a lake."""
    import typer

    from cdna.cli.app import app

    def walk(cmd: object, path: str) -> list[str]:
        missing = [
            path
            for p in getattr(cmd, "params", [])
            if "--lake" in getattr(p, "opts", []) and "-l" not in p.opts
        ]
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            missing += walk(sub, f"{path} {name}")
        return missing

    root = typer.main.get_command(app)
    assert walk(root, "cdna") == []
    assert len(root.commands) > 10  # type: ignore[attr-defined]


def test_ctrl_c_says_what_happened_and_exits_130() -> None:
    """Issue 18: Ctrl-C exited 130 printing nothing (typer turns it into a silent exit code)."""
    code = (
        "import os, signal, sys, threading\n"
        "from cdna.cli.app import main\n"
        "threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\n"
        "sys.exit(main(['mask']))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        proc.wait(timeout=120)  # stdin stays open: `mask` waits for input until it is interrupted
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        proc.kill()
        if proc.stdin:
            proc.stdin.close()
    assert proc.returncode == 130
    assert "interrupted (Ctrl-C)" in err and "rerun the same command" in err and "Traceback" not in err
