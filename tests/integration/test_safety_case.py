"""The clinical safety case (docs/safety/): the hazard log is valid data whose every control
is proven by tests that exist (or marked manual, with its procedure), it covers the hazards
issue 16 names, and the app shows it: "About this software" to everyone, the log to
administrators as a page and as a PDF to sign.

Traced tests are found by reading the suite's source (tests/support/node_ids.py), in well
under a second, rather than by collecting it with pytest.
"""

from __future__ import annotations

import copy
import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from clinic.safety import markdown
from clinic.safety.case import HAZARDS, INTENDED_USE, hazard_log, hazard_log_problems
from tests.support.auth import act_as
from tests.support.node_ids import ROOT, node_ids
from tests.support.reports import read_pdf
from tests.support.world import World

ABOUT = "/about"
LOG = "/admin/safety-case"
PDF = "/admin/safety-case.pdf"

# The hazards issue 16 asks the log to cover, as the log titles them.
REQUIRED = [
    "Missed red flag",
    "Delayed notification",
    "Wrong patient",
    "Wrong size prescribed",
    "Unsafe ADVANCE",
    "Stale dashboard",
    "Lost entry",
    "Misleading adherence figure",
    "Wrong questionnaire score",
    "Data shown to the wrong person",
    "Report with wrong period",
]


def log_data() -> dict[str, Any]:
    return json.loads(HAZARDS.read_text("utf-8"))


def untraced(data: dict[str, Any], known: set[str]) -> list[str]:
    """'control: test' for each traced test that is not in `known`."""
    return [
        f"{control['id']}: {test}"
        for hazard in data["hazards"]
        for control in hazard["controls"]
        for test in control.get("tests", [])
        if test not in known
    ]


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --- The data -------------------------------------------------------------------------


def test_the_hazard_log_meets_its_schema_and_its_rules() -> None:
    """hazards.json validates against hazards.schema.json; ids are unique, each control is
    numbered under its hazard, each stated risk is the DCB0129 matrix's for its severity
    and likelihood, and no risk is higher after its controls than before."""
    assert hazard_log_problems(log_data()) == []
    assert len(hazard_log().hazards) >= len(REQUIRED)


def test_every_traced_test_exists() -> None:
    """Every node id a control is traced to names a test function in the suite today (a
    renamed or deleted test fails here, naming the control)."""
    assert untraced(log_data(), node_ids()) == []


def test_every_hazard_has_controls_and_manual_ones_say_how() -> None:
    """Each hazard has at least one control; a control is either proven by tests or marked
    manual with the procedure people follow, never both and never neither; each hazard
    states its residual risk."""
    for hazard in hazard_log().hazards:
        assert hazard.controls, hazard.id
        assert hazard.residual.strip(), hazard.id
        for control in hazard.controls:
            assert bool(control.tests) != bool(control.procedure), control.id


def test_the_log_covers_the_hazards_the_issue_names() -> None:
    """Missed red flag, delayed notification, wrong patient, wrong size, unsafe ADVANCE,
    stale dashboard, lost entry, misleading adherence, wrong questionnaire score, data
    shown to the wrong person and report with the wrong period each have an entry."""
    titles = [hazard.title for hazard in hazard_log().hazards]
    assert [title for title in REQUIRED if title not in titles] == []


def _without_controls(data: dict) -> None:
    data["hazards"][0]["controls"] = []


def _tested_without_tests(data: dict) -> None:
    del data["hazards"][0]["controls"][0]["tests"]


def _manual_with_tests(data: dict) -> None:
    control = next(c for c in data["hazards"][0]["controls"] if c["kind"] == "manual")
    control["tests"] = ["tests/unit/test_risk.py::test_each_level_is_said_in_words"]


def _manual_without_procedure(data: dict) -> None:
    control = next(c for c in data["hazards"][0]["controls"] if c["kind"] == "manual")
    del control["procedure"]


def _wrong_risk(data: dict) -> None:
    data["hazards"][0]["before"]["risk"] = 5


def _unknown_severity(data: dict) -> None:
    data["hazards"][0]["after"]["severity"] = "Severe"


def _worse_after(data: dict) -> None:
    data["hazards"][0]["after"] = {"severity": "Catastrophic", "likelihood": "Very high", "risk": 5}


def _twice_the_same_id(data: dict) -> None:
    data["hazards"][1]["id"] = data["hazards"][0]["id"]


def _not_a_node_id(data: dict) -> None:
    data["hazards"][0]["controls"][0]["tests"] = ["test_alerts"]


def _no_residual(data: dict) -> None:
    del data["hazards"][0]["residual"]


@pytest.mark.parametrize(
    ("mutate", "found"),
    [
        (_without_controls, "hazards/0/controls: [] should be non-empty"),
        (_tested_without_tests, "'tests' is a required property"),
        (_manual_with_tests, "should not be valid"),
        (_manual_without_procedure, "'procedure' is a required property"),
        (_wrong_risk, "HAZ-01 before: Major at Medium likelihood is risk 3, not 5"),
        (_unknown_severity, "'Severe' is not one of"),
        (_worse_after, "HAZ-01: the risk after its controls is higher than before"),
        (_twice_the_same_id, "HAZ-01: the id is used twice"),
        (_not_a_node_id, "does not match"),
        (_no_residual, "'residual' is a required property"),
    ],
)
def test_a_broken_log_is_refused_saying_where(mutate, found: str) -> None:
    """The checks catch each way the data can break: no controls, a tested control with no
    tests, a manual one with tests or without its procedure, a risk that is not the
    matrix's, an unknown word, a risk raised by its controls, a duplicate id, a test named
    other than by its node id, no residual risk."""
    data = copy.deepcopy(log_data())
    mutate(data)
    problems = hazard_log_problems(data)
    assert any(found in problem for problem in problems), problems


def test_a_missing_traced_test_is_named() -> None:
    """A control traced to a test that does not exist is reported with the control's id;
    the test ids are read from the source, classes included."""
    data = copy.deepcopy(log_data())
    data["hazards"][2]["controls"][0]["tests"].append(
        "tests/unit/test_risk.py::test_that_was_renamed"
    )
    assert untraced(data, node_ids()) == [
        "HAZ-03-C1: tests/unit/test_risk.py::test_that_was_renamed"
    ]
    ids = node_ids()
    assert "tests/integration/test_safety_case.py::test_a_missing_traced_test_is_named" in ids
    assert "tests/unit/test_risk.py::test_the_matrix_reads_as_published" in ids


def test_node_ids_include_test_classes(tmp_path: Path) -> None:
    """A test method of a Test class has its class in its node id; helpers are no tests."""
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "tests" / "unit" / "test_x.py").write_text(
        "def helper(): pass\ndef test_a(): pass\nclass TestB:\n    def test_c(self): pass\n"
    )
    assert node_ids(tmp_path) == {
        "tests/unit/test_x.py::test_a",
        "tests/unit/test_x.py::TestB::test_c",
    }


def test_the_readme_points_to_the_safety_case() -> None:
    """The README has a section on intended use that links the statement and the log."""
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "## Intended use and clinical safety" in readme
    assert "(docs/safety/intended-use.md)" in readme and "(docs/safety/hazards.json)" in readme


# --- The pages --------------------------------------------------------------------------


@pytest.mark.parametrize("who", [None, "patient", "clinician", "admin"])
def test_about_is_open_to_everyone_under_a_neutral_title(client, world: World, who) -> None:
    """Signed out or in, in any role: the page says what the software is for and what it is
    not (no diagnosis, never moves anyone, not an emergency service, not for children
    outside a specialist service, not for recreational use), with its contraindications,
    under a title that names no therapy (patients open it too)."""
    if who:
        act_as(client, getattr(world, who).id)
    response = client.get(ABOUT)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    title = html.split("<title>")[1].split("</title>")[0]
    assert title.startswith("About this software · ")
    for word in ("dilat", "vagin", "pelvic", "anal", "sexual"):
        assert word not in title.lower()
    text = text_of(html)
    for words in (
        "It does not diagnose.",
        "It never moves anyone.",
        "It is not an emergency service.",
        "It is not for children",
        "It is not for recreational use",
        "Contraindications",
    ):
        assert words in text
    assert ("safety case" in text) == (who == "admin")


def test_about_shows_the_whole_statement(client) -> None:
    """Every heading, paragraph and list item of docs/safety/intended-use.md is on the page,
    with no Markdown left showing."""
    text = text_of(client.get(ABOUT).get_data(as_text=True))
    blocks = text_of(markdown.render(INTENDED_USE.read_text("utf-8")))
    assert blocks in text
    assert "**" not in text and "## " not in text


def test_every_page_links_to_about(client, world: World) -> None:
    """The footer links to the About page, on the sign-in page and on signed-in pages."""
    assert 'href="/about"' in client.get("/login").get_data(as_text=True)
    act_as(client, world.patient.id)
    assert 'href="/about"' in client.get("/diary/").get_data(as_text=True)


def test_the_hazard_log_page_shows_every_hazard_and_its_proof(client, world: World) -> None:
    """Administrators see every hazard with its risk in words and numbers, every control,
    every traced test id and every manual procedure, and the PDF link."""
    act_as(client, world.admin.id)
    response = client.get(LOG)
    assert response.status_code == 200
    # Test ids may wrap after "::" (<wbr>), which is no text.
    text = text_of(response.get_data(as_text=True).replace("<wbr>", ""))
    log = hazard_log()
    for hazard in log.hazards:
        assert f"{hazard.id}: {hazard.title}" in text
        assert hazard.after.words in text
        for control in hazard.controls:
            assert control.id in text
            assert all(test in text for test in control.tests)
            assert control.procedure in text
    assert "Manual (a procedure, not tested)" in text
    assert "Download the hazard log to sign (PDF)" in text


@pytest.mark.parametrize("who", ["clinician", "patient", "other_admin"])
def test_the_log_is_for_administrators_of_any_clinic_only(client, world: World, who) -> None:
    """Clinicians and patients are refused; another clinic's administrator sees the same
    log (it is the software's, not a clinic's record)."""
    act_as(client, getattr(world, who).id)
    expected = 200 if who == "other_admin" else 403
    assert client.get(LOG).status_code == expected
    assert client.get(PDF).status_code == expected


def test_signed_out_visitors_are_sent_to_sign_in(client) -> None:
    """The log is behind sign-in."""
    for url in (LOG, PDF):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_pdf_has_every_hazard_and_blank_lines_to_sign(client, world: World) -> None:
    """Read back with pypdf: a tagged PDF titled "Hazard log" on the clinic's letterhead,
    every hazard id and every control id, every traced test, and the sign-off with roles
    and blank lines only: no member of staff's name is printed."""
    act_as(client, world.admin.id)
    response = client.get(PDF)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=hazard-log.pdf"
    assert response.headers["Cache-Control"] == "no-store"
    pdf = read_pdf(response.data)
    text = pdf.text
    log = hazard_log()
    for hazard in log.hazards:
        assert f"{hazard.id}: {hazard.title}" in text
        assert all(control.id in text for control in hazard.controls)
    squashed = text.replace(" ", "")
    every_test = {test for h in log.hazards for c in h.controls for test in c.tests}
    assert [t for t in sorted(every_test) if t.replace(" ", "") not in squashed] == []
    assert re.search(r"Clinical Safety Officer: _{10,} Date: _{10,}", text)
    assert re.search(r"Clinical lead: _{10,} Date: _{10,}", text)
    assert "Signature: ____" in text and "Next review due: ____" in text
    for person in (world.admin, world.clinician, world.colleague, world.other_admin):
        assert person.name not in text
    assert "Clinic A" in text
    assert "personal health information" not in text
    assert pdf.reader.metadata.title == "Hazard log"
    assert "/StructTreeRoot" in pdf.reader.trailer["/Root"]
