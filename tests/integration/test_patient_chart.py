"""A patient's chart is one place: every page about the patient shows the same header and
the same section navigation, with the page's own section marked, and a link to every
section the signed-in role may open (one click from any page to any other)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask, render_template, url_for
from flask_login import login_user

from clinic.access import AccessPolicy
from clinic.core.clock import whole_years
from clinic.core.navigation import CHART_SECTIONS, chart_sections_for
from clinic.extensions import db
from clinic.models import Patient, Role, User
from clinic.patients.queries import get_patient_or_404
from tests.support import access_matrix as matrix
from tests.support.access_matrix import url_of
from tests.support.auth import act_as
from tests.support.queries import count_queries
from tests.support.routes import NOT_PAGES
from tests.support.world import World

CHART_NAV = re.compile(r'<nav [^>]*aria-label="Patient chart">(.*?)</nav>', re.S)
CHART_LINK = re.compile(r'<li><a href="([^"]+)"( aria-current="page")?>([^<]+)</a></li>')

# Every page of the chart, with the section it belongs to (sub-pages count as theirs).
PAGES = {
    "timeline.show": "Overview",
    "protocols.current": "Protocol",
    "protocols.detail": "Protocol",
    "protocols.start": "Protocol",
    "protocols.revise": "Protocol",
    "protocols.change": "Protocol",
    "measures.index": "Outcome measures",
    "measures.end": "Outcome measures",
    "measures.response": "Outcome measures",
    "notes.index": "Notes",
    "notes.edit": "Notes",
    "reporting.index": "Reports",
    "reporting.new": "Reports",
    "letters.index": "Letters",
    "letters.new": "Letters",
    "letters.show": "Letters",
    "patients.show": "Record details",
    "patients.edit": "Record details",
    "audit.patient_history": "Access history",
}
# Pages about one patient that are not part of the chart: the printable instruction sheet
# handed to the patient (it must print without the clinic's navigation), and the portal
# invitation page (the link shown once to print or read out; one page for patients and
# colleagues alike).
NOT_CHART = {"protocols.instructions", "patients.invitation"}


def chart_nav(html: str) -> list[tuple[str, str, bool]]:
    """The chart navigation's links: (label, href, marked current); [] if there is none."""
    found = CHART_NAV.search(html)
    if found is None:
        return []
    return [(label, href, bool(current)) for href, current, label in CHART_LINK.findall(found[1])]


def section_links(app: Flask, patient_id: int) -> list[tuple[str, str]]:
    with app.test_request_context():
        return [(s.label, url_for(s.endpoint, patient_id=patient_id)) for s in CHART_SECTIONS]


@pytest.mark.parametrize(("endpoint", "section"), sorted(PAGES.items()))
def test_each_chart_page_links_every_section_and_marks_its_own(
    app: Flask, client, world: World, targets: dict, endpoint: str, section: str
) -> None:
    """The page shows the patient's name as its heading and the chart navigation: a link to
    every section in the chart's order, exactly the page's own section marked current."""
    act_as(client, world.clinician.id)
    response = client.get(url_of(app, endpoint, targets))
    assert response.status_code == 200, endpoint
    html = response.get_data(as_text=True)
    shown = chart_nav(html)
    assert [(label, href) for label, href, _ in shown] == section_links(
        app, world.patient.patient_id
    )
    assert [label for label, _, current in shown if current] == [section]
    assert html.count("<h1") == 1 and f"<h1>{world.patient.name}</h1>" in html


def test_every_page_about_a_patient_is_in_the_chart(app: Flask, targets: dict) -> None:
    """Each clinician page under /patients/<id>/ is listed above (so a page added later
    gets the chart, or is named here as deliberately outside it)."""
    pages = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and "patient_id" in rule.arguments
        and rule.rule.startswith("/patients/")
        and not NOT_PAGES.search(rule.endpoint)
        and matrix.CLINICIAN in matrix.MATRIX.get((rule.endpoint, "GET"), set())
    }
    assert pages - NOT_CHART == set(PAGES)


def test_the_header_says_who_the_patient_is_and_links_open_red_flags(
    app: Flask, client, world: World, targets: dict
) -> None:
    """Clinic identifier, date of birth with the age, status, indication and the open red
    flags, counted, with a link to them on the Overview (the matrix's world has one)."""
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        facts = (
            patient.clinic_identifier,
            patient.status.label,
            patient.indication_label,
            f"(age {whole_years(patient.date_of_birth, date.today())})",
        )
    act_as(client, world.clinician.id)
    html = client.get(url_of(app, "notes.index", targets)).get_data(as_text=True)
    start = html.index('<header class="patient-banner">')
    header = html[start : html.index("</header>", start)]
    assert [fact for fact in facts if fact not in header] == [], header
    flags = f"/patients/{world.patient.patient_id}/timeline#flags-heading"
    assert f'<a class="flag-text" href="{flags}"><strong>1 urgent red flag</strong>' in header


def test_the_header_says_when_no_red_flag_is_open(client, world: World) -> None:
    """No open red flag: the header says so, with no link."""
    act_as(client, world.clinician.id)
    html = client.get(f"/patients/{world.patient.patient_id}").get_data(as_text=True)
    assert "<dt>Red flags</dt><dd>None open</dd>" in html


def test_the_patients_list_opens_the_overview(client, world: World) -> None:
    """A name in the patients list opens the patient's chart at its Overview."""
    act_as(client, world.clinician.id)
    html = client.get("/patients/").get_data(as_text=True)
    pid = world.patient.patient_id
    assert f'<a href="/patients/{pid}/timeline">{world.patient.name}</a>' in html
    assert f'href="/patients/{pid}"' not in html


def test_a_section_the_role_may_not_open_is_not_linked(
    app: Flask, client, world: World, targets: dict, monkeypatch
) -> None:
    """The navigation follows each section page's own access policy: were the access
    history for administrators only, a clinician's chart would not link to it."""
    admins_only = AccessPolicy(public=False, roles=frozenset({Role.ADMIN}))
    view = app.view_functions["audit.patient_history"]
    monkeypatch.setattr(view, "access_policy", admins_only)
    act_as(client, world.clinician.id)
    html = client.get(url_of(app, "notes.index", targets)).get_data(as_text=True)
    labels = [label for label, _, _ in chart_nav(html)]
    assert "Access history" not in labels
    assert labels == [s.label for s in CHART_SECTIONS if s.label != "Access history"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PATIENT])
def test_roles_without_the_chart_get_no_section(app: Flask, role: Role) -> None:
    """Administrators and patients may open none of the chart's sections today, so none
    would be offered to them."""
    with app.app_context():
        assert chart_sections_for(role) == ()


def test_the_header_and_navigation_send_no_query(app: Flask, world: World) -> None:
    """With the patient as the pages load it, the chart's header and navigation render
    without a single query of their own (the open red flags come with the patient)."""
    with app.test_request_context(f"/patients/{world.patient.patient_id}/reports"):
        user = db.session.get(User, world.clinician.id)
        login_user(user)
        patient = get_patient_or_404(world.patient.patient_id, world.clinic_a)
        assert user.clinic is not None  # the signed-in account's clinic, as every page has it
        with count_queries(db.engine) as statements:
            html = render_template("patients/_chart_layout.html", patient=patient)
        assert 'aria-label="Patient chart"' in html
        assert statements == []


@pytest.mark.parametrize("on", [date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 1)])
def test_whole_years_count_a_birthday_only_once_it_has_come(on: date) -> None:
    """Born 28 Feb 2000: 25 the day before the birthday, 26 on it and after."""
    assert whole_years(date(2000, 2, 28), on) == (25 if on < date(2026, 2, 28) else 26)
