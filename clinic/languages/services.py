"""Turning a language on or off for a clinic's patients (audited; the view commits)."""

from __future__ import annotations

from datetime import date

from clinic.audit.log import record
from clinic.core.refusals import Refusal
from clinic.extensions import db
from clinic.i18n import DEFAULT_LANGUAGE, LANGUAGES
from clinic.languages.queries import turned_on
from clinic.models import ClinicLanguage, User


def _known(code: str) -> None:
    if code not in LANGUAGES or code == DEFAULT_LANGUAGE:
        raise Refusal("This language is not one the software ships.")


def turn_on(clinic_id: int, code: str, reviewed_by: str, reviewed_on: date, by: User) -> None:
    """Offer `code` to the clinic's patients, recording who reviewed it for the clinic.
    Patients whose record names the language read it from their next page."""
    _known(code)
    if code in turned_on(clinic_id):
        raise Refusal(f"{LANGUAGES[code].name} is already on.")
    row = ClinicLanguage(
        clinic_id=clinic_id,
        code=code,
        reviewed_by=reviewed_by,
        reviewed_on=reviewed_on,
        turned_on_by_id=by.id,
    )
    db.session.add(row)
    db.session.flush()
    record(
        "clinic.language_on",
        object_type="clinic",
        object_id=clinic_id,
        detail={"language": code, "reviewed_by": reviewed_by, "reviewed_on": str(reviewed_on)},
    )


def turn_off(clinic_id: int, code: str) -> None:
    """Stop offering `code`: its patients read English from their next page (their record
    keeps the language, so turning it on again restores it)."""
    _known(code)
    row = turned_on(clinic_id).get(code)
    if row is None:
        raise Refusal(f"{LANGUAGES[code].name} is already off.")
    db.session.delete(row)
    db.session.flush()
    record(
        "clinic.language_off", object_type="clinic", object_id=clinic_id, detail={"language": code}
    )
