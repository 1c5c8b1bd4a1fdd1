"""Architecture rules read from the source itself.

One unit of work owns every transaction (clinic/core/uow.py): a view, a service, a hook
or a command that called `commit()` or `rollback()` itself could save half a change, or
throw away what a failure must keep. These tests read every module of `clinic/` and fail
on such a call anywhere else.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "clinic"
# The modules allowed to end a transaction: the unit of work, and the PostgreSQL connection
# class under it (clinic.core.transactions: its commit() and rollback() are the driver's,
# extended to go back to autocommit; it decides no transaction's end).
UNIT_OF_WORK_MODULES = frozenset(
    {PACKAGE / "core" / "uow.py", PACKAGE / "core" / "transactions.py"}
)
TRANSACTION_ENDS = frozenset({"commit", "rollback"})


def transaction_ends_in(source: str) -> list[int]:
    """The line of every call to something named `commit` or `rollback` (a method such
    as `db.session.commit()` or `connection.rollback()`, or a bare function)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in TRANSACTION_ENDS:
            lines.append(node.lineno)
    return lines


def test_only_the_unit_of_work_commits_or_rolls_back() -> None:
    """No module of clinic/ but the unit of work calls commit() or rollback()."""
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in UNIT_OF_WORK_MODULES
        for line in transaction_ends_in(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "commit/rollback outside clinic/core/uow.py: " + ", ".join(offenders)


def test_the_unit_of_work_module_exists_and_is_read() -> None:
    """The allowed list names real files that do end transactions (a renamed module would
    otherwise leave the rule checking nothing)."""
    for path in UNIT_OF_WORK_MODULES:
        assert transaction_ends_in(path.read_text(encoding="utf-8")), path


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("db.session.commit()", [1]),
        ("x = 1\nsession.rollback()", [2]),
        ("target.commit()  # a raw sqlite3 connection", [1]),
        ("commit()", [1]),
        ("after_commit(send)", []),
        ("committed = rollbacks = 0", []),
        ('"""db.session.commit() in a docstring"""', []),
    ],
)
def test_the_scan_finds_calls_and_only_calls(source: str, found: list[int]) -> None:
    """The scan sees a call however it is written, and nothing that merely mentions one."""
    assert transaction_ends_in(source) == found
