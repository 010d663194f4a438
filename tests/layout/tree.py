"""Assemble the installed shape of the `cdna` package (package-dir mapping applied) from the source tree."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

__all__ = ["ROOT", "assemble", "package_dirs"]


def package_dirs() -> dict[str, Path]:
    """`cdna.<stage>` → source folder, as pyproject's `[tool.setuptools.package-dir]` declares it."""
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    return {name: ROOT / folder for name, folder in conf["tool"]["setuptools"]["package-dir"].items()}


def assemble(dest: Path) -> Path:
    """Copy the Python sources into `dest/cdna/...` as a wheel would lay them out; returns `dest`."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name, src in sorted(package_dirs().items(), key=lambda kv: kv[0].count(".")):
        target = dest.joinpath(*name.split("."))
        shutil.copytree(src, target, ignore=skip, dirs_exist_ok=True)
    return dest
