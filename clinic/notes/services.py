"""Writing clinical notes. Functions flush; the unit of work commits once.

A note is signed by its author and dated when written. Its author may change it for 24
hours (the change is marked, and the wording it replaced is kept as a revision: the record
never loses what was signed); after that, or for anyone else, only an addendum can add to
it. Addenda hang off the original note: an addendum never has addenda of its own.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import update

from clinic.audit.log import record
from clinic.core.statements import affected_rows
from clinic.domain.text import N_
from clinic.extensions import db
from clinic.models import ClinicalNote, ClinicalNoteRevision, Patient, User
from clinic.models.types import utcnow

# Marked here, translated where they are raised or shown.
EDIT_REFUSED = N_("Notes can be changed for 24 hours by their author; add an addendum instead.")
ADDENDUM_REFUSED = N_(
    "An addendum cannot have addenda of its own; add one to the original note instead."
)


class NoteError(ValueError):
    """The note cannot be written as asked; the message says why in plain words."""


def can_take_addendum(note: ClinicalNote) -> bool:
    """Whether addenda may be added to `note` (only original notes take them)."""
    return note.addendum_to_id is None


def write_note(
    patient: Patient, author: User, body: str, now: datetime | None = None
) -> ClinicalNote:
    """Record a note about the patient, signed by `author` and dated now."""
    note = ClinicalNote(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        author_id=author.id,
        body=body,
        written_at=now or utcnow(),
    )
    db.session.add(note)
    db.session.flush()
    record("note.write", patient_id=patient.id, object_type="note", object_id=note.id, actor=author)
    return note


def change_note(note: ClinicalNote, editor: User, body: str, now: datetime | None = None) -> None:
    """Replace the note's text, keeping the text it replaces as a revision; only its
    author may, within 24 hours of writing it."""
    now = now or utcnow()
    if not note.editable_by(editor, now):
        raise NoteError(_(EDIT_REFUSED))
    if body == note.body:
        return  # saved unchanged: nothing was edited, so no "edited" mark and no revision
    # Added by its key, not through `note.revisions`, which is never lazy-loaded.
    db.session.add(
        ClinicalNoteRevision(
            note_id=note.id,
            body=note.body,
            written_at=note.edited_at or note.written_at,
            replaced_at=now,
            replaced_by_id=editor.id,
        )
    )
    # Compare-and-set: if the text changed since this request read it (the author saving
    # from two windows), refuse rather than lose the wording in between unrecorded.
    changed = affected_rows(
        update(ClinicalNote)
        .where(ClinicalNote.id == note.id, ClinicalNote.body == note.body)
        .values(body=body, edited_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed != 1:
        raise NoteChangedMeanwhile()
    db.session.expire(note)
    db.session.flush()
    record(
        "note.edit", patient_id=note.patient_id, object_type="note", object_id=note.id, actor=editor
    )


class NoteChangedMeanwhile(NoteError):
    """The note's text changed after the edit form was checked."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "This note was changed meanwhile, perhaps in another window. Your text is "
                "below: open the note again to see its latest wording, then make your change."
            )
        )


def write_addendum(
    note: ClinicalNote, author: User, body: str, now: datetime | None = None
) -> ClinicalNote:
    """Add an addendum to an original note, signed by `author` and dated now."""
    if not can_take_addendum(note):
        raise NoteError(_(ADDENDUM_REFUSED))
    addendum = ClinicalNote(
        clinic_id=note.clinic_id,
        patient_id=note.patient_id,
        author_id=author.id,
        addendum_to_id=note.id,
        body=body,
        written_at=now or utcnow(),
    )
    db.session.add(addendum)
    db.session.flush()
    record(
        "note.addendum",
        patient_id=note.patient_id,
        object_type="note",
        object_id=addendum.id,
        actor=author,
    )
    return addendum
