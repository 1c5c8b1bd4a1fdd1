"""Patients answering their outcome measures: the questionnaires waiting for them, a draft
they can save and resume, and the submission that scores it. Functions flush; the unit
of work commits once.

Rules, in the order a patient meets them:

- Only an occasion that is due now (its day has come, not yet answered) of the patient's
  own assignment can be answered, and not once the clinician has ended the assignment.
  Instruments without wording (scoring rules only) are never put to patients.
- The draft is created on the first save, on the instrument version the page showed (the
  clinic's current one when it was opened), and keeps that version however the clinic's
  instrument changes afterwards: answers are always scored on the version they were given
  on.
- Every answer must be one its question offers (anything else is refused next to that
  question, and nothing is saved); questions may be left blank.
- Submission scores the answers with `clinic.domain.questionnaires.score` and stores the
  score with them; a response is submitted once only, whatever two windows do at the same
  moment (a conditional UPDATE, and the unique occasion constraint for a first save).

Answers are stored as JSON text, {"item key": value or null}. In a draft: the answers
given, including any to questions the skip logic now hides (the patient may change the
earlier answer back). Once submitted: exactly what was scored, every question the patient
was asked (null when left blank); a question hidden by the skip logic is absent, and any
answer to it is dropped, since the scorer ignores it too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from clinic.audit.log import record
from clinic.core.clock import clinic_today
from clinic.core.refusals import Refusal
from clinic.core.statements import affected_rows
from clinic.domain.questionnaires import Instrument, Item, Score, score
from clinic.extensions import db
from clinic.i18n import lazy_text as _l
from clinic.measures.instruments import available, current, version_of, versions
from clinic.measures.schedule import OccasionStatus, due_now, occasion_statuses
from clinic.models import MeasureAssignment, MeasureResponse, Patient
from clinic.models.types import utcnow

NOT_OFFERED = _l("Choose one of the answers listed for this question.")


class AnswersRefused(Refusal):
    """Answers a questionnaire does not offer: `problems` says what is wrong with each
    question (by item key), to show next to it."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__(
            ngettext(
                "Please check %(num)d answer: nothing was saved yet.",
                "Please check %(num)d answers: nothing was saved yet.",
                len(self.problems),
            )
        )


class NothingAnswered(Refusal):
    """A submission with every question blank."""


class QuestionnaireUnavailable(Refusal):
    """The occasion cannot be answered (not due, ended, no wording); `mine` is False when
    it is not the patient's at all, which the portal answers as not found."""

    def __init__(self, message: str, *, mine: bool = True) -> None:
        super().__init__(message)
        self.mine = mine


class AlreadySent(Refusal):
    """The answers for this occasion were submitted already (perhaps from another window)."""


class SavedElsewhere(Refusal):
    """Another window or device saved this occasion's first answers at the same moment."""


@dataclass(frozen=True)
class WaitingQuestionnaire:
    """A questionnaire the patient can answer now, as Today lists it."""

    assignment_id: int
    occasion_key: str
    title: str
    questions: int
    some_conditional: bool  # some questions are asked only after certain answers
    in_progress: bool  # answers were saved and not sent yet


@dataclass(frozen=True)
class AnsweredQuestionnaire:
    """A questionnaire the patient sent: when (the clinic's local day) and its name."""

    answered_on: date
    title: str


# ---------------------------------------------------------------------------------------
# Pure rules over an instrument and a set of answers


def page_language() -> str:
    """The language of the page being made (English outside a request): the one a patient
    reads their questionnaires in."""
    return str(get_locale() or "en")


def answer_problems(instrument: Instrument, answers: Mapping[str, int | None]) -> dict[str, str]:
    """What is wrong with each answer, by item key: an item the instrument does not have,
    or a value its item does not offer. Blank answers (None) are fine."""
    items = {item.key: item for item in instrument.items}
    problems: dict[str, str] = {}
    for key, value in answers.items():
        item = items.get(key)
        if item is None:
            problems[key] = _("This question is not part of this questionnaire.")
        elif value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value not in item.values
        ):
            problems[key] = str(NOT_OFFERED)
    return problems


def asked_items(instrument: Instrument, answers: Mapping[str, int | None]) -> list[Item]:
    """The questions the patient is asked given these answers, in order: the skip logic of
    `clinic.domain.questionnaires` (an item with `shown_if` is asked when the item it
    depends on is asked and was answered with one of the listed values, or left blank)."""
    asked: list[Item] = []
    keys: set[str] = set()
    for item in instrument.items:  # items depend only on earlier items (the loader checks)
        rule = item.shown_if
        if rule is not None:
            if rule.item not in keys:
                continue
            answer = answers.get(rule.item)
            if answer is not None and answer not in rule.values:
                continue
        asked.append(item)
        keys.add(item.key)
    return asked


def unanswered(instrument: Instrument, answers: Mapping[str, int | None]) -> list[str]:
    """The keys of the questions asked and left blank, in order."""
    return [item.key for item in asked_items(instrument, answers) if answers.get(item.key) is None]


def scored_answers(
    instrument: Instrument, answers: Mapping[str, int | None]
) -> dict[str, int | None]:
    """What a submission stores: every question asked, blank or not; none of the hidden."""
    return {item.key: answers.get(item.key) for item in asked_items(instrument, answers)}


# ---------------------------------------------------------------------------------------
# Reading: what waits for the patient, what they answered, a draft's answers


def waiting(
    patient: Patient, today: date, language: str | None = None
) -> list[WaitingQuestionnaire]:
    """The questionnaires the patient can answer today, oldest occasion first, titled in
    `language` where the instrument has a usable translation (default: the page's). Those
    that cannot be put to patients (no wording, or no longer known) are left out. The
    clinic's instruments are read once, however many are waiting."""
    code = language or page_language()
    statuses = occasion_statuses(patient.clinic_id, [patient.id], today)[patient.id]
    due = due_now(statuses)
    if not due:
        return []
    asked_now = available(patient.clinic_id)
    drafted = versions(patient.clinic_id) if any(s.in_progress for s in due) else {}
    found: list[WaitingQuestionnaire] = []
    for status in due:
        key = status.assignment.instrument_key
        if status.in_progress and status.response is not None:
            # A draft keeps the version it was started on.
            instrument = drafted.get((key, status.response.instrument_version))
        else:
            instrument = asked_now.get(key)
        if instrument is None or not instrument.administrable:
            continue
        found.append(
            WaitingQuestionnaire(
                assignment_id=status.assignment.id,
                occasion_key=status.state.occasion.key,
                title=instrument.in_language(code).title,
                questions=len(instrument.items),
                some_conditional=any(item.shown_if for item in instrument.items),
                in_progress=status.in_progress,
            )
        )
    return found


def answered(patient: Patient, language: str | None = None) -> list[AnsweredQuestionnaire]:
    """The questionnaires the patient sent, newest first (date and name only, the name in
    `language` where it has a usable translation; default: the page's); the clinic's
    instruments are read once, however many were sent."""
    code = language or page_language()
    responses = list(
        db.session.scalars(
            select(MeasureResponse)
            .where(
                MeasureResponse.clinic_id == patient.clinic_id,
                MeasureResponse.patient_id == patient.id,
                MeasureResponse.submitted_at.is_not(None),
            )
            .order_by(MeasureResponse.submitted_at.desc(), MeasureResponse.id.desc())
        )
    )
    if not responses:
        return []
    zone = ZoneInfo(patient.clinic.timezone)
    every_version = versions(patient.clinic_id)
    result = []
    for response in responses:
        instrument = every_version.get((response.instrument_key, response.instrument_version))
        result.append(
            AnsweredQuestionnaire(
                answered_on=response.sent_at.astimezone(zone).date(),
                title=instrument.in_language(code).title if instrument else _("Questionnaire"),
            )
        )
    return result


def any_answered(patient: Patient) -> bool:
    """Whether the patient has sent any questionnaire (one query)."""
    return (
        db.session.scalar(
            select(MeasureResponse.id)
            .where(
                MeasureResponse.clinic_id == patient.clinic_id,
                MeasureResponse.patient_id == patient.id,
                MeasureResponse.submitted_at.is_not(None),
            )
            .limit(1)
        )
        is not None
    )


def instrument_of(response: MeasureResponse) -> Instrument:
    """Exactly the instrument version the response is (being) answered on."""
    instrument = version_of(
        response.clinic_id, response.instrument_key, response.instrument_version
    )
    if instrument is None:  # imports are never deleted: only a damaged database gets here
        raise QuestionnaireUnavailable(
            _("This questionnaire cannot be answered here any more. Your clinic can help.")
        )
    return instrument


def saved_answers(response: MeasureResponse) -> dict[str, int | None]:
    """The answers saved so far (a draft) or sent (a submitted response)."""
    loaded = json.loads(response.answers or "{}")
    return {str(key): value for key, value in loaded.items()}


# ---------------------------------------------------------------------------------------
# Answering


def start_or_resume(
    patient: Patient,
    assignment: MeasureAssignment,
    occasion_key: str,
    *,
    today: date | None = None,
    version: str | None = None,
) -> MeasureResponse:
    """The draft for this occasion: the one saved before, or a new one (not yet added to
    the database: `save_draft` or `submit` does that) on `version` when the clinic still
    has it (the version the page showed), else on the clinic's current version.

    Refuses (QuestionnaireUnavailable) an assignment of another patient, an ended one, an
    occasion that is not due today, or an instrument patients cannot be asked; refuses
    (AlreadySent) an occasion already answered."""
    if assignment.patient_id != patient.id or assignment.clinic_id != patient.clinic_id:
        raise QuestionnaireUnavailable(_("This questionnaire is not yours."), mine=False)
    if assignment.ended_at is not None:
        raise QuestionnaireUnavailable(
            _("Your clinic has stopped this questionnaire, so there is nothing to answer.")
        )
    today = today or clinic_today(patient.clinic.timezone)
    status = _occasion(patient, assignment, occasion_key, today)
    if status is None or (not status.state.due and not status.state.answered):
        raise QuestionnaireUnavailable(
            _("This questionnaire is not open. Your clinic will let you know when it is.")
        )
    if status.state.answered:
        raise AlreadySent(_("Your answers to this questionnaire were already sent."))
    if status.response is not None:  # a draft saved before: it keeps its version
        instrument = instrument_of(status.response)
        draft = status.response
    else:
        instrument = None
        if version:
            instrument = version_of(patient.clinic_id, assignment.instrument_key, version)
        instrument = instrument or current(patient.clinic_id, assignment.instrument_key)
        draft = None
    if instrument is None or not instrument.administrable:
        # Scoring-only instruments are entered by clinicians, never answered in the portal.
        raise QuestionnaireUnavailable(
            _(
                "This questionnaire cannot be answered here. Your clinic will go through it"
                " with you."
            )
        )
    if draft is not None:
        return draft
    return MeasureResponse(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        assignment_id=assignment.id,
        occasion_key=status.state.occasion.key,
        occasion_on=status.state.occasion.on,
        instrument_key=instrument.key,
        instrument_version=instrument.version,
        answers="{}",
    )


def _occasion(
    patient: Patient, assignment: MeasureAssignment, occasion_key: str, today: date
) -> OccasionStatus | None:
    statuses = occasion_statuses(patient.clinic_id, [patient.id], today)[patient.id]
    for status in statuses:
        if status.assignment.id == assignment.id and status.state.occasion.key == occasion_key:
            return status
    return None


def save_draft(
    response: MeasureResponse, answers: Mapping[str, int | None], now: datetime | None = None
) -> None:
    """Keep the answers given so far (blank ones are not stored), to finish later."""
    now = now or utcnow()
    instrument = instrument_of(response)
    problems = answer_problems(instrument, answers)
    if problems:
        raise AnswersRefused(problems)
    given = {key: value for key, value in answers.items() if value is not None}
    _write(response, now, answers=json.dumps(given, sort_keys=True), saved_at=now)
    record(
        "measure.save",
        patient_id=response.patient_id,
        clinic_id=response.clinic_id,
        object_type="measure_response",
        object_id=response.id,
        detail={"instrument": response.instrument_key, "answered": len(given)},
    )


def submit(
    response: MeasureResponse, answers: Mapping[str, int | None], now: datetime | None = None
) -> Score:
    """Score the answers on the response's own instrument version and send them, once.
    Refuses answers not offered (AnswersRefused), a response with nothing answered
    (NothingAnswered), and a second submission (AlreadySent)."""
    now = now or utcnow()
    instrument = instrument_of(response)
    problems = answer_problems(instrument, answers)
    if problems:
        raise AnswersRefused(problems)
    if all(value is None for value in answers.values()):
        raise NothingAnswered(
            _("Answer at least one question before sending, or save your answers to finish later.")
        )
    result = score(instrument, answers)
    domains = {d.key: float(d.score) if d.score is not None else None for d in result.domains}
    _write(
        response,
        now,
        answers=json.dumps(scored_answers(instrument, answers), sort_keys=True),
        saved_at=now,
        submitted_at=now,
        total=float(result.total) if result.total is not None else None,
        band_label=result.band.label if result.band is not None else "",
        domains=json.dumps(domains, sort_keys=True),
        valid=result.valid,
        invalid_reason="; ".join(result.reasons),
    )
    record(
        "measure.submit",
        patient_id=response.patient_id,
        clinic_id=response.clinic_id,
        object_type="measure_response",
        object_id=response.id,
        # What was sent and how it scored as a status, never the answers or the score.
        detail={
            "instrument": response.instrument_key,
            "version": response.instrument_version,
            "occasion": response.occasion_key,
            "status": result.status.value,
            "answered": sum(1 for value in answers.values() if value is not None),
        },
    )
    return result


def _write(response: MeasureResponse, now: datetime, **values: object) -> None:
    """Store `values` on a draft: insert it on its first save, else update it only while it
    is still unsent, so of two windows sending at once exactly one succeeds."""
    if response.id is None:
        for name, value in values.items():
            setattr(response, name, value)
        response.started_at = now
        db.session.add(response)
        try:
            db.session.flush()
        except IntegrityError as exc:  # the occasion's row appeared since the page loaded
            raise SavedElsewhere(
                _(
                    "Answers to this questionnaire were saved from another window or device at"
                    " the same moment. Check the answers below and save or send them again."
                )
            ) from exc
        return
    changed = affected_rows(
        update(MeasureResponse)
        .where(MeasureResponse.id == response.id, MeasureResponse.submitted_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if changed != 1:
        raise AlreadySent(_("Your answers to this questionnaire were already sent."))
    db.session.refresh(response)
