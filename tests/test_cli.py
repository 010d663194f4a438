"""The `cdna` command line: help that lists every stage, exit codes for usage and config errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cdna.cli.app import main

STAGES = (
    "world",
    "transcribe",
    "mine",
    "features",
    "train",
    "evaluate",
    "retrain",
    "recommend",
    "serve",
    "nightly",
    "demo",
)


def test_help_lists_every_stage_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cdna", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0
    for command in STAGES:
        assert f" {command} " in proc.stdout, command


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("cdna ")


def test_unknown_command_is_usage_error() -> None:
    assert main(["frobnicate"]) == 2


def test_bad_option_value_is_usage_error(tmp_path: Path) -> None:
    assert main(["world", "--customers", "many", "--out", str(tmp_path)]) == 2


def test_config_error_exits_2_and_names_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("world:\n  seed: seven\n", encoding="utf-8")
    assert main(["--config", str(bad), "world", "--out", str(tmp_path / "lake")]) == 2
    assert "world.seed" in capsys.readouterr().err


def test_missing_input_file_exits_2(tmp_path: Path) -> None:
    assert (
        main(["--quiet", "validate", "transactions", str(tmp_path / "nope.csv"), "--out", str(tmp_path)]) == 2
    )


def test_demo_ends_with_the_serve_command_and_curl(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cdna",
            "demo",
            "--out",
            str(tmp_path / "demo"),
            "--customers",
            "300",
            "--no-audio",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**__import__("os").environ, "COLUMNS": "120"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    tail = proc.stdout.strip().splitlines()[-4:]
    assert tail[1].strip() == f"cdna serve --lake {(tmp_path / 'demo').resolve()} --port 8080"
    assert tail[3].strip().startswith("curl -s -H 'Authorization: Bearer ")
    console = proc.stdout.strip().splitlines()[-5]
    assert "http://127.0.0.1:8080/console" in console  # issue 18: the closing text names the console
    assert (tmp_path / "demo" / "recommendations").is_dir()
