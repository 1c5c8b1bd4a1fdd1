"""The translation catalogues (issue 20): current with the code, complete for everything a
patient reads in every shipped language, safe to format, compiled, and no patient-facing
template holds text that was never marked for translation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from clinic.i18n import DEFAULT_LANGUAGE, LANGUAGES, PATIENT_FACING, TRANSLATIONS, is_patient_facing
from tests.support.translations import ROOT, catalogue, extracted

TRANSLATED = sorted(code for code in LANGUAGES if code != DEFAULT_LANGUAGE)
# %(name)s placeholders (Python and Jinja's newstyle gettext) and {name} ones.
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]|\{(\w*)\}")


def _key(message_id: str | tuple[str, ...] | list[str]) -> str:
    # A plural message's id is a tuple in a .po and a list in a .mo (babel's readers).
    return "\0".join(message_id) if isinstance(message_id, tuple | list) else message_id


def _strings(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def test_every_language_in_the_registry_ships_a_catalogue() -> None:
    """Each language a patient can be offered has its .po and compiled .mo committed."""
    for code in TRANSLATED:
        folder = TRANSLATIONS / code / "LC_MESSAGES"
        assert (folder / "messages.po").is_file(), code
        assert (folder / "messages.mo").is_file(), code


def test_the_template_catalogue_holds_every_marked_message() -> None:
    """messages.pot is current: `make translations` was run after strings were marked or
    changed, so translators see every message the code uses."""
    with (TRANSLATIONS / "messages.pot").open("rb") as source:
        template = read_po(source)
    in_template = {_key(message.id) for message in template if message.id}
    missing = sorted(set(extracted()) - in_template)
    assert not missing, f"run `make translations`; not in messages.pot: {missing[:10]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_patient_facing_message_is_translated(code: str) -> None:
    """A shipped language translates every message a patient can read (the files listed in
    clinic.i18n.PATIENT_FACING): none is missing, empty or left fuzzy, so a patient never
    meets an English sentence in the middle of their own language."""
    translations = catalogue(code)
    untranslated = []
    for key, files in extracted().items():
        if not any(is_patient_facing(name) for name in files):
            continue
        message = translations.get(tuple(key.split("\0")) if "\0" in key else key)
        if message is None:
            message = translations.get(key.split("\0")[0])
        strings = _strings(message.string) if message is not None else []
        if message is None or message.fuzzy or not strings or not all(strings):
            untranslated.append(key.split("\0")[0])
    assert not untranslated, f"{code}: {len(untranslated)} untranslated, e.g. {untranslated[:8]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_every_placeholder(code: str) -> None:
    """A translation uses exactly the placeholders of its English message: a missing or
    misspelt %(name)s would raise while the page renders (a 500 in one language only)."""
    wrong = []
    for message in catalogue(code):
        if not message.id or not message.string:
            continue
        wanted = {match.group(0) for match in PLACEHOLDER.finditer(_strings(message.id)[0])}
        for text in _strings(message.string):
            if text and {match.group(0) for match in PLACEHOLDER.finditer(text)} != wanted:
                wrong.append((_strings(message.id)[0], text))
    assert not wrong, f"{code}: {wrong[:5]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_compiled_catalogue_matches_its_source(code: str) -> None:
    """The committed .mo holds exactly the .po's translations (`make translations`
    compiles them): the app reads the .mo, reviewers read the .po."""
    with (TRANSLATIONS / code / "LC_MESSAGES" / "messages.mo").open("rb") as source:
        compiled = read_mo(source)
    expected = {
        _key(message.id): _strings(message.string)
        for message in catalogue(code)
        if message.id and message.string and not message.fuzzy and all(_strings(message.string))
    }
    # babel compiles a plural message nobody translated yet with its English forms (its
    # empty msgstr[n] would otherwise print nothing): that is English, as for any other
    # untranslated message, so it is left out like them.
    untranslated_plurals = {
        _key(message.id)
        for message in catalogue(code)
        if message.id and message.pluralizable and not any(_strings(message.string))
    }
    actual = {
        _key(message.id): _strings(message.string)
        for message in compiled
        if message.id and _key(message.id) not in untranslated_plurals
    }
    assert actual == expected


def test_the_patient_facing_list_names_files_that_exist() -> None:
    """Every entry of PATIENT_FACING names a file or folder that exists (a renamed template
    would otherwise drop out of the completeness check unseen)."""
    for entry in PATIENT_FACING:
        assert (ROOT / entry).exists(), entry


# --- Text left unmarked in patient-facing templates -------------------------------------

JINJA = re.compile(
    r"\{#.*?#\}|\{%-?\s*(trans|pluralize)\b.*?\{%-?\s*endtrans\s*-?%\}|\{%.*?%\}|\{\{.*?\}\}",
    re.S,
)
TAG = re.compile(r"<(script|style)\b.*?</\1>|<!--.*?-->|<[^>]*>", re.S | re.I)
# Attributes a person reads or hears: they must be marked too.
READ_ATTRIBUTES = re.compile(
    r'\b(alt|title|placeholder|aria-label|aria-description)="([^"]*)"', re.I
)
WORD = re.compile(r"[A-Za-z]{2,}")


def patient_templates() -> Iterator[Path]:
    """The patient-facing Jinja files (pages, mail text and printed sheets)."""
    for entry in PATIENT_FACING:
        path = ROOT / entry
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in {".html", ".txt"})
        elif path.suffix in {".html", ".txt"}:
            yield path


def unmarked_text(source: str) -> list[str]:
    """Words a template shows that are not inside a gettext call or a trans block: the
    template with its Jinja tags and expressions removed, then its HTML tags, leaves what
    is printed as written. Read attributes (alt, title, ...) count too."""
    without_jinja = JINJA.sub(" ", source)
    attributes = [
        value for _name, value in READ_ATTRIBUTES.findall(without_jinja) if WORD.search(value)
    ]
    text = TAG.sub(" ", without_jinja)
    # Entities (&nbsp;, &middot;) are punctuation, not words.
    text = re.sub(r"&#?\w+;", " ", text)
    chunks = [chunk.strip() for chunk in re.split(r"\s{2,}|\n", text) if WORD.search(chunk)]
    return chunks + attributes


def test_the_unmarked_text_finder_finds_plain_words() -> None:
    """The check below can fail: plain text, an unmarked alt and a heading are found, and
    marked text, expressions, comments and trans blocks are not."""
    found = unmarked_text(
        '<h1>Hello there</h1><img alt="A chart"> {{ _("Marked") }} {# note #}'
        "{% trans %}Also marked{% endtrans %} <p>{{ name }}</p> &nbsp;"
    )
    assert found == ["Hello there", "A chart"]


@pytest.mark.parametrize("path", list(patient_templates()), ids=lambda p: str(p.relative_to(ROOT)))
def test_patient_facing_templates_mark_all_their_text(path: Path) -> None:
    """Every word a patient-facing template prints is marked for translation."""
    assert unmarked_text(path.read_text()) == []


# --- Text left unmarked in staff templates ----------------------------------------------

# Staff pages ship in English but are ready for translation (issue 20): every word they
# print is marked. Files or folders, as in PATIENT_FACING.
STAFF_MARKED: tuple[str, ...] = (
    "templates/admin",
    "templates/audit",
    "templates/catalogue",
    "templates/dashboard",
    "templates/jobs",
    "templates/letters",
    "templates/languages",
    "templates/library",
    "templates/mdt",
    "templates/measures",
    "templates/notes",
    "templates/patients",
    "templates/protocols",
    "templates/reporting",
    "templates/safety/_hazard.html",
    "templates/safety/hazard_log.html",
    "templates/timeline",
    "templates/shared/_chart.html",
    "templates/shared/_caseload_filters.html",
    "templates/mail/daily_digest.txt",
    "templates/mail/red_flag_alert.txt",
    "templates/mail/red_flag_escalation.txt",
    "templates/mail/letter.txt",
    "reports/_depth.html",
    "reports/_measures.html",
    "reports/_progress_body.html",
    "reports/hazard_log.html",
    "reports/letter.html",
    "reports/mdt.html",
    "reports/progress.html",
)


def templates_under(entries: tuple[str, ...]) -> Iterator[Path]:
    """The Jinja files (pages, mail text and printed sheets) these entries name."""
    for entry in entries:
        path = ROOT / entry
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in {".html", ".txt"})
        elif path.suffix in {".html", ".txt"}:
            yield path


def test_the_staff_marked_list_names_files_that_exist() -> None:
    """Every entry of STAFF_MARKED names a file or folder that exists."""
    for entry in STAFF_MARKED:
        assert (ROOT / entry).exists(), entry


@pytest.mark.parametrize(
    "path", list(templates_under(STAFF_MARKED)), ids=lambda p: str(p.relative_to(ROOT))
)
def test_staff_templates_mark_all_their_text(path: Path) -> None:
    """Every word a staff template prints is marked for translation (they ship in English,
    ready for a translator)."""
    assert unmarked_text(path.read_text()) == []
