"""The safety case's documents, read from docs/safety/: the intended-use statement
(Markdown) and the hazard log (JSON, checked against its JSON schema and the risk matrix).

The files are the single source: the README links to them, the About page and the
administrators' "Safety case" page show them, and tests/integration/test_safety_case.py
checks that every control's traced tests exist. They change only with a release, so each is
read once per process.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from clinic.bundled import DOCS
from clinic.domain.risk import Likelihood, Severity, risk_of, risk_words

SAFETY = DOCS / "safety"
INTENDED_USE = SAFETY / "intended-use.md"
HAZARDS = SAFETY / "hazards.json"
SCHEMA = SAFETY / "hazards.schema.json"


class HazardLogError(ValueError):
    """The hazard log breaks its schema or its own rules; `problems` says where."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Rating:
    """Severity, likelihood and the risk they give, before or after the controls."""

    severity: Severity
    likelihood: Likelihood
    risk: int

    @property
    def words(self) -> str:
        return risk_words(self.risk)


@dataclass(frozen=True)
class Control:
    """A control of a hazard: proven by tests (their pytest node ids), or a manual
    procedure that people carry out."""

    id: str
    text: str
    tests: tuple[str, ...]
    procedure: str

    @property
    def manual(self) -> bool:
        return not self.tests


@dataclass(frozen=True)
class Hazard:
    id: str
    title: str
    hazard: str
    cause: str
    effect: str
    before: Rating
    controls: tuple[Control, ...]
    after: Rating
    residual: str


@dataclass(frozen=True)
class HazardLog:
    title: str
    system: str
    standard: str
    matrix: str
    hazards: tuple[Hazard, ...]

    @property
    def test_count(self) -> int:
        """How many distinct tests the controls are traced to."""
        return len({test for h in self.hazards for c in h.controls for test in c.tests})


def _where(path: Iterable[object]) -> str:
    return "/".join(str(part) for part in path) or "the log"


def hazard_log_problems(data: Any, schema: dict[str, Any] | None = None) -> list[str]:
    """Everything wrong with hazard log data: schema errors first (where, what), then the
    log's own rules: unique ids, control ids under their hazard's, each stated risk the
    matrix's, and no control that makes a risk worse."""
    validator = Draft202012Validator(schema or json.loads(SCHEMA.read_text("utf-8")))
    problems = [
        f"{_where(error.absolute_path)}: {error.message}"
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    ]
    if problems:
        return problems
    seen: set[str] = set()
    for hazard in data["hazards"]:
        ids = [hazard["id"], *(c["id"] for c in hazard["controls"])]
        problems += [f"{i}: the id is used twice" for i in ids if i in seen]
        seen.update(ids)
        problems += [
            f"{c['id']}: a control of {hazard['id']} must be numbered {hazard['id']}-C…"
            for c in hazard["controls"]
            if not c["id"].startswith(hazard["id"] + "-C")
        ]
        for moment in ("before", "after"):
            rating = hazard[moment]
            expected = risk_of(Severity(rating["severity"]), Likelihood(rating["likelihood"]))
            if rating["risk"] != expected:
                problems.append(
                    f"{hazard['id']} {moment}: {rating['severity']} at {rating['likelihood']} "
                    f"likelihood is risk {expected}, not {rating['risk']}"
                )
        if hazard["after"]["risk"] > hazard["before"]["risk"]:
            problems.append(f"{hazard['id']}: the risk after its controls is higher than before")
    return problems


def _rating(data: dict[str, Any]) -> Rating:
    return Rating(Severity(data["severity"]), Likelihood(data["likelihood"]), data["risk"])


def parse_hazard_log(data: Any) -> HazardLog:
    """The hazard log from its JSON data; HazardLogError if the data is not a valid log."""
    problems = hazard_log_problems(data)
    if problems:
        raise HazardLogError(problems)
    return HazardLog(
        title=data["title"],
        system=data["system"],
        standard=data["standard"],
        matrix=data["matrix"],
        hazards=tuple(
            Hazard(
                id=h["id"],
                title=h["title"],
                hazard=h["hazard"],
                cause=h["cause"],
                effect=h["effect"],
                before=_rating(h["before"]),
                controls=tuple(
                    Control(
                        id=c["id"],
                        text=c["control"],
                        tests=tuple(c.get("tests", ())),
                        procedure=c.get("procedure", ""),
                    )
                    for c in h["controls"]
                ),
                after=_rating(h["after"]),
                residual=h["residual"],
            )
            for h in data["hazards"]
        ),
    )


@cache
def hazard_log(path: Path = HAZARDS) -> HazardLog:
    """The hazard log the software ships with."""
    return parse_hazard_log(json.loads(path.read_text("utf-8")))


@cache
def intended_use(path: Path = INTENDED_USE) -> str:
    """The intended-use statement, as Markdown."""
    return path.read_text("utf-8")


def software_version() -> str:
    """The installed package's version ("unknown" when run from a bare checkout)."""
    try:
        return version("clinic")
    except PackageNotFoundError:
        return "unknown"
