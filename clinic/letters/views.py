"""Pages of the letters feature.

- `recipients`: the clinic's address book, for its clinicians and administrators (list,
  add, edit, archive and restore), and the clinic's letter templates (administrators, in
  the clinic's settings).
- `letters`: on a patient's chart, the letters written (date, kind, recipients, how each
  was sent, download), writing one, and each letter with its delivery per recipient.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.audit.log import audited
from clinic.core.clock import clinic_today
from clinic.core.downloads import pdf_attachment
from clinic.core.forms import flash_refusal, show_refusal
from clinic.letters.compose import prefill, record_summary
from clinic.letters.forms import LetterForm, LetterTemplatesForm, RecipientForm
from clinic.letters.queries import (
    clinic_letter_templates,
    delivery_status,
    get_letter_or_404,
    patient_letters,
)
from clinic.letters.recipients import (
    RecipientRefused,
    add_recipient,
    clinic_recipients,
    get_recipient_or_404,
    set_archived,
    update_recipient,
)
from clinic.letters.services import (
    LetterRefused,
    LetterRequest,
    create_letter,
    save_letter_templates,
)
from clinic.models import LetterKind, Role
from clinic.models.types import enum_or_none
from clinic.patients.queries import get_patient_or_404

recipients_bp = Blueprint("recipients", __name__, url_prefix="/recipients")
bp = Blueprint("letters", __name__, url_prefix="/patients/<int:patient_id>/letters")

staff = roles(Role.CLINICIAN, Role.ADMIN)
clinicians_only = roles(Role.CLINICIAN)
admins_only = roles(Role.ADMIN)


# The address book -----------------------------------------------------------------------


@recipients_bp.get("")
@staff
@audited("recipient.list")
def index() -> str:
    """The clinic's address book, by name, and those archived."""
    return render_template(
        "letters/recipients.html",
        recipients=clinic_recipients(current_user.clinic_id),
        archived=clinic_recipients(current_user.clinic_id, archived=True),
    )


@recipients_bp.route("/new", methods=["GET", "POST"])
@staff
@audited(change="recipient.create", object_type="recipient")
def new() -> Response | str | tuple[str, int]:
    """Add someone to the address book."""
    form = RecipientForm()
    if form.validate_on_submit():
        try:
            recipient = add_recipient(current_user.clinic_id, form.details(), current_user)
        except RecipientRefused as exc:
            show_refusal(form, exc)
        else:
            flash(f"{recipient.name} was added to the address book.", "success")
            return redirect(url_for("recipients.index", _anchor=f"recipient-{recipient.id}"))
    page = render_template("letters/recipient_form.html", form=form, recipient=None)
    return (page, 400) if request.method == "POST" else page


@recipients_bp.route("/<int:recipient_id>/edit", methods=["GET", "POST"])
@staff
@audited("recipient.form", change="recipient.update", object_type="recipient",
         object_id="recipient_id")
def edit(recipient_id: int) -> Response | str | tuple[str, int]:
    """Change a recipient's details (letters already written keep theirs)."""
    recipient = get_recipient_or_404(recipient_id, current_user.clinic_id)
    form = RecipientForm(obj=recipient, data=None if request.method == "POST" else {
        "role": recipient.role.value})
    if form.validate_on_submit():
        try:
            update_recipient(recipient, form.details(), current_user)
        except RecipientRefused as exc:
            show_refusal(form, exc)
        else:
            flash(f"{recipient.name}'s details were saved.", "success")
            return redirect(url_for("recipients.index", _anchor=f"recipient-{recipient.id}"))
    page = render_template("letters/recipient_form.html", form=form, recipient=recipient)
    return (page, 400) if request.method == "POST" else page


@recipients_bp.post("/<int:recipient_id>/archive")
@staff
@audited(change="recipient.archive", object_type="recipient", object_id="recipient_id")
def archive(recipient_id: int) -> Response:
    """Take a recipient out of the address book (kept: letters name them)."""
    return _set_archived(recipient_id, True)


@recipients_bp.post("/<int:recipient_id>/restore")
@staff
@audited(change="recipient.restore", object_type="recipient", object_id="recipient_id")
def restore(recipient_id: int) -> Response:
    """Put an archived recipient back in the address book."""
    return _set_archived(recipient_id, False)


def _set_archived(recipient_id: int, archived: bool) -> Response:
    recipient = get_recipient_or_404(recipient_id, current_user.clinic_id)
    try:
        set_archived(recipient, archived, current_user)
    except RecipientRefused as exc:
        flash_refusal(exc)
    else:
        flash(
            f"{recipient.name} was {'archived' if archived else 'put back in the address book'}.",
            "success",
        )
    return redirect(url_for("recipients.index"))


@recipients_bp.route("/templates", methods=["GET", "POST"])
@admins_only
@audited("letter_templates.view", change="letter_templates.update", object_type="clinic")
def templates() -> Response | str | tuple[str, int]:
    """The clinic's wording for each kind of letter (administrators, in the settings)."""
    rows = clinic_letter_templates(current_user.clinic_id)
    data = {}
    for kind, row in rows.items():
        data[f"{kind.value}_opening"], data[f"{kind.value}_ask"] = row.opening, row.ask
    form = LetterTemplatesForm(data=None if request.method == "POST" else data)
    if form.validate_on_submit():
        save_letter_templates(current_user.clinic_id, form.wording(), current_user)
        flash("The letter templates were saved.", "success")
        return redirect(url_for("recipients.templates"))
    page = render_template("letters/templates.html", form=form, kinds=list(LetterKind))
    return (page, 400) if request.method == "POST" else page


# A patient's letters ---------------------------------------------------------------------


@bp.get("")
@clinicians_only
@audited("letter.list", patient="patient_id")
def index(patient_id: int) -> str:
    """The patient's letters, newest first: date, kind, recipients, how each was sent."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    letters = patient_letters(patient.id, patient.clinic_id)
    return render_template(
        "letters/index.html",
        patient=patient,
        letters=letters,
        copies=delivery_status(letters),
    )


@bp.route("/new", methods=["GET", "POST"])
@clinicians_only
@audited("letter.form", change="letter.create", patient="patient_id")
def new(patient_id: int) -> Response | str | tuple[str, int]:
    """Write a letter from a template, prefilled from the record, to recipients of the
    address book; keep it and send it."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    source = request.form if request.method == "POST" else request.args
    kind = enum_or_none(LetterKind, source.get("kind", "")) or LetterKind.REFERRAL
    template = clinic_letter_templates(patient.clinic_id)[kind]
    today = clinic_today(patient.clinic.timezone)
    address_book = clinic_recipients(patient.clinic_id)
    if request.method == "POST":
        form = LetterForm(recipients=address_book)
    else:
        summary = record_summary(patient, current_user, today)
        text = prefill(kind, template, patient, summary)
        form = LetterForm(
            recipients=address_book,
            data={"kind": kind.value, **text.__dict__, "with_report": summary is not None},
        )
    if form.validate_on_submit():
        try:
            letter = create_letter(
                patient,
                LetterRequest(
                    kind=LetterKind(form.kind.data),
                    recipient_ids=tuple(form.recipients.data),
                    text=form.text(),
                    with_report=form.with_report.data,
                ),
                current_user._get_current_object(),
                today,
            )
        except LetterRefused as exc:
            show_refusal(form, exc)
        else:
            flash("The letter was written and kept with the record.", "success")
            return redirect(url_for("letters.show", patient_id=patient.id, letter_id=letter.id))
    page = render_template(
        "letters/new.html", patient=patient, form=form, kind=kind, kinds=list(LetterKind),
        address_book=address_book,
    )
    return (page, 400) if request.method == "POST" else page


@bp.get("/<int:letter_id>")
@clinicians_only
@audited("letter.view", patient="patient_id", object_type="letter", object_id="letter_id")
def show(patient_id: int, letter_id: int) -> str:
    """One letter: to whom, how each copy went (queued, sent, failed), and the PDF."""
    patient = get_patient_or_404(patient_id, current_user.clinic_id)
    letter = get_letter_or_404(letter_id, patient.id, patient.clinic_id)
    return render_template(
        "letters/show.html", patient=patient, letter=letter, copies=delivery_status([letter])
    )


@bp.get("/<int:letter_id>/download")
@clinicians_only
@audited("letter.download", patient="patient_id", object_type="letter", object_id="letter_id")
def download(patient_id: int, letter_id: int) -> Response:
    """The letter's PDF, byte for byte as it was produced, under its discreet name."""
    letter = get_letter_or_404(letter_id, patient_id, current_user.clinic_id, with_pdf=True)
    return pdf_attachment(letter.pdf, letter.file_name)
