"""A patient record with something in every table that holds data about a patient, for
the export and erasure tests: protocol with versions, stages and events, diary entries with
a correction and a red flag, a care flag, notes with revisions and addenda, outcome
measures, stored reports, the referral it was accepted from, and a portal account with
invitations, sessions, recovery codes and secrets."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from clinic.core.clock import clinic_today
from clinic.domain.diary import FlagReason
from clinic.domain.flags import FlagKind
from clinic.domain.measure_schedule import Cadence
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import (
    CareFlag,
    DiaryEntry,
    EntryRevision,
    Invitation,
    MeasureAssignment,
    MeasureResponse,
    Patient,
    PendingReferral,
    PushSubscription,
    RecoveryCode,
    RedFlag,
    ReferralStatus,
    ReminderPlan,
    Report,
    User,
    UserSession,
)
from clinic.models.types import utcnow
from clinic.notes.services import change_note, write_addendum, write_note
from tests.support.diaries import ZONE, add_entries, refresh
from tests.support.letters import stored_letter
from tests.support.protocols import start_plan

# Secrets the record holds: none may ever leave it in an export.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
RECOVERY_CODE_HASH = "$argon2id$v=19$m=8,t=1,p=1$recovery-code-hash"
NOTE_TEXT = "Tolerating size 2; discussed breathing."


# A device with notifications on: its push address and keys are keys to it, never exported.
DEVICE_ENDPOINT = "https://fcm.googleapis.com/fcm/send/record-device-address"
DEVICE_KEY = "record-device-p256dh-key"
DEVICE_AUTH = "record-device-auth-secret"


@dataclass(frozen=True)
class FullRecord:
    """Ids of what `full_record` made."""

    patient_id: int
    user_id: int | None
    protocol_id: int
    entry_ids: list[int]
    note_id: int
    addendum_id: int
    report_ids: list[int]
    assignment_id: int
    response_id: int


def full_record(
    app: Flask, patient_id: int, patient_user_id: int | None, clinician_id: int, entries: int = 4
) -> FullRecord:
    """Give the patient something in every table about them (see the module docstring)."""
    protocol_id = start_plan(
        app, patient_id, clinician_id, [(EventKind.ADVANCE, 10)], started_days_ago=30
    )
    if patient_user_id is not None:
        add_entries(app, protocol_id, _Logger(patient_user_id, patient_id), range(1, entries + 1))
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        clinician = db.session.get(User, clinician_id)
        today = clinic_today(ZONE)
        entry_ids = list(
            db.session.scalars(
                select(DiaryEntry.id)
                .where(DiaryEntry.patient_id == patient_id)
                .order_by(DiaryEntry.id)
            )
        )
        if entry_ids:
            db.session.add(
                EntryRevision(
                    entry_id=entry_ids[0],
                    action="corrected",
                    previous=json.dumps({"minutes": 5, "pain_during": 4}),
                    changed_by_id=patient_user_id,
                )
            )
            db.session.add(
                RedFlag(
                    clinic_id=patient.clinic_id,
                    patient_id=patient_id,
                    entry_id=entry_ids[-1],
                    reason=FlagReason.HIGH_PAIN,
                    pain=8,
                    acknowledged_at=utcnow(),
                    acknowledged_by_id=clinician_id,
                    acknowledgement="Phoned; settled with rest.",
                )
            )
        db.session.add(
            ReminderPlan(
                clinic_id=patient.clinic_id,
                patient_id=patient_id,
                enabled=True,
                since=utcnow(),
                slots_text="1@07:30",
            )
        )
        if patient_user_id is not None:
            db.session.add(
                PushSubscription(
                    user_id=patient_user_id,
                    clinic_id=patient.clinic_id,
                    endpoint=f"{DEVICE_ENDPOINT}-{patient_user_id}",
                    p256dh=DEVICE_KEY,
                    auth=DEVICE_AUTH,
                )
            )
        db.session.add(
            CareFlag(
                clinic_id=patient.clinic_id,
                patient_id=patient_id,
                kind=FlagKind.REVIEW_DUE,
                key=f"review:{today.isoformat()}",
                detail="Review planned for today.",
                acknowledged_at=utcnow(),
                acknowledged_by_id=clinician_id,
                acknowledgement="Booked.",
            )
        )
        note = write_note(patient, clinician, "First wording.")
        change_note(note, clinician, NOTE_TEXT)
        addendum = write_addendum(note, clinician, "Addendum: plan agreed.")
        assignment = MeasureAssignment(
            clinic_id=patient.clinic_id,
            patient_id=patient_id,
            instrument_key="pain-nrs",
            cadence=Cadence.REPEATING,
            every_weeks=4,
            assigned_on=today - timedelta(days=30),
            assigned_by_id=clinician_id,
        )
        db.session.add(assignment)
        db.session.flush()
        response = MeasureResponse(
            clinic_id=patient.clinic_id,
            patient_id=patient_id,
            assignment_id=assignment.id,
            occasion_key="baseline",
            occasion_on=today - timedelta(days=30),
            instrument_key="pain-nrs",
            instrument_version="1",
            answers=json.dumps({"pain": 6}),
            submitted_at=utcnow(),
            total=6.0,
            band_label="Moderate",
            valid=True,
        )
        db.session.add(response)
        reports = [
            _report(patient, clinician_id, b"%PDF-1.7 first report", "progress-report-x.pdf"),
            # Same name as the first: the ZIP must still hold both.
            _report(patient, None, b"%PDF-1.7 second report", "progress-report-x.pdf"),
        ]
        db.session.add_all(reports)
        # The referral the record was accepted from (clinic.fhirapi).
        db.session.add(
            PendingReferral(
                clinic_id=patient.clinic_id,
                status=ReferralStatus.ACCEPTED,
                resource=json.dumps({"resourceType": "ServiceRequest", "status": "active"}),
                full_name=patient.full_name,
                date_of_birth=patient.date_of_birth,
                referrer="Dr L. Moore, GP",
                reason="Vaginismus",
                patient_id=patient.id,
                decided_at=utcnow(),
            )
        )
        # A letter to a recipient by secure email, its message still in the outbox.
        stored_letter(
            patient.clinic_id,
            patient_id,
            clinician_id,
            "Dr Record",
            email="letters@record-surgery.example",
        )
        if patient_user_id is not None:
            user = db.session.get(User, patient_user_id)
            user.totp_secret = TOTP_SECRET
            user.totp_enabled_at = utcnow()
            user.last_login_at = utcnow()
            invitation, _token = Invitation.issue(user, clinician, 7, utcnow())
            db.session.add(invitation)
            db.session.add(
                UserSession(
                    user_id=user.id,
                    token_hash=hashlib.sha256(f"session-{user.id}".encode()).hexdigest(),
                    user_agent="Phone",
                )
            )
            db.session.add(RecoveryCode(user_id=user.id, code_hash=RECOVERY_CODE_HASH))
        db.session.commit()
        built = FullRecord(
            patient_id=patient_id,
            user_id=patient_user_id,
            protocol_id=protocol_id,
            entry_ids=entry_ids,
            note_id=note.id,
            addendum_id=addendum.id,
            report_ids=[r.id for r in reports],
            assignment_id=assignment.id,
            response_id=response.id,
        )
        clinic_id = patient.clinic_id
    refresh(app, clinic_id)  # the dashboard's summary row
    return built


@dataclass(frozen=True)
class _Logger:
    """Who logs the entries (what `add_entries` expects of a person)."""

    id: int
    patient_id: int


def _report(patient: Patient, author_id: int | None, pdf: bytes, name: str) -> Report:
    today = clinic_today(ZONE)
    return Report(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        kind="progress",
        period_from=today - timedelta(days=28),
        period_to=today,
        author_id=author_id,
        file_name=name,
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size_bytes=len(pdf),
    )
