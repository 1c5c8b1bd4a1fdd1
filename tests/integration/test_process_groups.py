"""The tests that must share a process do share one under `make test`'s pytest-xdist.

The groups are marks the suite's conftest adds while collecting; pytest-xdist ignores marks
added after its own hook has read them, and pytest 9.2 stopped honouring them at all
(pytest-dev/pytest-xdist#1386), both silently. So this runs pytest as `make test` does, on
two small modules in a folder the conftest's hook puts in one group, with the suite's own
hook, and checks where each test ran.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULE = """
import os

import pytest


@pytest.mark.parametrize("n", range(6))
def test_where(n):
    print("ran in", os.environ.get("PYTEST_XDIST_WORKER"))
"""


def test_browser_journeys_run_in_one_process(tmp_path: Path) -> None:
    """Twelve tests in two modules under tests/e2e/ (one group by the conftest's hook),
    run with two processes: every one of them in the same process."""
    journeys = tmp_path / "tests" / "e2e"
    journeys.mkdir(parents=True)
    for name in ("test_first.py", "test_second.py"):
        (journeys / name).write_text(MODULE)
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_collection_modifyitems  # noqa: F401\n"
    )
    answer = subprocess.run(  # noqa: S603 - this interpreter's pytest, fixed arguments
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-v",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stdout + answer.stderr
    workers = re.findall(r"^\[(gw\d+)\] .*PASSED", answer.stdout, re.M)
    assert len(workers) == 12, answer.stdout
    assert len(set(workers)) == 1, answer.stdout
