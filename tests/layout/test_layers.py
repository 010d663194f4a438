"""Issue 12: one top-level package, and layers that only point down (import-linter on the installed shape)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.layout.tree import ROOT, assemble, package_dirs

LINT = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path, config: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT), "--config", str(config), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not LINT.exists():
        pytest.skip("import-linter is not installed (dev extra)")
    return assemble(tmp_path_factory.mktemp("installed"))


def test_every_stage_folder_installs_under_cdna() -> None:
    dirs = package_dirs()
    assert set(dirs) == {
        "cdna",
        "cdna.configs",
        "cdna.ingest",
        "cdna.nlp",
        "cdna.features",
        "cdna.recommend",
        "cdna.serve",
    }
    assert all(name == "cdna" or name.startswith("cdna.") for name in dirs)
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["packages"]
    # Every folder with an __init__.py under a mapped folder must be listed, or the wheel silently drops it.
    found = set()
    for name, src in dirs.items():
        for init in src.rglob("__init__.py"):
            rel = init.parent.relative_to(src).parts
            if "__pycache__" not in rel and not any(p.startswith(".") for p in rel):
                found.add(".".join((name, *rel)))
    assert found == set(packages)


def test_layer_contract_holds(tree: Path) -> None:
    res = _lint(tree, ROOT / "pyproject.toml")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Contracts: 1 kept, 0 broken" in res.stdout


def test_removing_an_allow_list_entry_breaks_the_contract(tree: Path, tmp_path: Path) -> None:
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    entry = '    "cdna.recommend.** -> cdna.features.snapshot",\n'
    assert entry in text
    config = tmp_path / "pyproject.toml"
    config.write_text(text.replace(entry, ""), "utf-8")
    res = _lint(tree, config)
    assert res.returncode != 0
    assert re.search(r"cdna\.recommend\.\w+ -> cdna\.features\.snapshot", res.stdout), res.stdout


def test_a_stage_reaching_up_into_the_cli_is_caught(tree: Path, tmp_path: Path) -> None:
    bad = tree / "cdna" / "nlp" / "_layer_probe.py"
    bad.write_text("from cdna.cli import app  # noqa: F401\n", "utf-8")
    try:
        res = _lint(tree, ROOT / "pyproject.toml")
    finally:
        bad.unlink()
    assert res.returncode != 0 and "cdna.nlp._layer_probe -> cdna.cli" in res.stdout, res.stdout
