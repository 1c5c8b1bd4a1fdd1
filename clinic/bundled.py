"""Where the files that ship with the app are: page templates, print templates and their
assets, database migrations, and the documents the app shows (docs/: the safety case).

In the repository they sit at the top level beside `clinic/` (the layout the project card
fixes). A wheel carries them inside the package, as `clinic/templates/`, `clinic/reports/`,
`clinic/migrations/` and `clinic/docs/` (see `[tool.setuptools]` in pyproject.toml), so an
installed app needs no source checkout and no particular working directory. The package
folder is looked at first; a source checkout (tests, `pip install -e .`, `PYTHONPATH=.`) has
no such folders there and uses the top-level ones.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def _data_root() -> Path:
    """The folder holding templates/, reports/ and migrations/: the package when installed
    from a wheel, the repository's top level in a source checkout."""
    if (PACKAGE / "templates").is_dir():
        return PACKAGE
    return PACKAGE.parent


DATA_ROOT = _data_root()
TEMPLATES = DATA_ROOT / "templates"
REPORTS = DATA_ROOT / "reports"
MIGRATIONS = DATA_ROOT / "migrations"
DOCS = DATA_ROOT / "docs"
