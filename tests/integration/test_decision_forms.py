"""Decision forms (advance, hold, step back, pause, resume, complete): one behaviour whether
the decision follows the system's suggestion or departs from it, a hold that proposes the
next review date, and every decision going back to the page it was started from, never
anywhere else."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from clinic.core.clock import clinic_today
from clinic.domain.progression import Suggestion
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import AuditEvent, Patient, Protocol
from tests.support.auth import act_as
from tests.support.diaries import add_entries, refresh
from tests.support.forms import form_values
from tests.support.html import forms_in
from tests.support.protocols import start_plan
from tests.support.world import World

ZONE = "Europe/London"


def today() -> date:
    return clinic_today(ZONE)


@pytest.fixture
def ready(app: Flask, world: World, client) -> str:
    """The world's first patient 16 days at stage 1 with a comfortable session every day:
    the rules suggest advancing. Signed in as their clinician; returns the protocol's
    URL."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=16)
    add_entries(app, protocol_id, world.patient, range(14), pain=(2, 1))
    refresh(app, world.clinic_a)
    act_as(client, world.clinician.id)
    return f"/patients/{world.patient.patient_id}/protocol/{protocol_id}"


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return unescape(response.get_data(as_text=True))


def decision_form(html: str):
    """The page's decision form (the sign-out form comes first)."""
    return forms_in(html)[1]


def last_event(app: Flask, world: World):
    with app.app_context():
        protocol = db.session.scalars(
            select(Protocol).where(Protocol.patient_id == world.patient.patient_id)
        ).one()
        return protocol.events[-1]


def review_on(app: Flask, world: World) -> date | None:
    with app.app_context():
        return db.session.get(Patient, world.patient.patient_id).review_on


def test_following_and_overriding_open_the_same_form(client, ready: str) -> None:
    """Advancing (suggested) and stepping back (not) show the same fields, the same button
    and the suggestion as context; only the reason's label says whether it is needed."""
    advance, step_back = page(client, ready + "/advance"), page(client, ready + "/step-back")
    for html in (advance, step_back):
        assert "The system suggests: Advance" in html
        assert "Record the decision" in html
    assert decision_form(advance).names == decision_form(step_back).names
    assert [n for n in decision_form(advance).names if n != "csrf_token"] == [
        "lock_version",
        "next",
        "effective_on",
        "reason",
    ]
    assert re.search(r'for="reason">Reason <span class="optional">\(optional\)', advance)
    assert not re.search(r'for="reason">Reason <span class="optional">', step_back)


def test_a_decision_page_is_titled_by_what_it_asks_not_what_is_done(client, ready: str) -> None:
    """Before anything is saved, the tab reads "Move up a stage", never the history's
    "Moved up a stage" (found by a walk)."""
    advance = page(client, ready + "/advance")
    title = advance.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.startswith("Move up a stage · ")


def test_following_the_suggestion_records_its_evidence_as_the_reason(
    app: Flask, client, world: World, ready: str
) -> None:
    """A reason left empty on the suggested decision: the evidence is kept as its reason;
    a reason written is kept as written. Either way the flash and the audit are the same."""
    values = form_values(page(client, ready + "/advance"))
    response = client.post(ready + "/advance", data=values)
    assert response.status_code == 302
    event = last_event(app, world)
    assert (event.kind, event.suggested) == (EventKind.ADVANCE, Suggestion.ADVANCE)
    assert event.reason.startswith("As suggested: pain during and after ≤ 3")
    assert "Recorded: moved up a stage." in page(client, response.headers["Location"])
    with app.app_context():
        (audit,) = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "protocol.change")
        ).all()
        assert audit.detail == '{"kind": "advance"}'


def test_overriding_needs_a_reason_and_so_does_every_decision_without_a_suggestion(
    app: Flask, client, world: World, ready: str
) -> None:
    """Stepping back when advancing is suggested, pausing, completing: an empty reason is
    refused in plain words, what was typed stays, and nothing is saved."""
    before = last_event(app, world).id
    for slug, message in (
        ("step-back", "Say why you decided otherwise: the system suggested advance."),
        ("pause", "Give the reason."),
        ("complete", "Give the reason."),
    ):
        values = form_values(page(client, f"{ready}/{slug}")) | {"effective_on": "2026-01-0x"}
        refused = client.post(f"{ready}/{slug}", data=values)
        html = unescape(refused.get_data(as_text=True))
        assert message in html, slug
        assert 'value="2026-01-0x"' in html, slug  # the typed date kept, with its own error
        assert "Enter a real date" in html, slug
    assert last_event(app, world).id == before


def test_hold_proposes_a_review_in_two_weeks_and_sets_it(
    app: Flask, client, world: World, ready: str
) -> None:
    """The hold form offers "Review on", two weeks ahead; saved, it becomes the patient's
    next review date, audited as a change to the record, shown on the record and the
    timeline. Cleared, the review date stays as it was."""
    html = page(client, ready + "/hold")
    proposed = today() + timedelta(days=14)
    values = form_values(html)
    assert values["review_on"] == proposed.isoformat()
    assert "Review on" in html and "(optional)" in html
    values["reason"] = "Two more weeks at this size."
    response = client.post(ready + "/hold", data=values)
    assert response.status_code == 302
    assert review_on(app, world) == proposed
    landed = page(client, response.headers["Location"])
    assert f"Next review: {proposed.day} {proposed:%b %Y}." in landed
    with app.app_context():
        (audit,) = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "patient.update")
        ).all()
        assert audit.detail == '{"fields": ["review_on"]}'
    patient_id = world.patient.patient_id
    for shown in (f"/patients/{patient_id}", f"/patients/{patient_id}/timeline"):
        assert f"{proposed.day} {proposed:%b %Y}" in page(client, shown)

    values = form_values(page(client, ready + "/hold")) | {"review_on": "", "reason": "Again."}
    assert client.post(ready + "/hold", data=values).status_code == 302
    assert review_on(app, world) == proposed
    assert last_event(app, world).reason == "Again."


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("yesterday", "The review date has passed: choose today or a later day."),
        ("next year", "Choose a review date within a year, on or before"),
        ("2026-02-30", "Enter a real date, with day, month and year, or leave it empty."),
        ("soon", "Enter a real date, with day, month and year, or leave it empty."),
    ],
)
def test_the_review_date_is_checked(
    app: Flask, client, world: World, ready: str, typed: str, message: str
) -> None:
    """A review date in the past, more than a year ahead, or not a date: said in plain
    words next to it, the reason typed kept, nothing saved."""
    value = {
        "yesterday": (today() - timedelta(days=1)).isoformat(),
        "next year": (today() + timedelta(days=367)).isoformat(),
    }.get(typed, typed)
    before = last_event(app, world).id
    values = form_values(page(client, ready + "/hold")) | {
        "review_on": value,
        "reason": "Kept as typed.",
    }
    response = client.post(ready + "/hold", data=values)
    html = unescape(response.get_data(as_text=True))
    assert message in html
    assert f'value="{value}"' in html and "Kept as typed.</textarea>" in html
    assert last_event(app, world).id == before and review_on(app, world) is None


def test_today_and_a_year_ahead_are_accepted_review_dates(
    app: Flask, client, world: World, ready: str
) -> None:
    """The edges of the range are inside it."""
    for day in (today(), today() + timedelta(days=365)):
        values = form_values(page(client, ready + "/hold")) | {
            "review_on": day.isoformat(),
            "reason": "Held.",
        }
        assert client.post(ready + "/hold", data=values).status_code == 302
        assert review_on(app, world) == day


def test_decisions_return_to_the_page_they_were_started_from(
    app: Flask, client, world: World, ready: str
) -> None:
    """The timeline's suggestion, the protocol page and the dashboard each link to the
    decision with their own address; the decision returns there (the period shown, the
    dashboard's filters and the anchor kept). Without one it returns to the protocol."""
    patient_id = world.patient.patient_id
    timeline = page(client, f"/patients/{patient_id}/timeline?weeks=26")
    link = re.search(r'href="([^"]*/advance\?next=[^"]*)"', timeline).group(1)
    assert parse_qs(urlsplit(link).query)["next"] == [
        f"/patients/{patient_id}/timeline?weeks=26#suggestion-heading"
    ]
    protocol_page = page(client, f"/patients/{patient_id}/protocol/")
    hold_link = re.search(r'href="([^"]*/hold\?next=[^"]*)"', protocol_page).group(1)
    dashboard = page(client, "/dashboard/?who=all&flag=ready")
    dashboard_link = re.search(r'href="([^"]*/advance\?next=[^"]*)"', dashboard).group(1)

    expected = {
        link: f"/patients/{patient_id}/timeline?weeks=26#suggestion-heading",
        hold_link: f"/patients/{patient_id}/protocol/#actions-heading",
        dashboard_link: "/dashboard/?who=all&flag=ready",
    }
    for started_from, returns_to in expected.items():
        values = form_values(page(client, started_from)) | {"reason": "Decided."}
        response = client.post(started_from.split("?")[0], data=values)
        assert response.status_code == 302, started_from
        assert response.headers["Location"] == returns_to
    values = form_values(page(client, ready + "/hold")) | {"reason": "Decided."}
    response = client.post(ready + "/hold", data=values)
    assert response.headers["Location"] == f"/patients/{patient_id}/protocol/"


def test_a_return_address_off_this_patients_chart_is_ignored(
    app: Flask, client, world: World, ready: str
) -> None:
    """Never an open redirect: another site (in every spelling), another patient's or
    another clinic's chart, a page not on the list, junk: the decision returns to this
    patient's protocol instead, and the "back" link never shows the address given."""
    own = f"/patients/{world.patient.patient_id}/protocol/"
    for target in (
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "///evil.example",
        "javascript:alert(1)",
        f"/patients/{world.other_patient.patient_id}/timeline",
        f"/patients/{world.other_clinic_patient.patient_id}/protocol/",
        "/admin/staff",
        "/patients/x/timeline",
        "/" + "a" * 3000,
    ):
        html = page(client, f"{ready}/hold?next={quote(target, safe='')}")
        assert 'href="' + target not in html, target
        values = form_values(html) | {"reason": "Held."}
        response = client.post(ready + "/hold", data=values)
        assert response.status_code == 302, target
        assert response.headers["Location"] == own, target


def test_an_error_keeps_everything_typed_and_where_to_return(
    app: Flask, client, world: World, ready: str
) -> None:
    """A form sent back with an error keeps the date, the reason, the review date and the
    page to return to."""
    back = f"/patients/{world.patient.patient_id}/timeline#suggestion-heading"
    values = form_values(page(client, f"{ready}/hold?next={quote(back, safe='')}"))
    values |= {"effective_on": "", "reason": "Typed reason.", "review_on": "2099-01-01"}
    html = unescape(client.post(ready + "/hold", data=values).get_data(as_text=True))
    kept = form_values(html)
    assert (kept["reason"], kept["review_on"], kept["next"]) == (
        "Typed reason.",
        "2099-01-01",
        back,
    )
    assert "Enter the date." in html and f'href="{back}"' in html
