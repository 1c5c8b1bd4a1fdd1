"""Administrators' page of the languages the clinic offers its patients."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.audit.log import audited
from clinic.core.forms import flash_refusal, show_refusal
from clinic.core.refusals import Refusal
from clinic.i18n import DEFAULT_LANGUAGE, LANGUAGES
from clinic.languages.forms import TurnOnLanguageForm
from clinic.languages.queries import patients_per_language, turned_on
from clinic.languages.services import turn_off, turn_on
from clinic.models import Role

bp = Blueprint("languages", __name__, url_prefix="/admin/languages")

admins_only = roles(Role.ADMIN)


def _page(forms: dict[str, TurnOnLanguageForm] | None = None) -> str:
    clinic_id = current_user.clinic_id
    offered = [code for code in LANGUAGES if code != DEFAULT_LANGUAGE]
    forms = forms or {}
    return render_template(
        "languages/index.html",
        languages=[LANGUAGES[code] for code in offered],
        on=turned_on(clinic_id),
        patients=patients_per_language(clinic_id),
        forms={code: forms.get(code) or TurnOnLanguageForm(prefix=code) for code in offered},
    )


@bp.get("/")
@admins_only
@audited("clinic.languages_view")
def index() -> str:
    """Each shipped language with its review status, whether the clinic offers it, and how
    many patient records name it."""
    return _page()


@bp.post("/<code>/on")
@admins_only
@audited(change="clinic.language_on", object_type="clinic")
def switch_on(code: str) -> Response | str:
    """Turn a language on, recording the clinic's review of it."""
    if code not in LANGUAGES or code == DEFAULT_LANGUAGE:
        abort(404)
    form = TurnOnLanguageForm(prefix=code)
    if form.validate_on_submit():
        try:
            turn_on(
                current_user.clinic_id,
                code,
                form.reviewed_by.data,
                form.reviewed_on.data,
                by=current_user,
            )
        except Refusal as refusal:
            show_refusal(form, refusal)
        else:
            flash(
                _(
                    "%(language)s is on: patients whose record names it read it from their "
                    "next page.",
                    language=LANGUAGES[code].name,
                ),
                "success",
            )
            return redirect(url_for("languages.index"))
    return _page({code: form})


@bp.post("/<code>/off")
@admins_only
@audited(change="clinic.language_off", object_type="clinic")
def switch_off(code: str) -> Response:
    """Turn a language off: its patients read English from their next page."""
    if code not in LANGUAGES or code == DEFAULT_LANGUAGE:
        abort(404)
    try:
        turn_off(current_user.clinic_id, code)
    except Refusal as refusal:
        flash_refusal(refusal)
    else:
        flash(
            _(
                "%(language)s is off: its patients read English from their next page.",
                language=LANGUAGES[code].name,
            ),
            "success",
        )
    return redirect(url_for("languages.index"))
