"""The languages the patient's side speaks (issue 20), and which one a request is served in.

Everything a patient reads is marked for translation (`gettext`/`_` in Python and
templates) and kept in gettext catalogues under clinic/translations/ (see the README's
"Languages"). The clinician's side is marked too but ships in English: staff are always
served English, whatever their browser asks for.

Which language a page speaks:
- a signed-in patient: the language on their record, if their clinic has turned it on (a
  clinic turns a language on only after its own review of the safety wording; see
  clinic.languages); otherwise English;
- staff: English;
- before sign-in: the browser's Accept-Language, among the shipped languages.

Safety wording is clinical content, so each shipped language carries its review status,
shown to the administrator who decides whether their clinic turns it on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from babel import Locale
from babel.support import NullTranslations, Translations
from flask import Flask, g, has_app_context, has_request_context, request
from flask_babel import force_locale, get_locale, get_translations, refresh
from flask_babel.speaklater import LazyString  # type: ignore[import-untyped]
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from wtforms.i18n import messages_path

if TYPE_CHECKING:
    from clinic.models import User

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
_ENGLISH = Locale("en")
_NO_TRANSLATIONS = NullTranslations()


@dataclass(frozen=True)
class Language:
    """A language the patient's side can be read in."""

    code: str
    # The English name (for staff pages) and the language's own name (for the patient's
    # choice: a patient looks for "Español", not "Spanish").
    name: str
    native: str
    # "rtl" for a right-to-left script: pages set dir="rtl" and the style sheet uses
    # logical properties (margin-inline-start, not margin-left), so the layout mirrors.
    direction: str = "ltr"
    # The tag pages and PDFs declare (<html lang>, PDF /Lang); English is British English.
    tag: str = ""
    # Who translated it and who has reviewed it, as shipped. A clinic records its own
    # clinical review when it turns the language on.
    review: str = ""

    @property
    def label(self) -> str:
        """How staff pages name it: "Spanish (Español)", "English"."""
        return self.name if self.native == self.name else f"{self.name} ({self.native})"

    @property
    def lang(self) -> str:
        """The BCP 47 tag a page or PDF in this language declares."""
        return self.tag or self.code


DEFAULT_LANGUAGE = "en"

LANGUAGES: dict[str, Language] = {
    "en": Language(
        "en",
        "English",
        "English",
        tag="en-GB",
        review="Source language: the wording clinicians reviewed against the clinical reference.",
    ),
    "es": Language(
        "es",
        "Spanish",
        "Español",
        review=(
            "Translated by the development team from the reviewed English; not yet reviewed "
            "by a Spanish-speaking pelvic-health clinician. Review the safety guidance and "
            "the guided session before turning it on."
        ),
    ),
    "fr": Language(
        "fr",
        "French",
        "Français",
        review=(
            "Translated by the development team from the reviewed English; not yet reviewed "
            "by a French-speaking pelvic-health clinician. Review the safety guidance and "
            "the guided session before turning it on."
        ),
    ),
}


# The files whose every message a patient can read (or receive): each shipped language must
# translate all of them (tests/unit/test_translations.py). A file with both a patient's and
# a clinician's messages is listed whole: translating a clinician's message too costs
# nothing, missing a patient's costs their understanding. Paths from the project's root.
PATIENT_FACING: tuple[str, ...] = (
    "templates/base.html",
    "templates/layout",
    "templates/macros.html",
    "templates/portal",
    "templates/auth",
    "templates/account",
    "templates/errors",
    "templates/push",
    "templates/safety/about.html",
    "templates/rights/my_data.html",
    "templates/shared/_safety_guidance.html",
    "templates/shared/_session_plan.html",
    "templates/shared/_sharp_pain.html",
    "templates/mail/email_address_in_use.txt",
    "templates/mail/email_change_link.txt",
    "templates/mail/email_change_requested.txt",
    "templates/mail/email_changed.txt",
    "templates/mail/invitation.txt",
    "templates/mail/invitation_reminder.txt",
    "templates/mail/password_changed.txt",
    "templates/mail/password_reset.txt",
    "templates/mail/questionnaire_ready.txt",
    "templates/mail/reminder.txt",
    "templates/mail/reminder_nudge.txt",
    "templates/mail/two_factor_off.txt",
    "reports/instructions.html",
    "reports/_layout.html",
    "templates/protocols/_instruction_sheet.html",
    "clinic/reporting/instructions.py",
    "clinic/measures/answers.py",
    "clinic/domain/indications.py",
    "clinic/portal",
    "clinic/auth",
    "clinic/account",
    # The brand every page carries ("Therapy diary"), and the date formats.
    "clinic/core/templating.py",
    # The diary's forms and refusals, the reminders page, form errors, composed words
    # (sizes, schedules), and the domain's labels and sentences the portal shows: skip
    # reasons, bleeding answers, concerns, the red flags' names ("You told us about ..."),
    # the guided session's steps, maintenance durations, milestones, day names,
    # reminder subjects, and the progress charts' titles, descriptions and keys.
    "clinic/diary",
    "clinic/reminders/forms.py",
    "clinic/reminders/views.py",
    "clinic/core/forms.py",
    "clinic/core/words.py",
    "clinic/core/timezones.py",
    "clinic/domain/diary.py",
    "clinic/domain/session_guide.py",
    "clinic/domain/reminders.py",
    "clinic/models/reminders.py",
    "clinic/monitoring/progress.py",
    "clinic/charts/__init__.py",
    "clinic/push",
    "clinic/core/errors.py",
    "clinic/core/navigation.py",
    "clinic/domain/passwords.py",
    "clinic/reminders/sending.py",
    "clinic/schedule/questionnaires.py",
    "clinic/rights/summary.py",
    # The "my data" page's words for the record and its program: the patient's status,
    # the protocol's status and changes ("Started", "Moved up a stage"), the questionnaire
    # occasions ("At the start", "Week 4"), the names of the alerts their team saw.
    "clinic/models/patients.py",
    "clinic/domain/protocols.py",
    "clinic/measures/schedule.py",
    "clinic/domain/flags.py",
    "clinic/__init__.py",
)


def is_patient_facing(path: str) -> bool:
    """Whether a source file (a path from the project's root) holds messages a patient
    reads."""
    return any(path == entry or path.startswith(f"{entry}/") for entry in PATIENT_FACING)


def language(code: str | None) -> Language:
    """The shipped language with this code, English for any other."""
    return LANGUAGES.get(code or DEFAULT_LANGUAGE) or LANGUAGES[DEFAULT_LANGUAGE]


def select_locale() -> str:
    """The language this request is served in (Flask-Babel's locale selector; see the
    module docstring for the rule)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    if (chosen := g.get(_SERVE_IN)) is not None:
        return str(chosen)
    if current_user.is_authenticated:
        if current_user.role.is_patient:
            # Loaded with the account in the same statement (User.language): the record's
            # language if the clinic has turned it on, else nothing.
            return language(current_user.language).code
        return DEFAULT_LANGUAGE
    return browser_language()


def browser_language() -> str:
    """The shipped language the browser asks for first (Accept-Language), else English:
    the language of every page before sign-in."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    return request.accept_languages.best_match(LANGUAGES, DEFAULT_LANGUAGE)


_SERVE_IN = "serve_in_language"


def serve_in(code: str) -> None:
    """Serve the rest of this request in `code` (a page that knows whose it is before
    anyone signs in: an invitation or reset link opens in its patient's language, not the
    browser's)."""
    setattr(g, _SERVE_IN, language(code).code)
    # Flask-Babel keeps the request's language once asked: ask again.
    refresh()


def select_timezone() -> str | None:
    """The time zone dates and times are shown in: the signed-in account's clinic's
    (a patient's portal already counts days in it; see clinic.core.clock)."""
    if has_request_context() and current_user.is_authenticated:
        return str(current_user.clinic.timezone)
    return None


# --- The language of what reaches a patient outside a page ------------------------------
# Emails and notifications are composed by a request in someone else's language (a
# clinician inviting a patient) or by the worker, in none: each is written inside
# `in_language_of(recipient)` (or `speaking(code)` when the code was loaded with a batch).


def language_for(user: User) -> str:
    """The language of a message to this account (an email, a notification): a patient's
    own (their record's language, if their clinic has turned it on), English for staff.
    Read from the database now, not from the loaded account, so a language chosen in the
    same unit of work counts."""
    from clinic.extensions import db
    from clinic.models import User

    # User.language: the record's language when the clinic has turned it on, else NULL.
    code = db.session.scalar(sa.select(User.language).where(User.id == user.id))
    return language(code).code


def link_language(user: User) -> str | None:
    """The language a page reached through an emailed link (an invitation, a password
    reset) speaks before anyone signs in, when the link decides it: a staff member's is
    English; a patient's is their language when it is one their clinic has turned on
    other than English. None: the browser's Accept-Language decides, as for any
    visitor."""
    if not user.role.is_patient:
        return DEFAULT_LANGUAGE
    code = language_for(user)
    return None if code == DEFAULT_LANGUAGE else code


def turned_on_codes(clinic_id: int) -> set[str]:
    """The shipped languages this clinic has turned on (English needs no turning on)."""
    from clinic.extensions import db
    from clinic.models import ClinicLanguage

    return set(
        db.session.scalars(
            sa.select(ClinicLanguage.code).where(ClinicLanguage.clinic_id == clinic_id)
        )
    )


def served_language(clinic_id: int, code: str) -> str:
    """What a patient whose record names `code` reads at this clinic: `code` once the
    clinic has turned it on, else English (User.language says the same for an account)."""
    if code == DEFAULT_LANGUAGE or code not in turned_on_codes(clinic_id):
        return DEFAULT_LANGUAGE
    return language(code).code


def choosable_languages(clinic_id: int) -> list[Language]:
    """The languages a patient of this clinic may choose: English, and the shipped ones
    the clinic has turned on, in the registry's order."""
    turned_on = turned_on_codes(clinic_id)
    return [
        entry for code, entry in LANGUAGES.items() if code == DEFAULT_LANGUAGE or code in turned_on
    ]


@contextmanager
def speaking(code: str) -> Iterator[None]:
    """Render what is inside (a message's subject and body, composed by the worker or by a
    request in another language) in the language `code`."""
    with force_locale(language(code).code):
        yield


def in_language_of(user: User) -> AbstractContextManager[None]:
    """Render what is inside in the language of a message to `user` (`language_for`)."""
    return speaking(language_for(user))


# --- Looking messages up fast ------------------------------------------------------------
# Flask-Babel finds the catalogue again for every message (its context, the domain, the
# locale's name: about 14 microseconds), and a page says a few hundred messages; staff
# pages, all English, paid 10 to 20% of their throughput for it. The catalogue is kept
# here for the locale object Flask-Babel holds for the request: `force_locale` and
# `refresh` (a language chosen, an email in its reader's language) put a new object
# there, so a change of language is never missed.


def current_locale() -> Locale:
    """The locale being spoken now (English outside an app context)."""
    if not has_app_context():
        return _ENGLISH
    state = g.get("_flask_babel")
    chosen = getattr(state, "babel_locale", None) if state is not None else None
    if chosen is None:
        chosen = get_locale()
    return chosen or _ENGLISH


def translations() -> NullTranslations:
    """The catalogue of the language being spoken now."""
    if not has_app_context():
        return _NO_TRANSLATIONS
    locale = current_locale()
    state = g._flask_babel  # made by current_locale's get_locale()
    kept = getattr(state, "clinic_translations", None)
    if kept is not None and kept[0] is locale:
        return kept[1]
    found = get_translations()
    state.clinic_translations = (locale, found)
    return found


def wtforms_translations() -> NullTranslations:
    """WTForms' own messages ("Not a valid choice." ...) in the language being spoken now.
    Flask-WTF reads WTForms' catalogue from disk again on every request that makes a
    form; the catalogues never change while the app runs, so each is read once."""
    return _wtforms_catalogue(str(current_locale()))


@cache
def _wtforms_catalogue(locale: str) -> NullTranslations:
    return Translations.load(messages_path(), [locale], domain="wtforms")


def gettext(string: str, **variables: Any) -> str:
    """`string` in the language being spoken, with `variables` filled in."""
    said = translations().ugettext(string)
    return said % variables if variables else said


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """The singular or plural form for `num` in the language being spoken (`%(num)d` is
    filled in, as Flask-Babel does)."""
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


@pass_context
def _template_gettext(context: Context, string: str, **variables: Any) -> str:
    # Jinja's newstyle gettext, without its indirections (it calls through the context,
    # and `_` through an alias). As there, the message is the catalogue's own text, trusted
    # as markup in an HTML template (a {% trans %} block may hold tags); the values filled
    # into it are escaped by Markup's %.
    said = translations().ugettext(string)
    if context.eval_ctx.autoescape:
        said = Markup(said)  # noqa: S704 (the catalogue's text, never a person's)
    return said % variables


@pass_context
def _template_ngettext(
    context: Context, singular: str, plural: str, num: int, **variables: Any
) -> str:
    variables.setdefault("num", num)
    said = translations().ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        said = Markup(said)  # noqa: S704 (as in _template_gettext)
    return said % variables


def install_fast_gettext(app: Flask) -> None:
    """Templates look messages up through `translations`, with Jinja's newstyle gettext
    (values filled in after translation, and escaped)."""
    environment = app.jinja_env
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda string: translations().ugettext(string),
        ngettext=lambda singular, plural, num: translations().ungettext(singular, plural, num),
        newstyle=True,
    )
    environment.globals.update(
        gettext=_template_gettext, _=_template_gettext, ngettext=_template_ngettext
    )


class LazyText(LazyString):
    """A translation made when it is shown, that is plain text: Jinja escapes it like any
    other string. (Flask-Babel's LazyString passes itself off as markup, so a form label or
    message holding an apostrophe or "<" would reach the page unescaped.)"""

    def __html__(self) -> str:
        return str(escape(str(self)))


def lazy_text(string: str, **variables: Any) -> LazyText:
    """Mark `string` for translation at import time (form labels, validators' messages,
    choices, module constants): translated into the request's language each time it is
    shown, and escaped in HTML. Imported as `_l`, which `make translations` extracts."""
    return LazyText(gettext, string, **variables)
