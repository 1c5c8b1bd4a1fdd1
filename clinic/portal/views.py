"""Patient portal pages. The patient always comes from the session, never from the URL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from flask import Blueprint, abort, render_template
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.alerts.services import report_to_discuss
from clinic.audit.log import audited, own_patient
from clinic.core.clock import clinic_today
from clinic.core.downloads import pdf_attachment
from clinic.domain.adherence import Tally, tally_between, week_start
from clinic.models import Patient, Protocol, Role
from clinic.models.types import utcnow
from clinic.monitoring.evidence import schedule_of
from clinic.monitoring.services import load_sessions
from clinic.patients.queries import (
    OwnRecord,
    get_own_patient_record,
    own_record_and_summary,
    own_record_version_and_plan,
)
from clinic.portal import words
from clinic.portal.today import today_page
from clinic.protocols.prescriptions import Prescription, prescription_on
from clinic.protocols.queries import History, open_protocol
from clinic.reporting.instructions import file_name, instruction_sheet_pdf, sheet_language

bp = Blueprint("portal", __name__, url_prefix="/diary")

patients_only = roles(Role.PATIENT)

bp.add_app_template_filter(words.opening_hours)
bp.add_app_template_global(words.next_opening)


def own_record_or_404() -> Patient:
    """The signed-in patient's record; 404 if the login is not linked to one."""
    patient = get_own_patient_record(current_user)
    if patient is None:
        abort(404)
    return patient


def own_record_version_and_plan_or_404() -> tuple[Patient, int | None, Protocol | None]:
    """The signed-in patient's record as committed now, its summary's version and its open
    protocol read with it (see `own_record_version_and_plan`); 404 if the login is not
    linked to one."""
    found = own_record_version_and_plan(current_user)
    if found is None:
        abort(404)
    return found


def own_record_with_summary() -> OwnRecord:
    """The signed-in patient's record, its summary's version, the open protocol the
    summary names and the clinic's instruments' revision, in one statement (see
    `own_record_and_summary`): for pages kept under those; 404 if the login is not linked
    to a record."""
    found = own_record_and_summary(current_user)
    if found is None:
        abort(404)
    return found


def current_prescription(patient: Patient, today: date | None = None) -> Prescription | None:
    """The patient's plan as it stands on `today` (the clinic's today unless given)."""
    protocol = open_protocol(patient.id, patient.clinic_id, load=History.RULES)
    return None if protocol is None else prescription_of(patient, protocol, today)


def prescription_of(
    patient: Patient, protocol: Protocol, today: date | None = None
) -> Prescription:
    """What `protocol`, the patient's open one loaded with `History.RULES`, prescribes on
    `today` (the clinic's today unless given)."""
    # The protocol is this patient's (the query says so): its safety rules read the
    # patient, who is loaded already, so not loaded again (the relationship is on the
    # patient and clinic, which the session's identity map cannot answer).
    set_committed_value(protocol, "patient", patient)
    return prescription_on(protocol, today or clinic_today(patient.clinic.timezone))


@bp.get("/")
@patients_only
@audited("portal.home", patient=own_patient)
def home() -> str:
    """Today: what to do now (the current stage in plain words), how many sessions are done
    today and this week against the plan, any questionnaire from the clinic ready to
    answer, and who to contact; after a report that needs review (today's, or one the
    clinic has not acknowledged yet), a reminder to speak to the clinic before the next
    session instead of the call to log one."""
    own = own_record_with_summary()
    patient = own.patient
    today = clinic_today(patient.clinic.timezone)
    return render_template(
        "portal/home.html", content=today_page(own, today, partial(_sessions_part, patient, today))
    )


def _sessions_part(patient: Patient, today: date) -> Markup:
    """Today's "Your sessions" article: the stage in plain words, the sessions done today
    and this week, and after a report that needs review (today's, or one the clinic has
    not acknowledged yet), the reminder to speak to the clinic first."""
    prescription = current_prescription(patient, today)
    counts = None
    if prescription is not None and prescription.state is not None:
        counts = sessions_done(patient, prescription)
    html = render_template(
        "portal/_today_sessions.html",
        patient=patient,
        prescription=prescription,
        counts=counts,
        today=today,
        reported_on=report_to_discuss(patient, utcnow()),
    )
    # Safe: the output of an autoescaped template, marked so the page does not escape it again.
    return Markup(html)  # noqa: S704


@dataclass(frozen=True)
class Counts:
    """The home page's figures: today's (for a stage of "N a day") and this week's."""

    today: Tally
    week: Tally
    daily: bool


def sessions_done(patient: Patient, prescription: Prescription) -> Counts:
    """Sessions done today and this week (Monday first) against the plan, by the adherence
    rules (`tally_between`): whole sessions with the prescribed size, never more than the
    days prescribe (days before the start or paused prescribe nothing), with any extra
    sessions and those that do not count kept apart."""
    today = prescription.day
    monday = week_start(today)
    sunday = monday + timedelta(days=6)
    schedule = schedule_of(prescription.protocol)
    entries = load_sessions(patient.clinic_id, [patient.id], monday, sunday).get(patient.id, [])
    pct = patient.clinic.completion_pct
    since = patient.diary_since  # the week the diary began counts from that day
    return Counts(
        today=tally_between(schedule, entries, today, today, pct, diary_since=since),
        week=tally_between(schedule, entries, monday, sunday, pct, diary_since=since),
        daily=prescription.stage.period.is_daily,
    )


def no_plan_page() -> tuple[str, int]:
    """Not found, said calmly: the clinician has not set up a plan here yet."""
    return render_template(
        "errors/error.html",
        code=404,
        title=gettext("No session plan yet"),
        detail=gettext(
            "Your clinician has not set up your session plan here yet. Until they do, "
            "follow what you agreed at your last appointment."
        ),
    ), 404


@bp.get("/plan")
@patients_only
@audited("portal.plan", patient=own_patient)
def plan() -> str | tuple[str, int]:
    """The whole plan, stage by stage, with the safety guidance (printable)."""
    patient = own_record_or_404()
    prescription = current_prescription(patient)
    if prescription is None:
        return no_plan_page()
    return render_template(
        "portal/plan.html", patient=patient, prescription=prescription, clinic=patient.clinic
    )


@bp.get("/plan.pdf")
@patients_only
@audited("portal.plan_pdf", patient=own_patient)
def plan_pdf() -> Response | tuple[str, int]:
    """The signed-in patient's own current plan as a PDF to keep or print, in their
    language (neutral name)."""
    patient = own_record_or_404()
    prescription = current_prescription(patient)
    if prescription is None:
        return no_plan_page()
    code = sheet_language(patient)
    pdf = instruction_sheet_pdf(prescription, patient.clinic, prescription.day, code)
    return pdf_attachment(pdf, file_name(code))


@bp.get("/safety")
@patients_only
@audited("portal.safety", patient=own_patient)
def safety() -> str:
    """Staying safe: discomfort versus pain, bleeding, a device that will not come out."""
    patient = own_record_or_404()
    return render_template(
        "portal/safety.html", clinic=patient.clinic, prescription=current_prescription(patient)
    )
