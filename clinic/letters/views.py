"""A patient's letters, on the chart: the letters written (date, kind, recipients, how
each was sent, download), writing one from a clinic template prefilled from the record,
and each letter with its delivery per recipient."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.audit.log import audited
from clinic.core.clock import clinic_today
from clinic.core.downloads import pdf_attachment
from clinic.core.forms import show_refusal
from clinic.core.uow import discard
from clinic.diary.forms import new_submission_key
from clinic.letters.compose import prefill, record_summary
from clinic.letters.forms import LetterForm
from clinic.letters.queries import (
    clinic_letter_templates,
    delivery_status,
    get_letter_or_404,
    letter_by_key,
    patient_letters,
)
from clinic.letters.recipients import clinic_recipients
from clinic.letters.services import LetterRefused, LetterRequest, create_letter
from clinic.models import LetterKind, Role
from clinic.models.types import enum_or_none
from clinic.patients.queries import get_patient_or_404

bp = Blueprint("letters", __name__, url_prefix="/patients/<int:patient_id>/letters")

clinicians_only = roles(Role.CLINICIAN)


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
            data={
                "kind": kind.value,
                **text.__dict__,
                "with_report": summary is not None,
                "key": new_submission_key(),
            },
        )
    if form.validate_on_submit():
        # The same form sent again (a double click, a reload): show the letter it made,
        # and send nothing again.
        existing = letter_by_key(patient.id, patient.clinic_id, form.key.data)
        if existing is not None:
            return redirect(url_for("letters.show", patient_id=patient.id, letter_id=existing.id))
        try:
            letter = create_letter(
                patient,
                LetterRequest(
                    kind=LetterKind(form.kind.data),
                    recipient_ids=tuple(form.recipients.data),
                    text=form.text(),
                    with_report=form.with_report.data,
                    key=form.key.data,
                ),
                current_user._get_current_object(),
                today,
            )
        except LetterRefused as exc:
            show_refusal(form, exc)
        except IntegrityError:  # the same form, sent twice at the same moment
            discard()  # nothing of this request is kept: show the letter the other one made
            existing = letter_by_key(patient.id, patient.clinic_id, form.key.data)
            if existing is None:
                raise
            return redirect(url_for("letters.show", patient_id=patient.id, letter_id=existing.id))
        else:
            flash(_("The letter was written and kept with the record."), "success")
            return redirect(url_for("letters.show", patient_id=patient.id, letter_id=letter.id))
    page = render_template(
        "letters/new.html",
        patient=patient,
        form=form,
        kind=kind,
        kinds=list(LetterKind),
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
