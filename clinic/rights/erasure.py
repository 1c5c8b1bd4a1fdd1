"""Erasing a patient on a documented request. Functions flush; the unit of work commits once.

In one transaction: read the facts the de-identified aggregates need, keep them in a
`PatientErasure` with the request's reference, delete every row about the patient (and
their portal account), then the patient, and record one "patient.erase" audit event. Audit
events stay: they hold ids, never personal data, and they are the proof of what was done
to the record and by whom.

The new `PatientErasure` row is what makes the dashboard's cached tables forget the patient
(see clinic.dashboard.queries.CaseloadState). The deletions are table-level statements,
which the summary upkeep (clinic.monitoring.upkeep) does not follow: nothing is left to
refresh.

`erased_tables()` names every table an erasure deletes from; a test fails when a table
with a `patient_id` column is neither there nor in `KEPT_TABLES`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import sqlalchemy as sa

from clinic.audit.log import record
from clinic.core.refusals import Refusal
from clinic.core.statements import affected_rows
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.jobs.services import discard_runs_about
from clinic.models import (
    CareFlag,
    ClinicalNote,
    ClinicalNoteRevision,
    DiaryEntry,
    EntryRevision,
    Invitation,
    JobRun,
    Letter,
    LetterAddressee,
    MeasureAssignment,
    MeasureResponse,
    OutboxMessage,
    Patient,
    PatientErasure,
    PatientSummary,
    PendingReferral,
    Protocol,
    ProtocolEvent,
    ProtocolStage,
    ProtocolVersion,
    PushSubscription,
    RecoveryCode,
    RedFlag,
    ReminderPlan,
    Report,
    Role,
    User,
    UserSession,
)
from clinic.models.types import utcnow
from clinic.protocols.queries import OPEN_STATUSES
from clinic.rights.aggregates import CareFacts, erasure_aggregates

# Tables with a patient_id that an erasure leaves as they are: the audit trail holds ids
# only, and must outlive the record to show what was done to it.
KEPT_TABLES = frozenset({"audit_events"})

ERASED_MEANWHILE = (
    "This record was erased meanwhile, perhaps by a colleague; nothing more was done."
)


class ErasureRefused(Refusal):
    """The erasure cannot go ahead; the message says why in plain words."""


# The models whose rows each belong to one patient of one clinic (patient_id, clinic_id).
_PatientRows = (
    type[CareFlag]
    | type[ClinicalNote]
    | type[DiaryEntry]
    | type[MeasureAssignment]
    | type[MeasureResponse]
    | type[PatientSummary]
    | type[PendingReferral]
    | type[Protocol]
    | type[RedFlag]
    | type[Report]
    | type[Letter]
    | type[ReminderPlan]
)


def _deletions(
    pid: int, cid: int, account: int | None
) -> Iterator[tuple[sa.Table, sa.ColumnElement[bool]]]:
    """Each table to empty of patient `pid` of clinic `cid` (portal account `account`)
    and the condition that finds their rows, in an order the foreign keys accept
    (children before their parents)."""

    def of_patient(model: _PatientRows) -> sa.ColumnElement[bool]:
        return sa.and_(model.patient_id == pid, model.clinic_id == cid)

    entries = sa.select(DiaryEntry.id).where(of_patient(DiaryEntry))
    notes = sa.select(ClinicalNote.id).where(of_patient(ClinicalNote))
    protocols = sa.select(Protocol.id).where(of_patient(Protocol))
    versions = sa.select(ProtocolVersion.id).where(ProtocolVersion.protocol_id.in_(protocols))

    yield RedFlag.__table__, of_patient(RedFlag)
    yield EntryRevision.__table__, EntryRevision.entry_id.in_(entries)
    yield DiaryEntry.__table__, of_patient(DiaryEntry)
    yield CareFlag.__table__, of_patient(CareFlag)
    yield PatientSummary.__table__, of_patient(PatientSummary)
    yield ReminderPlan.__table__, of_patient(ReminderPlan)
    yield ClinicalNoteRevision.__table__, ClinicalNoteRevision.note_id.in_(notes)
    # Addenda first: they point at the notes they add to.
    yield (
        ClinicalNote.__table__,
        sa.and_(of_patient(ClinicalNote), ClinicalNote.addendum_to_id.is_not(None)),
    )
    yield ClinicalNote.__table__, of_patient(ClinicalNote)
    yield MeasureResponse.__table__, of_patient(MeasureResponse)
    yield MeasureAssignment.__table__, of_patient(MeasureAssignment)
    # Reports refuse deletion through the ORM (a `before_delete` hook): that guards the
    # record of what was sent against slips in everyday code. An erasure is the one
    # deliberate exception, so it deletes them with a plain table-level DELETE, which
    # that hook does not see.
    yield Report.__table__, of_patient(Report)
    # Letters likewise (their hook refuses ORM deletes), with whom they went to and the
    # messages that carried them (their PDF, if not yet sent).
    letters = sa.select(Letter.id).where(of_patient(Letter))
    letter_keys = sa.select(LetterAddressee.outbox_key).where(
        LetterAddressee.letter_id.in_(letters), LetterAddressee.outbox_key.is_not(None)
    )
    yield OutboxMessage.__table__, OutboxMessage.key.in_(letter_keys)
    yield LetterAddressee.__table__, LetterAddressee.letter_id.in_(letters)
    yield Letter.__table__, of_patient(Letter)
    yield ProtocolEvent.__table__, ProtocolEvent.protocol_id.in_(protocols)
    yield ProtocolStage.__table__, ProtocolStage.version_id.in_(versions)
    yield ProtocolVersion.__table__, ProtocolVersion.protocol_id.in_(protocols)
    yield Protocol.__table__, of_patient(Protocol)
    # The referral the record was accepted from holds the patient's details as sent.
    yield PendingReferral.__table__, of_patient(PendingReferral)
    yield Patient.__table__, sa.and_(Patient.id == pid, Patient.clinic_id == cid)
    # The portal account goes after the record that points at it.
    if account is not None:
        yield Invitation.__table__, Invitation.user_id == account
        yield OutboxMessage.__table__, OutboxMessage.user_id == account
        yield PushSubscription.__table__, PushSubscription.user_id == account
        yield UserSession.__table__, UserSession.user_id == account
        yield RecoveryCode.__table__, RecoveryCode.user_id == account
        yield (
            User.__table__,
            sa.and_(User.id == account, User.clinic_id == cid, User.role == Role.PATIENT),
        )


def erased_tables() -> frozenset[str]:
    """The names of the tables an erasure deletes from (whatever the patient has)."""
    return frozenset(table.name for table, _ in _deletions(0, 0, 0))


def erase_patient(
    patient: Patient, *, by: User, request_reference: str, today: date
) -> PatientErasure:
    """Erase the patient and their portal account, keeping only de-identified aggregates
    with the request's reference; returns the erasure record."""
    # Take the patient's row before reading anything, so that nothing about the patient is
    # added between the figures being read and the rows being deleted: on PostgreSQL, other
    # writers about this patient (an entry being logged) wait for this transaction, then
    # find no patient; on SQLite the UPDATE takes the database's write lock.
    this_patient = sa.and_(Patient.id == patient.id, Patient.clinic_id == patient.clinic_id)
    db.session.execute(sa.select(Patient.id).where(this_patient).with_for_update())
    taken = affected_rows(
        sa.update(Patient.__table__).where(this_patient).values(updated_at=utcnow())
    )
    if taken != 1:
        raise ErasureRefused(ERASED_MEANWHILE)
    erasure = PatientErasure(
        clinic_id=patient.clinic_id,
        erased_patient_id=patient.id,
        erased_by_id=by.id,
        request_reference=request_reference,
        aggregates=json.dumps(erasure_aggregates(care_facts(patient, today)), sort_keys=True),
    )
    db.session.add(erasure)
    db.session.flush()
    removed: dict[str, int] = {}
    for table, condition in _deletions(patient.id, patient.clinic_id, patient.user_id):
        count = affected_rows(sa.delete(table).where(condition))
        removed[table.name] = removed.get(table.name, 0) + count
    if removed[Patient.__tablename__] != 1:
        raise ErasureRefused(ERASED_MEANWHILE)
    # Files made in the background (an MDT pack) that hold the patient go whole.
    removed[JobRun.__tablename__] = discard_runs_about(patient.id, patient.clinic_id)
    record(
        "patient.erase",
        patient_id=patient.id,
        object_type="patient_erasure",
        object_id=erasure.id,
        actor=by,
        clinic_id=patient.clinic_id,
        detail={"removed": {name: n for name, n in removed.items() if n}},
    )
    db.session.flush()
    # The objects now describe deleted rows: keep them out of the rest of the request.
    for obj in (patient.user, patient):
        if obj is not None and obj in db.session:
            db.session.expunge(obj)
    return erasure


def care_facts(patient: Patient, today: date) -> CareFacts:
    """What the aggregates are made of, read from the record (a few queries)."""
    pid, cid = patient.id, patient.clinic_id
    protocols = db.session.execute(
        sa.select(
            sa.func.count(Protocol.id).label("programs"),
            sa.func.count(Protocol.id).filter(Protocol.status.in_(OPEN_STATUSES)).label("open"),
        ).where(Protocol.patient_id == pid, Protocol.clinic_id == cid)
    ).one()
    events = db.session.execute(
        sa.select(
            sa.func.min(ProtocolEvent.effective_on)
            .filter(ProtocolEvent.kind == EventKind.START)
            .label("start"),
            sa.func.max(ProtocolEvent.effective_on).label("last"),
            sa.func.max(ProtocolEvent.stage).label("stage"),
        )
        .join(Protocol, Protocol.id == ProtocolEvent.protocol_id)
        .where(Protocol.patient_id == pid, Protocol.clinic_id == cid)
    ).one()
    in_diary = DiaryEntry.withdrawn_at.is_(None)
    entries = db.session.execute(
        sa.select(
            sa.func.count(DiaryEntry.id)
            .filter(in_diary, DiaryEntry.skipped.is_(False))
            .label("done"),
            sa.func.count(DiaryEntry.id)
            .filter(in_diary, DiaryEntry.skipped.is_(True))
            .label("skipped"),
        ).where(DiaryEntry.patient_id == pid, DiaryEntry.clinic_id == cid)
    ).one()
    red_flags = db.session.execute(
        sa.select(sa.func.count(RedFlag.id)).where(
            RedFlag.patient_id == pid, RedFlag.clinic_id == cid
        )
    ).scalar_one()
    assigned = db.session.execute(
        sa.select(sa.func.count(MeasureAssignment.id)).where(
            MeasureAssignment.patient_id == pid, MeasureAssignment.clinic_id == cid
        )
    ).scalar_one()
    completed = db.session.execute(
        sa.select(MeasureResponse.instrument_key, sa.func.count(MeasureResponse.id))
        .where(
            MeasureResponse.patient_id == pid,
            MeasureResponse.clinic_id == cid,
            MeasureResponse.submitted_at.is_not(None),
        )
        .group_by(MeasureResponse.instrument_key)
    ).all()
    return CareFacts(
        indication=patient.indication.value,
        date_of_birth=patient.date_of_birth,
        erased_on=today,
        status=patient.status.value,
        program_start=events.start,
        # A program still open runs until the erasure; a closed one ended with its last event.
        program_end=events.last if protocols.programs and not protocols.open else None,
        protocols=protocols.programs,
        stages_reached=events.stage or 0,
        sessions_logged=entries.done,
        sessions_skipped=entries.skipped,
        red_flags=red_flags,
        measures_assigned=assigned,
        measures_completed={key: n for key, n in completed},
    )


def what_erasure_removes(patient: Patient) -> list[tuple[str, int]]:
    """What the erasure page lists as going: each kind of item and how many the record
    holds now."""
    pid, cid = patient.id, patient.clinic_id

    def count(model: _PatientRows) -> int:
        return db.session.execute(
            sa.select(sa.func.count())
            .select_from(model)
            .where(model.patient_id == pid, model.clinic_id == cid)
        ).scalar_one()

    return [
        ("Dilator programs (every version, stage and event)", count(Protocol)),
        ("Diary entries (with their corrections)", count(DiaryEntry)),
        ("Red flags", count(RedFlag)),
        ("Other flags", count(CareFlag)),
        ("Clinical notes and addenda (with their earlier wording)", count(ClinicalNote)),
        ("Outcome-measure answers", count(MeasureResponse)),
        ("Progress reports (the stored PDFs)", count(Report)),
        ("Letters to other services (the stored PDFs)", count(Letter)),
    ]
