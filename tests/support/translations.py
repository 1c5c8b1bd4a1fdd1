"""The translation catalogues as tests read them: every marked message with the files it
comes from (extracted from the code as `make translations` does), a shipped language's
catalogue, and the English words a page in another language must never show."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from clinic.i18n import TRANSLATIONS, is_patient_facing

ROOT = Path(__file__).resolve().parents[2]
# The keywords `make translations` extracts (see the Makefile).
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "N_": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
}
_PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}|<[^>]*>")
_WORD = re.compile(r"[^\W\d_]+")


@cache
def extracted() -> dict[str, set[str]]:
    """Every marked message in the code (msgid, or msgid and plural joined by a NUL), with
    the files it appears in (paths from the project's root)."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, set[str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        key = "\0".join(message) if isinstance(message, tuple) else message
        if key:
            found.setdefault(key, set()).add(Path(filename).as_posix())
    return found


@cache
def catalogue(code: str) -> Catalog:
    """A shipped language's catalogue as committed (.po)."""
    with (TRANSLATIONS / code / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=code)


def words(text: str) -> set[str]:
    """The words of a text (any script), lower-cased, without placeholders or tags."""
    return {word.lower() for word in _WORD.findall(_PLACEHOLDER.sub(" ", text))}


@cache
def english_only_words(code: str) -> frozenset[str]:
    """Words of the patient-facing English messages (four letters or more) that no
    translation of `code` uses: a page in `code` showing one has English on it ("plan",
    "total" or "normal", words of both languages, are not counted)."""
    english = {
        word
        for key, files in extracted().items()
        if any(is_patient_facing(name) for name in files)
        for part in key.split("\0")
        for word in words(part)
        if len(word) >= 4
    }
    translated = set()
    for message in catalogue(code):
        strings = [message.string] if isinstance(message.string, str) else message.string
        for text in strings or ():
            translated |= words(text)
    return frozenset(english - translated)


def english_on_page(text: str, code: str, allowed: set[str] = frozenset()) -> set[str]:
    """The English words in a page's visible text, leaving out `allowed` (the data on the
    page: names, email addresses, the clinic's name, labels the clinic typed)."""
    return (words(text) & english_only_words(code)) - {word.lower() for word in allowed}
