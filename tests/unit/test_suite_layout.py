"""The test suite's own layout: helpers live in tests/support/ and reach tests as imports
from there or as fixtures; conftest files only declare fixtures; no module imports a
conftest or a test module. A helper shared through a test module or a conftest couples
tests that should not know each other, and imports a module pytest also collects."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]


def _modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if "node_modules" not in p.parts)


def _imported_modules(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, module) of every import in the module, at any depth."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
            # `from tests.integration import test_x` names a module too.
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _is_test_module_or_conftest(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last == "conftest" or last.startswith("test_")


def import_problems(path: Path, source: str) -> list[str]:
    """The imports of a conftest or a test module in one file of the suite."""
    where = path.relative_to(TESTS.parent) if path.is_relative_to(TESTS.parent) else path
    return [
        f"{where}:{line} imports {module}"
        for line, module in _imported_modules(ast.parse(source))
        if _is_test_module_or_conftest(module)
    ]


def conftest_problems(path: Path, source: str) -> list[str]:
    """What a conftest defines besides fixtures and pytest's hooks (`pytest_*`, which
    pytest reads from conftests only): other functions, and classes (both belong in
    tests/support/)."""
    problems = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef):
            problems.append(f"{path.name}:{node.lineno} defines the class {node.name}")
        elif (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and not node.name.startswith("pytest_")
            and not any("fixture" in ast.unparse(decorator) for decorator in node.decorator_list)
        ):
            problems.append(f"{path.name}:{node.lineno} defines the helper {node.name}()")
    return problems


def test_no_module_imports_a_conftest_or_a_test_module() -> None:
    """Tests and tests/support import helpers from tests/support only: never from a
    conftest (its fixtures arrive by name) nor from another test module."""
    problems = [p for path in _modules() for p in import_problems(path, path.read_text())]
    assert problems == []


def test_conftest_files_only_declare_fixtures() -> None:
    """Every function in a conftest is a fixture (or a pytest hook) and no class is
    defined there."""
    problems = [
        p for path in TESTS.rglob("conftest.py") for p in conftest_problems(path, path.read_text())
    ]
    assert problems == []


# Spelled in pieces so that a plain grep of the suite for such imports finds none.
CONFTEST = "conftest"


@pytest.mark.parametrize(
    "source",
    [
        f"from tests.{CONFTEST} import act_as\n",
        f"from {CONFTEST} import World\n",
        f"import tests.e2e.{CONFTEST}\n",
        "from tests.integration import test_access_matrix as matrix\n",
        "from tests.integration.test_reports import generate\n",
        f"def helper():\n    from tests.{CONFTEST} import sign_in\n",
    ],
    ids=["root", "bare", "e2e", "test-module", "from-test-module", "in-a-function"],
)
def test_the_import_check_catches_each_form(source: str) -> None:
    """The check sees each way of importing a conftest or a test module, also inside a
    function (a check that never fails proves nothing)."""
    assert import_problems(TESTS / "support" / "example.py", source) != []


def test_the_import_check_allows_support_modules() -> None:
    """Imports from tests/support (including one named like a test, e.g. `testing`) pass."""
    source = "from tests.support.auth import act_as\nfrom tests.support import testing\n"
    assert import_problems(TESTS / "unit" / "test_example.py", source) == []


def test_the_conftest_check_catches_helpers_and_classes() -> None:
    """A plain function or a class in a conftest is reported; a fixture is not."""
    source = (
        "import pytest\n\n@pytest.fixture\ndef app(): ...\n\n"
        "@pytest.fixture(scope='session')\ndef url(): ...\n\n"
        "def sign_in(client): ...\n\nclass World: ...\n"
    )
    problems = conftest_problems(Path("conftest.py"), source)
    assert problems == [
        "conftest.py:9 defines the helper sign_in()",
        "conftest.py:11 defines the class World",
    ]


def test_the_conftest_check_allows_hooks_but_not_helpers() -> None:
    """A pytest hook may sit in a conftest; a plain helper beside it may not."""
    source = "def pytest_collection_modifyitems(items):\n    pass\n\ndef helper():\n    pass\n"
    assert conftest_problems(Path("conftest.py"), source) == [
        "conftest.py:4 defines the helper helper()"
    ]
