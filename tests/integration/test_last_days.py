"""The same days are "the last N days" on every page that names them: until today is
logged, they are the N whole days ending yesterday (clinic.domain.adherence.last_days),
for adherence and mean pain alike, on the dashboard, the timeline (its figures and the
suggestion's reasons), the MDT pack, the progress report and the letter built from it.

The patient here is 40 days into a daily plan (one session of 10 minutes a day at stage 1)
and logged a session on each of the 13 days before today, none today: the last 28 days
hold 13 of 28 sessions (46%), the last 7 days 7 of 7. The session 7 days ago had pain 0,
the six after it pain 5: the last 7 days' mean pain is 30 / 7 = 4.3, not the 5.0 of the
six days logged since (which would leave the first of the 7 days out)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from html import unescape

import pytest
from flask import Flask, render_template
from pypdf import PdfReader

from clinic.core.clock import clinic_today
from clinic.core.templating import day_month, short_date
from clinic.extensions import db
from clinic.letters.compose import programme_text
from clinic.models import Patient, Protocol
from clinic.reporting.progress import ProgressReport, build_progress_report
from tests.support.auth import act_as
from tests.support.diaries import ZONE, add_entries, refresh
from tests.support.mdt import make_pack
from tests.support.protocols import start_plan
from tests.support.world import World

STARTED_DAYS_AGO = 40


@pytest.fixture
def protocol_id(app: Flask, world: World) -> int:
    """The patient described in the module docstring; the clinic's summaries refreshed."""
    protocol = start_plan(
        app, world.patient.patient_id, world.clinician.id, started_days_ago=STARTED_DAYS_AGO
    )
    add_entries(app, protocol, world.patient, range(8, 14), pain=(2, 1))
    add_entries(app, protocol, world.patient, [7], pain=(0, 0))
    add_entries(app, protocol, world.patient, range(1, 7), pain=(5, 4))
    refresh(app, world.clinic_a)
    return protocol


def text(html: str) -> str:
    """A page's words, tags and runs of white space taken out."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def timeline_text(client, world: World) -> str:
    act_as(client, world.clinician.id)
    response = client.get(f"/patients/{world.patient.patient_id}/timeline")
    assert response.status_code == 200
    return text(response.get_data(as_text=True))


def test_the_timeline_and_the_dashboard_count_the_last_28_whole_days(
    app: Flask, client, world: World, protocol_id: int
) -> None:
    """Today not logged yet: the last 28 days are the 28 days ending yesterday, 13 of 28
    sessions, on the timeline and on the dashboard."""
    page = timeline_text(client, world)
    assert "Adherence, last 28 days 46% (13 of 28 sessions)" in page
    assert "Adherence, last 7 days 100% (7 of 7 sessions)" in page
    dashboard = text(client.get("/dashboard/").get_data(as_text=True))
    assert "100% 46%" in dashboard


def test_the_mdt_pack_reads_the_same_28_days_as_the_timeline(
    app: Flask, client, world: World, protocol_id: int
) -> None:
    """The pack made today says what the timeline and the dashboard say, 13 of 28
    sessions, not 13 of 27 (a window cut to the days ending yesterday)."""
    act_as(client, world.clinician.id)
    pdf = make_pack(client, [world.patient.patient_id], clinic_today(ZONE))
    reader = PdfReader(io.BytesIO(pdf.get_data()))
    page = " ".join(reader.pages[1].extract_text().split())
    assert "Adherence, last 28 days: 46% (13 of 28 sessions)." in page
    assert "adherence at this stage, last 28 days: 46%" in page


def test_the_suggestions_adherence_covers_28_days_when_the_stage_is_older(
    app: Flask, client, world: World, protocol_id: int
) -> None:
    """Forty days at the stage: the suggestion's adherence covers the last 28 days, as
    the figure beside it does, not 27."""
    page = timeline_text(client, world)
    assert "adherence at this stage, last 28 days: 46%" in page
    assert "last 27 days" not in page


def test_both_figures_labelled_last_7_days_cover_the_same_days(
    app: Flask, client, world: World, protocol_id: int
) -> None:
    """Adherence and mean pain "last 7 days" both cover the 7 days ending yesterday (today
    not logged): the mean takes in the session of 7 days ago (pain 0), and "7 days before"
    is the week before that."""
    page = timeline_text(client, world)
    assert "Adherence, last 7 days 100% (7 of 7 sessions)" in page
    assert "Mean pain during, last 7 days 4.3 (7 days before: 2.0)" in page


def report_and_letter(
    app: Flask, world: World, protocol_id: int, first: date, last: date
) -> tuple[ProgressReport, str, str]:
    """The patient's progress report for `first` to `last`, its page's text and the
    programme paragraph a letter builds from it."""
    with app.test_request_context():
        patient = db.session.get_one(Patient, world.patient.patient_id)
        protocol = db.session.get_one(Protocol, protocol_id)
        report = build_progress_report(patient, protocol, first, last, author=None)
        html = text(render_template("reports/progress.html", report=report))
        return report, html, programme_text(report)


def test_the_report_states_the_days_its_adherence_counts(
    app: Flask, client, world: World, protocol_id: int
) -> None:
    """A report made today for a period ending today counts up to yesterday (today is not
    logged): its summary names those days and says that today was not counted, and the
    letter built from it says the same."""
    today = clinic_today(ZONE)
    first = today - timedelta(days=STARTED_DAYS_AGO)
    report, html, letter = report_and_letter(app, world, protocol_id, first, today)
    assert (report.adherence.completed, report.adherence.prescribed) == (13, 40)
    yesterday = today - timedelta(days=1)
    assert (
        f"Adherence over the period ({day_month(first)} to {short_date(yesterday)};"
        f" {short_date(today)} not counted: nothing was logged that day before the report"
        " was made): 32% (13 of 40 sessions)."
    ) in html
    assert (
        f"Adherence from {short_date(first)} to {short_date(yesterday)}"
        f" ({short_date(today)} not counted: nothing was logged that day before this was"
        " written): 32% (13 of 40 prescribed sessions done)."
    ) in letter


def test_a_report_of_today_alone_says_nothing_is_counted_yet(
    app: Flask, client, world: World, protocol_id: int
) -> None:
    """A period of today alone, made before today is logged: no figure, and no claim that
    nothing was prescribed (today prescribes a session); it is simply not counted yet."""
    today = clinic_today(ZONE)
    _, html, letter = report_and_letter(app, world, protocol_id, today, today)
    assert (
        f"Adherence over the period ({short_date(today)} not counted: nothing was logged"
        " that day before the report was made): not counted yet."
    ) in html
    assert "no sessions were prescribed" not in html
    assert (
        f"Adherence on {short_date(today)}: not counted yet (nothing was logged that day"
        " before this was written)."
    ) in letter
