"""Clinician pages for a patient's clinical notes: read them, write one, change one's own
within 24 hours, add an addendum."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.audit.log import audited
from clinic.core.forms import show_refusal
from clinic.models import ClinicalNote, Patient, Role
from clinic.models.types import utcnow
from clinic.notes.forms import AddendumForm, NoteForm
from clinic.notes.queries import get_note_or_404, notes_for
from clinic.notes.services import (
    ADDENDUM_REFUSED,
    EDIT_REFUSED,
    NoteChangedMeanwhile,
    NoteError,
    can_take_addendum,
    change_note,
    write_addendum,
    write_note,
)
from clinic.patients.queries import get_patient_or_404

bp = Blueprint("notes", __name__, url_prefix="/patients/<int:patient_id>/notes")

clinicians_only = roles(Role.CLINICIAN)


def _notes_url(patient_id: int, note: ClinicalNote | None = None) -> str:
    anchor = f"note-{note.id}" if note is not None else None
    return url_for("notes.index", patient_id=patient_id, _anchor=anchor)


def _render_index(patient: Patient, form: NoteForm) -> str:
    return render_template(
        "notes/index.html",
        patient=patient,
        notes=notes_for(patient.id, patient.clinic_id),
        form=form,
        now=utcnow(),
    )


@bp.get("")
@clinicians_only
@audited("note.list", patient="patient_id")
def index(patient_id: int) -> str:
    """All of the patient's notes, newest first, each with its addenda; and a new note."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    return _render_index(patient, NoteForm())


@bp.post("")
@clinicians_only
@audited(change="note.write", patient="patient_id")
def add(patient_id: int) -> Response | tuple[str, int]:
    """Write a note, signed by the clinician and dated now."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    form = NoteForm()
    if form.validate_on_submit():
        note = write_note(patient, current_user, form.body.data)
        flash(_("The note was added."), "success")
        return redirect(_notes_url(patient.id, note))
    return _render_index(patient, form), 400


@bp.route("/<int:note_id>/edit", methods=["GET", "POST"])
@clinicians_only
@audited(
    "note.edit_form",
    change="note.edit",
    patient="patient_id",
    object_type="note",
    object_id="note_id",
)
def edit(patient_id: int, note_id: int) -> Response | str | tuple[str, int]:
    """Change a note: only its author, only within 24 hours of writing it."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    note = get_note_or_404(note_id, patient.id, patient.clinic_id)
    if not note.editable_by(current_user, utcnow()):
        if request.method == "GET":
            flash(_(EDIT_REFUSED), "error")
            return redirect(_notes_url(patient.id, note))
        # Sent just after the window closed (or by someone else): keep the text on the
        # page, so it can be saved as an addendum instead of being lost.
        form = NoteForm()
        form.body.errors = [_(EDIT_REFUSED)]
        return _render_edit(patient, note, form, refused=True), 403
    form = NoteForm(data=None if request.method == "POST" else {"body": note.body})
    if form.validate_on_submit():
        try:
            change_note(note, current_user, form.body.data)
        except NoteChangedMeanwhile as exc:
            show_refusal(form, exc, "body")
            return _render_edit(patient, note, form, refused=False), 409
        except NoteError as exc:  # the 24 hours ran out while the form was being checked
            show_refusal(form, exc, "body")
            return _render_edit(patient, note, form, refused=True), 403
        flash(_("The note was updated."), "success")
        return redirect(_notes_url(patient.id, note))
    return _render_edit(patient, note, form, refused=False)


def _render_edit(patient: Patient, note: ClinicalNote, form: NoteForm, refused: bool) -> str:
    # An addendum's text, refused as an edit, becomes an addendum to the original note.
    original_id = note.addendum_to_id or note.id
    return render_template(
        "notes/edit.html",
        patient=patient,
        note=note,
        form=form,
        refused=refused,
        addendum_url=url_for("notes.add_addendum", patient_id=patient.id, note_id=original_id),
    )


@bp.post("/<int:note_id>/addendum")
@clinicians_only
@audited(change="note.addendum", patient="patient_id", object_type="note", object_id="note_id")
def add_addendum(patient_id: int, note_id: int) -> Response | tuple[str, int]:
    """Add an addendum to a note, signed by the clinician and dated now."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    note = get_note_or_404(note_id, patient.id, patient.clinic_id)
    if not can_take_addendum(note):
        flash(_(ADDENDUM_REFUSED), "error")
        return redirect(_notes_url(patient.id, note))
    form = AddendumForm()
    if form.validate_on_submit():
        addendum = write_addendum(note, current_user, form.body.data)
        flash(_("The addendum was added."), "success")
        return redirect(_notes_url(patient.id, addendum))
    return render_template("notes/addendum.html", patient=patient, note=note, form=form), 400
