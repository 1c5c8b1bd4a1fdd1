"""Reading a clinic's languages: always scoped to one clinic."""

from __future__ import annotations

import sqlalchemy as sa

from clinic.extensions import db
from clinic.models import ClinicLanguage, Patient


def turned_on(clinic_id: int) -> dict[str, ClinicLanguage]:
    """The languages this clinic has turned on, by code (English needs no row)."""
    rows = db.session.scalars(
        sa.select(ClinicLanguage).where(ClinicLanguage.clinic_id == clinic_id)
    )
    return {row.code: row for row in rows}


def patients_per_language(clinic_id: int) -> dict[str, int]:
    """How many of the clinic's patient records name each language (one query)."""
    rows = db.session.execute(
        sa.select(Patient.language, sa.func.count())
        .where(Patient.clinic_id == clinic_id)
        .group_by(Patient.language)
    )
    return {code: count for code, count in rows}
