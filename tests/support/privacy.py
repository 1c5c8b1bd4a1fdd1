"""What no message may carry: the deny-list every test of a sent message checks against.

A message (email subject and body, push payload) may say that there is something to look
at and how to sign in. It never names a condition, a device, a symptom, a score or the
patient. `assert_discreet(message, also=...)` fails naming the word found; pass the
patient's name and anything else the test's data holds (a note, a clinic identifier).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from clinic.core.mail import Message
from clinic.domain.indications import INDICATION_LABELS

# Words about conditions, devices, symptoms and scores. Lower case; matched as whole words.
DENIED = frozenset(
    {
        "vaginismus",
        "dyspareunia",
        "vulvodynia",
        "vaginal",
        "vagina",
        "neovagina",
        "vaginoplasty",
        "radiotherapy",
        "stenosis",
        "anal",
        "anus",
        "fissure",
        "haemorrhoidectomy",
        "levator",
        "pelvic",
        "prostatitis",
        "menopause",
        "dilator",
        "dilators",
        "dilation",
        "dilatation",
        "pain",
        "painful",
        "bleeding",
        "blood",
        "sharp",
        "flag",
        "red flag",
        "symptom",
        "symptoms",
        "score",
        "scores",
        "diary",
        "session",
        "sessions",
        "mm",
        "fsfi",
        "nih-cpsi",
        "pfdi",
        "wexner",
        "physiotherapy",
    }
)


# The same in the shipped translations (issue 20): a patient's message in Spanish or French
# is as discreet as in English. Not "sesión": in Spanish it is also the word for signing
# in ("iniciar sesión"), which every message asks for.
DENIED_TRANSLATED = frozenset(
    {
        # Spanish
        "vaginismo",
        "dispareunia",
        "vulvodinia",
        "vagina",
        "vaginal",
        "radioterapia",
        "estenosis",
        "pélvico",
        "pélvica",
        "dilatador",
        "dilatadores",
        "dilatación",
        "dolor",
        "doloroso",
        "sangrado",
        "sangre",
        "hemorragia",
        "síntoma",
        "síntomas",
        "puntuación",
        "diario",
        "fisioterapia",
        "menopausia",
        # French
        "vulvodynie",
        "radiothérapie",
        "sténose",
        "pelvien",
        "pelvienne",
        "dilatateur",
        "dilatateurs",
        "douleur",
        "douloureux",
        "douloureuse",
        "saignement",
        "saignements",
        "sang",
        "symptôme",
        "symptômes",
        "séance",
        "séances",
        "kinésithérapie",
        "ménopause",
        "journal",
    }
)


def _indication_words() -> set[str]:
    words: set[str] = set()
    for label in INDICATION_LABELS.values():
        words.update(w.lower() for w in re.findall(r"[A-Za-z][A-Za-z-]{4,}", label))
    # Words in indication labels that are not health information on their own.
    return words - {"after", "other", "chronic", "syndrome", "prevention", "directed"}


def denied_words() -> frozenset[str]:
    """Every word a message must not contain."""
    return DENIED | DENIED_TRANSLATED | _indication_words()


def assert_discreet(message: Message, also: Iterable[str] = ()) -> None:
    """Fail if the message's subject or body carries a denied word or any of `also` (the
    patient's name, their clinic identifier, a note they wrote)."""
    # An attachment's file name shows in every mail program's list, like the subject.
    names = " ".join(a.file_name for a in message.attachments)
    for part, text in (
        ("subject", message.subject),
        ("body", message.body),
        ("attachment's file name", names),
    ):
        lowered = text.lower()
        for word in denied_words():
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", lowered):
                raise AssertionError(f"the {part} of a {message.subject!r} message says {word!r}")
        for secret in also:
            for piece in [secret, *secret.split()]:
                # As a whole word, as the denied words are: a link's random token (letters,
                # digits, "-" and "_") may hold any few letters, which name nobody (one
                # holding "pain" failed a run, taken for "Pelvic Pain Hospital").
                found = re.search(rf"(?<![\w-]){re.escape(piece.lower())}(?![\w-])", lowered)
                if len(piece) >= 3 and found:
                    raise AssertionError(
                        f"the {part} of a {message.subject!r} message names {piece!r}"
                    )
