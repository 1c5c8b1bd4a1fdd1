"""Clinicians' changes to outcome measures: assigning a measure to a patient and ending it,
and a clinic importing (and retiring) instruments of its own. Functions flush and add the
audit event; the unit of work commits once.

The rules, in plain words:

- Only an instrument the clinic has (shipped, or imported and not retired) can be assigned,
  and only one whose questions carry their wording: a scoring-only instrument (FSFI,
  NIH-CPSI, Marinoff ship that way) cannot be put to a patient until the clinic, holding
  a licence, imports its wording.
- A patient has at most one active assignment of an instrument: to change a schedule, end
  the assignment and assign again. A one-off whose occasion was answered is finished and
  does not count.
- A one-off is asked today or later (within two years), never in the past; a repeating
  one every 1 to 52 weeks (or only at the start and at discharge).
- An import goes through the same validation as the bundled files, and records the licence
  the clinic claims. For an instrument that ships as scoring rules only, the import may add
  the wording and nothing else: its scoring must be exactly the shipped rules. A new
  version of a key is a new row; a version already imported is refused (answers refer to
  key and version, so a version's meaning must never change).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import ColumnElement, and_, exists, func, select

from clinic.audit.log import record
from clinic.core.clock import clinic_today
from clinic.core.forms import CONTROL_CHARACTERS
from clinic.core.refusals import Refusal
from clinic.core.templating import short_date
from clinic.domain.measure_schedule import MAX_EVERY_WEEKS, Cadence
from clinic.domain.questionnaires import (
    Instrument,
    InstrumentError,
    LicenceStatus,
    parse_instrument,
    scoring_differences,
    shipped_instruments,
)
from clinic.extensions import db
from clinic.measures.instruments import available
from clinic.measures.schedule import schedule_in_words
from clinic.models import (
    Clinic,
    ClinicInstrument,
    MeasureAssignment,
    MeasureResponse,
    Patient,
    User,
)
from clinic.models.types import utcnow

# A worded FSFI is about 15 kB; a quarter of a megabyte leaves room for long instruments.
MAX_DEFINITION_BYTES = 256 * 1024
# How far ahead a one-off questionnaire may be asked.
ONE_OFF_HORIZON = timedelta(days=731)
# The columns that keep a copy of these (clinic_instruments).
MAX_KEY_LENGTH = 60
MAX_VERSION_LENGTH = 20
MAX_TITLE_LENGTH = 200


class ImportRefused(Refusal):
    """An instrument file that cannot be imported; `problems` lists every reason, each in
    plain words saying where in the file it is."""

    def __init__(self, problems: list[str] | tuple[str, ...]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        super().__init__(
            ngettext(
                "The file has %(num)d problem, listed below; nothing was imported.",
                "The file has %(num)d problems, listed below; nothing was imported.",
                count,
            ),
            "definition",
        )


# ---------------------------------------------------------------------------------------
# Assigning measures


def administrable_instruments(clinic_id: int) -> dict[str, Instrument]:
    """The instruments the clinic can ask its patients now, by key, ordered by title."""
    return {key: i for key, i in available(clinic_id).items() if i.administrable}


def assign(
    patient: Patient,
    instrument_key: str,
    cadence: Cadence,
    *,
    by: User,
    on: date | None = None,
    every_weeks: int | None = None,
    at_discharge: bool = True,
    today: date | None = None,
) -> MeasureAssignment:
    """Ask the patient to answer an instrument: once on day `on`, or REPEATING at the
    start of their program, every `every_weeks` weeks (None: not in between) and, when
    `at_discharge`, at discharge. `today` is the clinic's day (the assignment's date)."""
    today = today or clinic_today(patient.clinic.timezone)
    instrument = available(patient.clinic_id).get(instrument_key)
    if instrument is None:
        raise Refusal(_("Choose one of the measures listed."), "instrument")
    if not instrument.administrable:
        raise Refusal(
            _(
                "%(title)s cannot be sent to patients: only its scoring rules ship with this"
                " application, without the wording of its questions, because its terms of use"
                " are not established. A clinic that holds a licence can import the licensed"
                " wording (an administrator, under Questionnaires); then it can be assigned.",
                title=instrument.title,
            ),
            "instrument",
        )
    if cadence is Cadence.ONCE:
        if on is None:
            raise Refusal(_("Enter the day the patient is asked to answer."), "on")
        if on < today:
            raise Refusal(
                _(
                    "The day cannot be in the past: choose today (%(date)s) or a later day.",
                    date=short_date(today),
                ),
                "on",
            )
        if on > today + ONE_OFF_HORIZON:
            # A questionnaire years ahead is a slip of the keyboard (31/12/9999), not a plan.
            raise Refusal(
                _(
                    "Choose a day within two years, by %(date)s: a questionnaire further ahead"
                    " is better assigned nearer the time.",
                    date=short_date(today + ONE_OFF_HORIZON),
                ),
                "on",
            )
        every_weeks, at_discharge = None, False
    else:
        on = None
        if every_weeks is not None and not 1 <= every_weeks <= MAX_EVERY_WEEKS:
            raise Refusal(
                _(
                    "Repeat every 1 to %(max)d weeks (a year at most), or leave it blank to ask"
                    " only at the start and at discharge.",
                    max=MAX_EVERY_WEEKS,
                ),
                "every_weeks",
            )
    existing = active_assignment(patient, instrument_key)
    if existing is not None:
        raise Refusal(
            _(
                "%(name)s already has %(title)s assigned (%(schedule)s). To change its"
                " schedule, end that assignment first, then assign it again.",
                name=patient.full_name,
                title=instrument.title,
                schedule=schedule_in_words(existing).lower(),
            ),
            "instrument",
        )
    assignment = MeasureAssignment(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        instrument_key=instrument_key,
        cadence=cadence,
        on=on,
        every_weeks=every_weeks,
        at_discharge=at_discharge,
        assigned_on=today,
        assigned_by_id=by.id,
    )
    db.session.add(assignment)
    db.session.flush()
    record(
        "measure.assign",
        actor=by,
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        object_type="measure_assignment",
        object_id=assignment.id,
        detail={
            "instrument": instrument_key,
            "version": instrument.version,
            "cadence": cadence.value,
            "on": on.isoformat() if on else None,
            "every_weeks": every_weeks,
            "at_discharge": at_discharge,
        },
    )
    return assignment


def _still_asking() -> ColumnElement[bool]:
    """An assignment that still asks for answers: not ended, and not a one-off that was
    answered."""
    answered = exists().where(
        MeasureResponse.assignment_id == MeasureAssignment.id,
        MeasureResponse.submitted_at.is_not(None),
    )
    return and_(
        MeasureAssignment.ended_at.is_(None),
        ~and_(MeasureAssignment.cadence == Cadence.ONCE, answered),
    )


def active_assignment(patient: Patient, instrument_key: str) -> MeasureAssignment | None:
    """The patient's assignment of this instrument that still asks for answers."""
    return db.session.scalars(
        select(MeasureAssignment)
        .where(
            MeasureAssignment.clinic_id == patient.clinic_id,
            MeasureAssignment.patient_id == patient.id,
            MeasureAssignment.instrument_key == instrument_key,
            _still_asking(),
        )
        .order_by(MeasureAssignment.id)
    ).first()


def end_assignment(assignment: MeasureAssignment, by: User, now: datetime | None = None) -> None:
    """Stop asking: no occasion opens after this, and any waiting now is withdrawn from the
    patient's list. Answers already given stay on the record."""
    if assignment.ended_at is not None:
        raise Refusal(_("This measure was already ended."))
    assignment.ended_at = now or utcnow()
    assignment.ended_by_id = by.id
    db.session.flush()
    record(
        "measure.end",
        actor=by,
        clinic_id=assignment.clinic_id,
        patient_id=assignment.patient_id,
        object_type="measure_assignment",
        object_id=assignment.id,
        detail={"instrument": assignment.instrument_key},
    )


# ---------------------------------------------------------------------------------------
# A clinic's own instruments


def import_instrument(
    clinic: Clinic, json_text: str, by: User, now: datetime | None = None
) -> ClinicInstrument:
    """Import an instrument file (the format of clinic/data/instruments/README.md) for the
    clinic. Raises ImportRefused listing every problem."""
    text = json_text.removeprefix("\ufeff")  # a byte-order mark some editors add
    if len(text.encode("utf-8")) > MAX_DEFINITION_BYTES:
        raise ImportRefused(
            [
                _(
                    "the file is larger than %(max)d kB, the most accepted",
                    max=MAX_DEFINITION_BYTES // 1024,
                )
            ]
        )
    if not text.strip():
        raise ImportRefused([_("the file is empty")])
    try:
        instrument = parse_instrument(text)
    except InstrumentError as error:
        raise ImportRefused(error.problems) from None
    problems = _import_problems(clinic, instrument, text)
    if problems:
        raise ImportRefused(problems)
    row = ClinicInstrument(
        clinic_id=clinic.id,
        key=instrument.key,
        version=instrument.version,
        title=instrument.title,
        licence_status=instrument.licence.status.value,
        definition=text,
        imported_by_id=by.id,
        imported_at=now or utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    record(
        "instrument.import",
        actor=by,
        clinic_id=clinic.id,
        object_type="clinic_instrument",
        object_id=row.id,
        detail={
            "key": instrument.key,
            "version": instrument.version,
            "licence": instrument.licence.status.value,
            "items": len(instrument.items),
        },
    )
    return row


def _import_problems(clinic: Clinic, instrument: Instrument, text: str) -> list[str]:
    problems: list[str] = []
    if _has_control_characters(json.loads(text)):
        problems.append(
            _(
                "the file's text contains invisible control characters (such as \\u0000):"
                " remove them"
            )
        )
    for what, value, limit in (
        (_("the key"), instrument.key, MAX_KEY_LENGTH),
        (_("the version"), instrument.version, MAX_VERSION_LENGTH),
        (_("the title"), instrument.title, MAX_TITLE_LENGTH),
        *(
            (_("the %(language)s title", language=repr(t.language)), t.title, MAX_TITLE_LENGTH)
            for t in instrument.translations
            if t.title is not None
        ),
    ):
        if len(value) > limit:
            problems.append(
                _(
                    "%(what)s is %(length)d characters long; use at most %(limit)d",
                    what=what,
                    length=len(value),
                    limit=limit,
                )
            )
    if not instrument.administrable:
        problems.append(
            _(
                "its questions have no wording (a scoring-only file), so patients could not be"
                " asked it: add each item's text and every answer's label, then import it"
            )
        )
    shipped = shipped_instruments().get(instrument.key)
    if shipped is not None and not shipped.administrable:
        # Terms not established: the clinic adds the wording it holds a licence for, and
        # the scoring stays exactly as shipped, so scores mean the same everywhere.
        if instrument.licence.status is not LicenceStatus.CLINIC_LICENSED:
            problems.append(
                _(
                    "the terms of %(title)s are not established, so only a clinic holding a"
                    " licence may add its wording: set the licence status to '%(status)s' and"
                    " say in the licence note which licence the clinic holds",
                    title=shipped.title,
                    status=LicenceStatus.CLINIC_LICENSED.value,
                )
            )
        problems += [
            _(
                "%(difference)s (only the wording may be added to %(title)s; its scoring must"
                " stay exactly as shipped)",
                difference=difference,
                title=shipped.title,
            )
            for difference in scoring_differences(shipped, instrument)
        ]
    elif shipped is not None and shipped.version == instrument.version:
        problems.append(
            _(
                "version %(version)s of %(key)s ships with the application: give your copy"
                " another version (for example '%(example)s' or a higher number)",
                version=instrument.version,
                key=instrument.key,
                example="-".join((instrument.version, _slug(clinic.name))),
            )
        )
    earlier = db.session.scalar(
        select(ClinicInstrument).where(
            ClinicInstrument.clinic_id == clinic.id,
            ClinicInstrument.key == instrument.key,
            ClinicInstrument.version == instrument.version,
        )
    )
    if earlier is not None:
        problems.append(
            _(
                "version %(version)s of %(key)s was imported on %(date)s: answers refer to a"
                " key and a version, so a version cannot change; give this file a new version",
                version=instrument.version,
                key=instrument.key,
                date=short_date(earlier.imported_at.astimezone(ZoneInfo(clinic.timezone)).date()),
            )
        )
    return problems


def _has_control_characters(data: Any) -> bool:
    if isinstance(data, str):
        return bool(CONTROL_CHARACTERS.search(data))
    if isinstance(data, dict):
        return any(
            _has_control_characters(k) or _has_control_characters(v) for k, v in data.items()
        )
    if isinstance(data, list):
        return any(_has_control_characters(v) for v in data)
    return False


def _slug(name: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in name.lower()).split()
    return (words[0] if words else "clinic")[:10]


def retire_instrument(row: ClinicInstrument, by: User, now: datetime | None = None) -> None:
    """Stop offering an imported version: the clinic's previous version of the key (or the
    shipped one) is asked from now on; answers given on it keep it. Refused when patients
    with the measure assigned would be left with nothing they can answer (no other
    version, or only scoring rules)."""
    if row.retired_at is not None:
        raise Refusal(_("This version was already retired."))
    if not _administrable_without(row):
        waiting = db.session.scalar(
            select(func.count(func.distinct(MeasureAssignment.patient_id))).where(
                MeasureAssignment.clinic_id == row.clinic_id,
                MeasureAssignment.instrument_key == row.key,
                _still_asking(),
            )
        )
        if waiting:
            raise Refusal(
                ngettext(
                    "%(num)d patient has %(title)s assigned, and once this version is retired"
                    " there would be nothing they could answer. End those assignments first (on"
                    " each patient's outcome measures page), then retire it.",
                    "%(num)d patients have %(title)s assigned, and once this version is retired"
                    " there would be nothing they could answer. End those assignments first (on"
                    " each patient's outcome measures page), then retire it.",
                    waiting,
                    title=row.title,
                )
            )
    row.retired_at = now or utcnow()
    db.session.flush()
    record(
        "instrument.retire",
        actor=by,
        clinic_id=row.clinic_id,
        object_type="clinic_instrument",
        object_id=row.id,
        detail={"key": row.key, "version": row.version},
    )


def _administrable_without(row: ClinicInstrument) -> bool:
    """Whether patients could still be asked `row.key` with `row` retired: another import
    of the key still offered, or a shipped version with wording."""
    others = db.session.scalars(
        select(ClinicInstrument.id).where(
            ClinicInstrument.clinic_id == row.clinic_id,
            ClinicInstrument.key == row.key,
            ClinicInstrument.id != row.id,
            ClinicInstrument.retired_at.is_(None),
        )
    ).first()
    if others is not None:
        return True  # imports always carry wording (import_instrument refuses any without)
    shipped = shipped_instruments().get(row.key)
    return shipped is not None and shipped.administrable
