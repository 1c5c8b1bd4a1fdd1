"""The clinic's address book of letter recipients, for its clinicians and administrators
(list, add, edit, archive and restore), and the clinic's letter templates
(administrators, beside the clinic's settings)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.audit.log import audited
from clinic.core.forms import flash_refusal, show_refusal
from clinic.letters.forms import LetterTemplatesForm, RecipientForm
from clinic.letters.queries import clinic_letter_templates
from clinic.letters.recipients import (
    RecipientRefused,
    add_recipient,
    clinic_recipients,
    get_recipient_or_404,
    set_archived,
    update_recipient,
)
from clinic.letters.services import save_letter_templates
from clinic.models import LetterKind, Role

bp = Blueprint("recipients", __name__, url_prefix="/recipients")

staff = roles(Role.CLINICIAN, Role.ADMIN)
admins_only = roles(Role.ADMIN)


@bp.get("")
@staff
@audited("recipient.list")
def index() -> str:
    """The clinic's address book, by name, and those archived."""
    return render_template(
        "letters/recipients.html",
        recipients=clinic_recipients(current_user.clinic_id),
        archived=clinic_recipients(current_user.clinic_id, archived=True),
    )


@bp.route("/new", methods=["GET", "POST"])
@staff
@audited("recipient.form", change="recipient.create", object_type="recipient")
def new() -> Response | str | tuple[str, int]:
    """Add someone to the address book."""
    form = RecipientForm()
    if form.validate_on_submit():
        try:
            recipient = add_recipient(current_user.clinic_id, form.details(), current_user)
        except RecipientRefused as exc:
            show_refusal(form, exc)
        else:
            flash(_("%(name)s was added to the address book.", name=recipient.name), "success")
            return redirect(url_for("recipients.index", _anchor=f"recipient-{recipient.id}"))
    page = render_template("letters/recipient_form.html", form=form, recipient=None)
    return (page, 400) if request.method == "POST" else page


@bp.route("/<int:recipient_id>/edit", methods=["GET", "POST"])
@staff
@audited(
    "recipient.form", change="recipient.update", object_type="recipient", object_id="recipient_id"
)
def edit(recipient_id: int) -> Response | str | tuple[str, int]:
    """Change a recipient's details (letters already written keep theirs)."""
    recipient = get_recipient_or_404(recipient_id, current_user.clinic_id)
    form = RecipientForm(
        obj=recipient, data=None if request.method == "POST" else {"role": recipient.role.value}
    )
    if form.validate_on_submit():
        try:
            update_recipient(recipient, form.details(), current_user)
        except RecipientRefused as exc:
            show_refusal(form, exc)
        else:
            flash(_("%(name)s's details were saved.", name=recipient.name), "success")
            return redirect(url_for("recipients.index", _anchor=f"recipient-{recipient.id}"))
    page = render_template("letters/recipient_form.html", form=form, recipient=recipient)
    return (page, 400) if request.method == "POST" else page


@bp.post("/<int:recipient_id>/archive")
@staff
@audited(change="recipient.archive", object_type="recipient", object_id="recipient_id")
def archive(recipient_id: int) -> Response:
    """Take a recipient out of the address book (kept: letters name them)."""
    return _set_archived(recipient_id, True)


@bp.post("/<int:recipient_id>/restore")
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
            _("%(name)s was archived.", name=recipient.name)
            if archived
            else _("%(name)s was put back in the address book.", name=recipient.name),
            "success",
        )
    return redirect(url_for("recipients.index"))


@bp.route("/templates", methods=["GET", "POST"])
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
        flash(_("The letter templates were saved."), "success")
        return redirect(url_for("recipients.templates"))
    page = render_template("letters/templates.html", form=form, kinds=list(LetterKind))
    return (page, 400) if request.method == "POST" else page
