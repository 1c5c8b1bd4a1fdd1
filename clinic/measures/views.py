"""Clinician pages for outcome measures: a patient's measures (assign, end, the scores with
their meaning and the change from the first score, one response in full), and the
clinic's questionnaires (the list for everyone on staff; importing and retiring for
administrators, since an import records the clinic's claim to a licence)."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.audit.log import audited
from clinic.core.clock import clinic_today
from clinic.core.forms import flash_refusal, show_refusal
from clinic.core.refusals import Refusal
from clinic.core.requests import takes_files
from clinic.domain.questionnaires import AnswerError, score, shipped_instruments
from clinic.extensions import db
from clinic.measures import answers as stored_answers
from clinic.measures.forms import (
    AssignMeasureForm,
    EndMeasureForm,
    ImportInstrumentForm,
    RetireInstrumentForm,
    licence_words,
)
from clinic.measures.instruments import available, imported, version_of
from clinic.measures.results import describe_change, format_score, series_for
from clinic.measures.schedule import occasion_label, overview, schedule_in_words
from clinic.measures.services import (
    ImportRefused,
    administrable_instruments,
    assign,
    end_assignment,
    import_instrument,
    retire_instrument,
)
from clinic.models import (
    Clinic,
    ClinicInstrument,
    MeasureAssignment,
    MeasureResponse,
    Patient,
    Role,
)
from clinic.patients.queries import get_patient_or_404

bp = Blueprint("measures", __name__, url_prefix="/patients/<int:patient_id>/measures")
instruments_bp = Blueprint("instruments", __name__, url_prefix="/questionnaires")

clinicians_only = roles(Role.CLINICIAN)
admins_only = roles(Role.ADMIN)


# ---------------------------------------------------------------------------------------
# A patient's measures


def _render_index(patient: Patient, form: AssignMeasureForm) -> str:
    zone = patient.clinic.timezone
    return render_template(
        "measures/index.html",
        patient=patient,
        form=form,
        assignments=overview(patient, clinic_today(zone)),
        series=series_for(patient.clinic_id, [patient.id], zone=zone)[patient.id],
        scoring_only=[i for i in available(patient.clinic_id).values() if not i.administrable],
        describe_change=describe_change,
        format_score=format_score,
        occasion_label=occasion_label,
    )


def _assign_form(patient: Patient, **kwargs: object) -> AssignMeasureForm:
    return AssignMeasureForm(
        instruments=administrable_instruments(patient.clinic_id),
        today=clinic_today(patient.clinic.timezone),
        **kwargs,
    )


@bp.get("")
@clinicians_only
@audited("measure.list", patient="patient_id")
def index(patient_id: int) -> str:
    """The patient's outcome measures: what is assigned and when it is due, the scores,
    and a form to assign another."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    return _render_index(patient, _assign_form(patient))


@bp.post("")
@clinicians_only
@audited(change="measure.assign", patient="patient_id")
def add(patient_id: int) -> Response | tuple[str, int]:
    """Assign a measure to the patient, once or repeating."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    form = _assign_form(patient)
    if form.validate_on_submit():
        try:
            assign(
                patient,
                form.instrument.data,
                form.cadence,
                by=current_user,
                on=form.on.data,
                every_weeks=form.every_weeks.data,
                at_discharge=form.at_discharge.data,
            )
        except Refusal as refusal:
            show_refusal(form, refusal, "instrument")
            return _render_index(patient, form), 400
        flash(_("The measure was assigned."), "success")
        return redirect(url_for("measures.index", patient_id=patient.id))
    return _render_index(patient, form), 400


def _assignment_or_404(assignment_id: int, patient: Patient) -> MeasureAssignment:
    """The patient's assignment with this id; 404 for anyone else's."""
    return db.first_or_404(
        select(MeasureAssignment).where(
            MeasureAssignment.id == assignment_id,
            MeasureAssignment.patient_id == patient.id,
            MeasureAssignment.clinic_id == patient.clinic_id,
        )
    )


@bp.route("/<int:assignment_id>/end", methods=["GET", "POST"])
@clinicians_only
@audited("measure.end_form", change="measure.end", patient="patient_id")
def end(patient_id: int, assignment_id: int) -> Response | str:
    """Stop asking the patient for a measure, after confirming; answers given stay."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    assignment = _assignment_or_404(assignment_id, patient)
    back = url_for("measures.index", patient_id=patient.id)
    if assignment.ended_at is not None:
        flash(_("This measure was already ended."), "info")
        return redirect(back)
    form = EndMeasureForm()
    if form.validate_on_submit():
        end_assignment(assignment, current_user)
        flash(_("The measure was ended. Answers already given stay on the record."), "success")
        return redirect(back)
    instrument = available(patient.clinic_id).get(assignment.instrument_key)
    return render_template(
        "measures/end.html",
        patient=patient,
        assignment=assignment,
        title=instrument.title if instrument else assignment.instrument_key,
        schedule=schedule_in_words(assignment),
        form=form,
    )


@bp.get("/responses/<int:response_id>")
@clinicians_only
@audited(
    "measure.view", patient="patient_id", object_type="measure_response", object_id="response_id"
)
def response(patient_id: int, response_id: int) -> str:
    """One submitted response in full: every question with the answer given, and its score."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    found = db.first_or_404(
        select(MeasureResponse).where(
            MeasureResponse.id == response_id,
            MeasureResponse.patient_id == patient.id,
            MeasureResponse.clinic_id == patient.clinic_id,
            # A draft is the patient's unfinished work: the clinic sees what was sent.
            MeasureResponse.submitted_at.is_not(None),
        )
    )
    instrument = version_of(patient.clinic_id, found.instrument_key, found.instrument_version)
    if instrument is None:
        abort(404)  # imports are never deleted: only a damaged database gets here
    given = stored_answers.saved_answers(found)
    # Re-scored on its own version only to say which blanks were pro-rated; the score
    # shown is the one stored at submission.
    try:
        prorated = set(score(instrument, given).prorated)
    except AnswerError:  # stored answers were checked on submission: only damaged data
        prorated = set()
    return render_template(
        "measures/response.html",
        patient=patient,
        response=found,
        instrument=instrument,
        given=given,
        prorated=prorated,
        domains=_stored_domains(found),
        format_score=format_score,
        occasion_label=occasion_label,
        zone=patient.clinic.timezone,
    )


def _stored_domains(found: MeasureResponse) -> dict[str, float | None]:
    return json.loads(found.domains or "{}")


# ---------------------------------------------------------------------------------------
# The clinic's questionnaires


def _render_instruments(form: ImportInstrumentForm | None, problems: tuple[str, ...] = ()) -> str:
    clinic_id = current_user.clinic_id
    rows = imported(clinic_id)
    in_use: dict[str, ClinicInstrument] = {}
    for row in rows:  # newest first: the first unretired import of a key is the one asked
        if row.retired_at is None:
            in_use.setdefault(row.key, row)
    return render_template(
        "measures/instruments.html",
        form=form,
        problems=problems,
        current=available(clinic_id),
        in_use=in_use,
        shipped=shipped_instruments(),
        imports=rows,
        zone=current_user.clinic.timezone,
        retire_form=RetireInstrumentForm() if form is not None else None,
        licence_words=licence_words,
    )


@instruments_bp.get("/", endpoint="index")
@roles(Role.CLINICIAN, Role.ADMIN)
def instrument_list() -> str:
    """The clinic's questionnaires: shipped and imported, with licence, version and whether
    patients can be asked; administrators also import and retire them here."""
    form = ImportInstrumentForm() if current_user.role is Role.ADMIN else None
    return _render_instruments(form)


@instruments_bp.post("/")
@admins_only
@audited(change="instrument.import")
@takes_files
def import_file() -> Response | tuple[str, int]:
    """Import an instrument file the clinic may use (validated in full; every problem
    listed in words)."""
    form = ImportInstrumentForm()
    if not form.validate_on_submit():
        return _render_instruments(form), 400
    try:
        text = form.definition()
    except ValueError as error:  # not UTF-8 text
        form.file.errors = [*form.file.errors, str(error)]
        return _render_instruments(form), 400
    try:
        row = import_instrument(
            db.session.get_one(Clinic, current_user.clinic_id), text, current_user
        )
    except ImportRefused as refusal:
        show_refusal(form, refusal)
        return _render_instruments(form, refusal.problems), 400
    title, version = row.title, row.version
    flash(
        _("%(title)s, version %(version)s, was imported.", title=title, version=version), "success"
    )
    return redirect(url_for("instruments.index"))


@instruments_bp.post("/<int:instrument_id>/retire")
@admins_only
@audited(change="instrument.retire", object_type="clinic_instrument", object_id="instrument_id")
def retire(instrument_id: int) -> Response:
    """Stop offering an imported version (answers given on it keep it)."""
    row = db.first_or_404(
        select(ClinicInstrument).where(
            ClinicInstrument.id == instrument_id,
            ClinicInstrument.clinic_id == current_user.clinic_id,
        )
    )
    form = RetireInstrumentForm()
    if form.validate_on_submit():
        try:
            retire_instrument(row, current_user)
        except Refusal as refusal:
            flash_refusal(refusal)
            return redirect(url_for("instruments.index"))
        title, version = row.title, row.version
        flash(
            _("%(title)s, version %(version)s, was retired.", title=title, version=version),
            "success",
        )
    return redirect(url_for("instruments.index"))
