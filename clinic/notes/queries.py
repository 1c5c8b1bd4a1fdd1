"""Scoped loaders for clinical notes. Every read of a note goes through here.

Each loader filters by patient and clinic inside the query, so another patient's or
another clinic's note is simply not found (404).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from clinic.extensions import db
from clinic.models import ClinicalNote


def get_note_or_404(note_id: int, patient_id: int, clinic_id: int) -> ClinicalNote:
    """The note (or addendum) with this id, of this patient, in this clinic; 404 if absent
    or anyone else's."""
    return db.first_or_404(
        select(ClinicalNote)
        .where(
            ClinicalNote.id == note_id,
            ClinicalNote.patient_id == patient_id,
            ClinicalNote.clinic_id == clinic_id,
        )
        .options(joinedload(ClinicalNote.author))
    )


def notes_for(patient_id: int, clinic_id: int, limit: int | None = None) -> list[ClinicalNote]:
    """The patient's original notes, newest first (the latest `limit` if given), each with
    its author, its earlier wording and its addenda (oldest first, with their authors and
    earlier wording) loaded: at most four queries, however many notes there are."""
    whose = {"patient_id": patient_id, "clinic_id": clinic_id}
    if limit is None:
        return list(db.session.scalars(_NOTES, whose))
    return list(db.session.scalars(_LATEST_NOTES, {**whose, "limit": limit}))


# Built once (the timeline shows the latest notes on every view): building a statement
# with its loader options costs more than running it.
_NOTES = (
    select(ClinicalNote)
    .where(
        ClinicalNote.patient_id == bindparam("patient_id"),
        ClinicalNote.clinic_id == bindparam("clinic_id"),
        ClinicalNote.addendum_to_id.is_(None),
    )
    .options(
        joinedload(ClinicalNote.author),
        selectinload(ClinicalNote.revisions),
        selectinload(ClinicalNote.addenda).options(
            joinedload(ClinicalNote.author), selectinload(ClinicalNote.revisions)
        ),
    )
    .order_by(ClinicalNote.written_at.desc(), ClinicalNote.id.desc())
)
_LATEST_NOTES = _NOTES.limit(bindparam("limit"))
