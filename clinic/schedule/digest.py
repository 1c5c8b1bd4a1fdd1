"""The clinicians' daily digest: counts only, at the clinic-local time each one chose.

"3 patients in your caseload need attention; 2 questionnaires were answered": never a
name, a condition or anything a patient reported (tests/support/privacy.py), and a link
to sign in. One per clinician per clinic-local day (the outbox key holds the date).

A clinician with nothing about their own caseload to report gets no digest that day: an
email every morning saying "nothing new" teaches people to stop reading these emails, and
the digest is only a convenience. What must not wait (a patient who needs review) is sent
at once by the alerts, which nobody can turn off.

Everything a clinic's digests need is read in four queries, whatever the number of
clinicians and patients; then one INSERT per digest posted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from clinic.core import clock
from clinic.core.links import external_url
from clinic.domain.daily import DigestCounts, digest_due, digest_lines
from clinic.extensions import db
from clinic.models import (
    Clinic,
    MeasureResponse,
    Patient,
    PatientStatus,
    PatientSummary,
    Role,
    User,
)
from clinic.models.outbox import OutboxMessage
from clinic.outbox import Content, post, sender_name_for
from clinic.outbox.kinds import MessageKind
from clinic.outbox.text import render_text

# Neutral on purpose: it shows on lock screens and in notification previews.
SUBJECT = "Your daily summary"
ANSWERED_WITHIN = timedelta(hours=24)


@dataclass(frozen=True)
class Digest:
    """One clinician's digest for one day."""

    clinician: User
    counts: DigestCounts


def digests_due(clinic: Clinic, now: datetime) -> list[Digest]:
    """The digests of the clinic's clinicians due at `now` and not sent yet today, with
    their counts; clinicians with nothing to report are left out (see the module's
    docstring). Four queries at most, whatever the number of clinicians and patients."""
    local_now = clock.clinic_now(clinic.timezone, now)
    clinicians = [
        user
        for user in db.session.scalars(
            select(User).where(
                User.clinic_id == clinic.id,
                User.role == Role.CLINICIAN,
                User.active.is_(True),
                User.password_hash.is_not(None),
                User.digest_enabled.is_(True),
            )
        )
        if digest_due(local_now, user.digest_at)
    ]
    if not clinicians:
        return []
    sent = set(
        db.session.scalars(
            select(OutboxMessage.user_id).where(
                OutboxMessage.clinic_id == clinic.id,
                OutboxMessage.kind == MessageKind.DAILY_DIGEST.value,
                OutboxMessage.key.startswith(
                    f"{MessageKind.DAILY_DIGEST.value}:{local_now.date()}:", autoescape=True
                ),
            )
        )
    )
    waiting = [user for user in clinicians if user.id not in sent]
    if not waiting:
        return []
    attention = _patients_needing_attention(clinic.id)
    answered = _questionnaires_answered(clinic.id, now - ANSWERED_WITHIN, now)
    in_clinic = sum(attention.values())
    digests = [
        Digest(
            user,
            DigestCounts(
                need_attention=attention[user.id],
                answered=answered[user.id],
                clinic_need_attention=in_clinic,
            ),
        )
        for user in waiting
    ]
    return [d for d in digests if d.counts.has_news]


def post_digests(clinic: Clinic, now: datetime) -> int:
    """Post the clinic's digests due at `now`; returns how many were posted."""
    day = clock.clinic_today(clinic.timezone, now)
    posted = 0
    for digest in digests_due(clinic, now):
        posted += post(
            MessageKind.DAILY_DIGEST,
            day.isoformat(),
            to=digest.clinician,
            clinic_id=clinic.id,
            content=digest_message(digest, day_label=f"{day:%A} {day.day} {day:%B}"),
            sender_name=sender_name_for(clinic),
        )
    return posted


def digest_message(digest: Digest, *, day_label: str) -> Content:
    """The digest as an email: the counts, a link to sign in, how to change it."""
    body = render_text(
        "daily_digest.txt",
        day=day_label,
        lines=digest_lines(digest.counts),
        link=external_url("dashboard.index"),
        at=f"{digest.clinician.digest_at:%H:%M}",
    )
    return Content(subject=SUBJECT, body=body)


def _patients_needing_attention(clinic_id: int) -> Counter[int | None]:
    """How many patients not discharged have something open (a flag, a report to review),
    by responsible clinician (None: nobody's yet)."""
    rows = db.session.execute(
        select(Patient.responsible_clinician_id, func.count(Patient.id))
        .join(PatientSummary, PatientSummary.patient_id == Patient.id)
        .where(
            Patient.clinic_id == clinic_id,
            PatientSummary.clinic_id == clinic_id,
            Patient.status != PatientStatus.DISCHARGED,
            PatientSummary.top_severity > 0,
        )
        .group_by(Patient.responsible_clinician_id)
    )
    return Counter({clinician_id: n for clinician_id, n in rows})


def _questionnaires_answered(
    clinic_id: int, since: datetime, until: datetime
) -> Counter[int | None]:
    """How many questionnaires were submitted from `since` to `until`, by the patient's
    responsible clinician."""
    rows = db.session.execute(
        select(Patient.responsible_clinician_id, func.count(MeasureResponse.id))
        .join(Patient, Patient.id == MeasureResponse.patient_id)
        .where(
            MeasureResponse.clinic_id == clinic_id,
            Patient.clinic_id == clinic_id,
            MeasureResponse.submitted_at >= since,
            MeasureResponse.submitted_at < until,
        )
        .group_by(Patient.responsible_clinician_id)
    )
    return Counter({clinician_id: n for clinician_id, n in rows})
