"""Scoped reads of stored reports: every lookup filters by clinic and patient inside the
query, so another clinic's (or another patient's) report is simply not found."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, undefer

from clinic.extensions import db
from clinic.models import Report


def patient_reports(patient_id: int, clinic_id: int) -> list[Report]:
    """The patient's reports, newest first, with their authors and without their PDFs."""
    return list(
        db.session.scalars(
            select(Report)
            .where(Report.patient_id == patient_id, Report.clinic_id == clinic_id)
            .options(joinedload(Report.author))
            .order_by(Report.created_at.desc(), Report.id.desc())
        )
    )


def get_report_or_404(report_id: int, patient_id: int, clinic_id: int) -> Report:
    """The report with this id, of this patient in this clinic, its PDF loaded; 404 if
    absent or anyone else's."""
    return db.first_or_404(
        select(Report)
        .where(
            Report.id == report_id,
            Report.patient_id == patient_id,
            Report.clinic_id == clinic_id,
        )
        .options(undefer(Report.pdf))
    )
