"""Issue 12: `Lake` owns every lake path — no other module spells a lake sub-path."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.layout.tree import ROOT

# Top-level areas of a lake (see cdna/core/lake.py) and file names that live at fixed places in it.
AREAS = {
    "raw",
    "audio",
    "transcripts",
    "signals",
    "features",
    "snapshots",
    "online",
    "recommendations",
    "audit",
    "_runs",
    "_rejects",
    "_locks",
    "_truth",
    "_state",
    "mlartifacts",
    "reports",
    "serve",
    "events",
    "offers",
    "campaigns",
    "leads",
    "_backups",
    "_imports",
    ".tmp",
}
FILES = re.compile(r"mlflow\.db|features\.sqlite|recommendations\.sqlite|keys\.db|audit\.db")
PREFIX = re.compile(r"^/?(?:\{[^}]*\}/)?(" + "|".join(re.escape(a) for a in sorted(AREAS)) + r")/")
SOURCES = ("cdna", "ingest", "nlp", "features", "recommend", "serve")


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                out.add(id(value))
    return out


def offences(path: Path) -> list[str]:
    """Lake sub-path literals in one module: `x / "online"`, "online/…", "mlflow.db" (docstrings aside)."""
    tree = ast.parse(path.read_text("utf-8"))
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            right = node.right
            if isinstance(right, ast.Constant) and right.value in AREAS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: / {right.value!r}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docs
            and (FILES.search(node.value) or PREFIX.match(node.value))
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    return found


def test_no_module_outside_core_spells_a_lake_path() -> None:
    bad = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "core" in path.relative_to(ROOT).parts[:2]:
                continue
            bad += offences(path)
    assert not bad, "lake paths belong in cdna/core/lake.py (add a Lake property):\n" + "\n".join(bad)


def test_the_check_catches_a_spelled_path(tmp_path: Path) -> None:
    probe = ROOT / "nlp" / "_probe_lake_path.py"
    probe.write_text(
        'def f(root):\n    return root / "online" / "features.sqlite", f"{root}/_state/x"\n', "utf-8"
    )
    try:
        found = offences(probe)
    finally:
        probe.unlink()
    assert len(found) == 3, found
