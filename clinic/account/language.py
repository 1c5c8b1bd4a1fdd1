"""The language a patient reads their portal, emails and printed sheets in, chosen on
their account page (`/account/language`, clinic.account.views): English, or a language
their clinic has turned on (clinic.i18n.choosable_languages), each offered by its own
name ("Español"). Saved on the patient's record (the clinician sees it on the chart)
and audited; the next page is in it. Staff have no choice here: their pages are in English.

The record is always the signed-in patient's own (from the session, never from the
form), so no one can change another patient's language.
"""

from __future__ import annotations

from flask_babel import gettext as _

from clinic.account.forms import LanguageForm
from clinic.audit.log import record
from clinic.core.refusals import Refusal
from clinic.extensions import db
from clinic.i18n import Language, choosable_languages
from clinic.models import Patient, User


def language_form(user: User, patient: Patient | None) -> LanguageForm | None:
    """The patient's language choice, showing their record's language, or None when there
    is nothing to choose (their clinic has turned on no language besides English)."""
    languages = choosable_languages(user.clinic_id)
    if patient is None or len(languages) < 2:
        return None
    codes = {entry.code for entry in languages}
    chosen = patient.language if patient.language in codes else "en"
    return LanguageForm(languages=languages, data={"language": chosen})


def set_language(user: User, patient: Patient, code: str) -> Language:
    """Keep `code` as the patient's language, if it is one they may choose (English or one
    their clinic has turned on); refused otherwise, with nothing saved. Audited with the
    language before and after."""
    languages = {entry.code: entry for entry in choosable_languages(user.clinic_id)}
    if code not in languages:
        raise Refusal(_("Choose one of the languages listed."), field="language")
    before = patient.language
    patient.language = code
    db.session.flush()
    record(
        "account.language",
        actor=user,
        patient_id=patient.id,
        object_type="patient",
        object_id=patient.id,
        detail={"from": before, "to": code},
    )
    return languages[code]
