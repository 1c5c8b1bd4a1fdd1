"""Questionnaires in the portal: answer one from a phone (one page, large radio buttons, no
JavaScript), save and finish later, send it, and see the list of those already sent.

Routes live on the portal blueprint. A questionnaire's URL names the assignment and the
occasion, but the assignment is always looked up within the signed-in patient's own
record: anyone else's is not found. Patients are never shown a score: clinicians interpret
scores with the patient, and a band such as "Severe" read alone, without that context, can
alarm more than it informs.

A questionnaire is worded in the patient's language when its file has a translation whose
terms allow it (clinic.domain.questionnaires.Instrument.in_language); otherwise it is shown
in English with a note saying so. Either way the answers are option values: a response
scores the same whatever language it was read in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from clinic.audit.log import audited, own_patient
from clinic.core.clock import clinic_today
from clinic.core.forms import flash_refusal
from clinic.core.uow import discard
from clinic.domain.questionnaires import Instrument, Item
from clinic.extensions import db
from clinic.measures.answers import (
    NOT_OFFERED,
    AlreadySent,
    AnswersRefused,
    NothingAnswered,
    QuestionnaireUnavailable,
    SavedElsewhere,
    answered,
    instrument_of,
    page_language,
    save_draft,
    saved_answers,
    start_or_resume,
    submit,
    unanswered,
    waiting,
)
from clinic.measures.instruments import version_of
from clinic.models import MeasureAssignment, MeasureResponse, Patient
from clinic.portal.views import bp, own_record_or_404, patients_only

# Each question's radio buttons are named "q-<item key>" (item keys are lower-case words),
# so no question can collide with the form's other fields.
FIELD_PREFIX = "q-"
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,6}", re.ASCII)
_OCCASION_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,39}", re.ASCII)


def _own_assignment(patient: Patient, assignment_id: int, occasion_key: str) -> MeasureAssignment:
    """One of the patient's own assignments; 404 for anyone else's (or another clinic's),
    and for an occasion key of a shape no schedule makes ("week-4" is one; upper case,
    spaces or a NUL are not): junk never reaches the database."""
    if not _OCCASION_KEY.fullmatch(occasion_key):
        abort(404)
    return db.first_or_404(
        select(MeasureAssignment).where(
            MeasureAssignment.id == assignment_id,
            MeasureAssignment.patient_id == patient.id,
            MeasureAssignment.clinic_id == patient.clinic_id,
        )
    )


def _not_open_page(refusal: QuestionnaireUnavailable) -> tuple[str, int]:
    """Not found, said calmly: there is nothing to answer at this address now."""
    if not refusal.mine:
        abort(404)
    return render_template(
        "errors/error.html", code=404, title=_("Nothing to answer here"), detail=str(refusal)
    ), 404


def _posted_answers(instrument: Instrument) -> tuple[dict[str, str], dict[str, int | None]]:
    """The posted choice of each question, as sent (to show again) and as numbers (None:
    blank, or not a number, which `answer_problems` then refuses)."""
    raw: dict[str, str] = {}
    answers: dict[str, int | None] = {}
    for item in instrument.items:
        text = request.form.get(FIELD_PREFIX + item.key, "").strip()
        raw[item.key] = text
        answers[item.key] = int(text) if _WHOLE_NUMBER.fullmatch(text) else None
    return raw, answers


def _unreadable(raw: Mapping[str, str], answers: Mapping[str, int | None]) -> dict[str, str]:
    """Questions whose posted choice is not a number at all (only a hand-made request)."""
    return {key: str(NOT_OFFERED) for key, text in raw.items() if text and answers[key] is None}


def _condition(instrument: Instrument, item: Item) -> str | None:
    """When a question is asked only after certain answers, the note that says so (the
    page shows every question: skip logic works without JavaScript, and the server ignores
    an answer to a question the earlier answer skips)."""
    rule = item.shown_if
    if rule is None:
        return None
    number = next(n for n, i in enumerate(instrument.items, start=1) if i.key == rule.item)
    earlier = instrument.item(rule.item)
    labels = [_("“%(answer)s”", answer=o.label) for o in earlier.options if o.value in rule.values]
    chosen = (
        labels[0]
        if len(labels) == 1
        else _("%(answers)s or %(last)s", answers=", ".join(labels[:-1]), last=labels[-1])
    )
    return _(
        "Only if you answered %(answers)s to question %(number)d above. Otherwise leave it blank.",
        answers=chosen,
        number=number,
    )


def _page(
    instrument: Instrument,
    assignment_id: int,
    occasion_key: str,
    values: Mapping[str, str],
    *,
    resumed: bool,
    problems: Mapping[str, str] | None = None,
    blanks: list[str] | None = None,
    message: str | None = None,
) -> str:
    # The wording in the page's language where a translation whose terms allow it exists;
    # the answers are option values, so they score alike in every language.
    language = page_language()
    instrument = instrument.in_language(language)
    return render_template(
        "portal/questionnaire.html",
        instrument=instrument,
        only_in_english=instrument.language.split("-")[0] != language.split("-")[0],
        assignment_id=assignment_id,
        occasion_key=occasion_key,
        values=values,
        resumed=resumed,
        problems=problems or {},
        blanks=blanks or [],
        message=message,
        conditions={item.key: _condition(instrument, item) for item in instrument.items},
        prefix=FIELD_PREFIX,
    )


@bp.route("/questionnaires/<int:assignment_id>/<occasion_key>", methods=["GET", "POST"])
@patients_only
@audited(
    "portal.questionnaire",
    change="measure.answer",
    patient=own_patient,
    object_type="measure_assignment",
    object_id="assignment_id",
)
def questionnaire(assignment_id: int, occasion_key: str) -> Response | str | tuple[str, int]:
    """Answer a questionnaire: every question on one page, saved to finish later or sent."""
    patient = own_record_or_404()
    assignment = _own_assignment(patient, assignment_id, occasion_key)
    sent_page = url_for(
        "portal.questionnaire_sent", assignment_id=assignment_id, occasion_key=occasion_key
    )
    try:
        response = start_or_resume(
            patient,
            assignment,
            occasion_key,
            today=clinic_today(patient.clinic.timezone),
            version=request.form.get("version") if request.method == "POST" else None,
        )
    except AlreadySent as refusal:
        discard()
        if request.method == "POST":  # answers from a second window: say why they went nowhere
            flash(str(refusal), "info")
        return redirect(sent_page)
    except QuestionnaireUnavailable as refusal:
        return _not_open_page(refusal)  # a 404: saves nothing
    instrument = instrument_of(response)
    if request.method == "GET":
        values = {key: str(value) for key, value in saved_answers(response).items()}
        resumed = response.id is not None
        return _page(instrument, assignment_id, occasion_key, values, resumed=resumed)

    raw, answers = _posted_answers(instrument)
    # The page again with what was sent, so nothing chosen is lost.
    again = partial(_page, instrument, assignment_id, occasion_key, raw, resumed=False)
    problems = _unreadable(raw, answers)
    if problems:
        return again(problems=problems, message=str(AnswersRefused(problems)))
    sending = request.form.get("action") == "submit"  # anything else saves: never final
    try:
        if sending and _blanks_not_yet_seen(instrument, answers):
            # One pause before sending with questions left blank: answer them, or press
            # Submit again. Leaving out a question is the patient's right.
            save_draft(response, answers)
            return again(blanks=unanswered(instrument, answers))
        if sending:
            submit(response, answers)
            return redirect(sent_page)
        save_draft(response, answers)
    except AnswersRefused as refusal:
        discard()
        return again(problems=refusal.problems, message=str(refusal))
    except AlreadySent as refusal:
        flash_refusal(refusal, "info")
        return redirect(sent_page)
    except (NothingAnswered, SavedElsewhere) as refusal:
        discard()
        return again(message=str(refusal))
    except QuestionnaireUnavailable as refusal:
        discard()
        return _not_open_page(refusal)
    flash(
        _("Your answers are saved. You can finish the questionnaire later from Today."), "success"
    )
    return redirect(url_for("portal.home"))


def _blanks_not_yet_seen(instrument: Instrument, answers: Mapping[str, int | None]) -> bool:
    """Whether questions are left blank that the patient has not been told about yet (the
    page lists the blank ones it pointed out in `blanks_seen`). All blank is for `submit`
    to refuse."""
    blanks = unanswered(instrument, answers)
    if not blanks or all(value is None for value in answers.values()):
        return False
    seen = set(request.form.get("blanks_seen", "").split(","))
    return not set(blanks) <= seen


@bp.get("/questionnaires/<int:assignment_id>/<occasion_key>/sent")
@patients_only
@audited(
    "portal.questionnaire_sent",
    patient=own_patient,
    object_type="measure_assignment",
    object_id="assignment_id",
)
def questionnaire_sent(assignment_id: int, occasion_key: str) -> Response | str:
    """Thank you: the answers reached the clinic (no score: the clinician goes through it).
    For an occasion not sent yet, the questionnaire itself."""
    patient = own_record_or_404()
    assignment = _own_assignment(patient, assignment_id, occasion_key)
    sent = db.session.scalar(
        select(MeasureResponse).where(
            MeasureResponse.assignment_id == assignment.id,
            MeasureResponse.occasion_key == occasion_key,
            MeasureResponse.submitted_at.is_not(None),
        )
    )
    if sent is None:
        return redirect(
            url_for("portal.questionnaire", assignment_id=assignment.id, occasion_key=occasion_key)
        )
    instrument = version_of(patient.clinic_id, sent.instrument_key, sent.instrument_version)
    return render_template(
        "portal/questionnaire_sent.html",
        title=instrument.in_language(page_language()).title
        if instrument
        else _("the questionnaire"),
        clinic=patient.clinic,
        more=waiting(patient, clinic_today(patient.clinic.timezone)),
    )


@bp.get("/questionnaires")
@patients_only
@audited("portal.questionnaires", patient=own_patient)
def questionnaires() -> str:
    """Questionnaires: any waiting to be answered, and those already sent (date and name)."""
    patient = own_record_or_404()
    return render_template(
        "portal/questionnaires.html",
        waiting=waiting(patient, clinic_today(patient.clinic.timezone)),
        answered=answered(patient),
    )
