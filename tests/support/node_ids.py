"""The suite's test ids, read from the source with `ast` (no import, no collection): the
pytest node ids `tests/<folder>/test_x.py::test_name` (and `::TestClass::test_name`) of
every test function, as the hazard log traces its controls to them.

Parametrised tests have one id here, without the bracketed case: the hazard log names the
test, all of whose cases prove the control.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _tests_in(body: list[ast.stmt], prefix: str) -> set[str]:
    found: set[str] = set()
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            found.add(f"{prefix}::{node.name}")
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            found |= _tests_in(node.body, f"{prefix}::{node.name}")
    return found


def node_ids(root: Path = ROOT) -> set[str]:
    """Every test's node id under `root`/tests (node_modules left out)."""
    found: set[str] = set()
    for path in sorted((root / "tests").rglob("test_*.py")):
        if "node_modules" in path.parts:
            continue
        found |= _tests_in(
            ast.parse(path.read_text("utf-8")).body, path.relative_to(root).as_posix()
        )
    return found
