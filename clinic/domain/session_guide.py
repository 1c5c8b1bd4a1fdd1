"""The guided session: the steps a patient follows for the stage they are on, and what a
timed session may prefill in the diary.

Pure rules, worded from the clinical reference ("Protocol shape clinicians expect" and
"Pain, safety and red flags"): plenty of lubricant, water-based with silicone devices
(silicone-based lubricant damages silicone) and a low-irritant one where the tissue is
easily irritated (after radiotherapy, with vulvodynia, in menopause); relax with slow
breathing and insert on the out-breath, which relaxes the muscles; steady pressure, never
force; warm up on the previous size when a new size starts; wash before and after, never
share, never move a device from anal to vaginal use; anal devices have a flared base.
Sharp or sudden pain is a stop signal: the page says so beside every step, not as a step.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinic.domain.diary import LOGGED_MINUTES
from clinic.domain.indications import Indication, Indications
from clinic.domain.protocols import Route
from clinic.domain.text import N_, Words

# A size counts as new for its first week: the warm-up on the previous size is offered in
# those sessions. The reference gives no length; a week covers the first few sessions of
# every published schedule (daily to three times a week) and stays well inside the
# shortest minimum time per size (10 days).
NEW_SIZE_DAYS = 7

# Tissue that is easily irritated: a low-irritant lubricant suits it (the reference names
# radiotherapy and vulvodynia; genitourinary syndrome of menopause asks for low-irritant
# products too).
EASILY_IRRITATED = frozenset(
    {Indication.PELVIC_RADIOTHERAPY, Indication.DYSPAREUNIA, Indication.MENOPAUSE_GSM}
)
# Spotting is expected after radiotherapy and more likely with fragile tissue in menopause.
SPOTTING_LIKELY = frozenset({Indication.PELVIC_RADIOTHERAPY, Indication.MENOPAUSE_GSM})

# Prefilled values are short: anything longer is not a number of minutes (and a very long
# string of digits would be slow to read as an integer).
_LONGEST_NUMBER = 4


@dataclass(frozen=True)
class StageFacts:
    """What the steps depend on, as plain values."""

    route: Route
    indications: Indications
    material: str  # the set's material as the clinic wrote it ("Medical-grade silicone")
    minutes: int
    target_depth_cm: float | None = None
    previous_size: str | None = None  # the previous stage's size, when it was another size
    days_on_stage: int | None = None  # None before the plan starts

    @property
    def silicone(self) -> bool:
        return "silicone" in self.material.lower()

    @property
    def easily_irritated(self) -> bool:
        return any(i in EASILY_IRRITATED for i in self.indications)

    @property
    def warm_up_due(self) -> bool:
        """A new size (within its first week) that follows a different, previous size."""
        return (
            self.previous_size is not None
            and self.days_on_stage is not None
            and 0 <= self.days_on_stage < NEW_SIZE_DAYS
        )


@dataclass(frozen=True)
class Step:
    """One step of the session: a stable key (for tests and styling), a heading, and its
    sentences, each marked for translation (the page translates them one by one)."""

    key: str
    heading: Words
    sentences: tuple[Words, ...]

    @property
    def text(self) -> str:
        """The step's words in English."""
        return " ".join(str(sentence) for sentence in self.sentences)


def _step(key: str, heading: Words | str, *sentences: Words | str) -> Step:
    def words(text: Words | str) -> Words:
        return text if isinstance(text, Words) else Words(text)

    return Step(key, words(heading), tuple(words(s) for s in sentences))


def guide_steps(facts: StageFacts) -> list[Step]:
    """The steps of a session at this stage, in order."""
    steps = [_prepare(facts), _position()]
    if facts.warm_up_due:
        steps.append(
            _step(
                "warm_up",
                N_("Warm up on your previous size"),
                Words(
                    N_(
                        "This size is new to you. Start with a few minutes on your previous "
                        "size, %(size)s, then change to this one."
                    ),
                    {"size": facts.previous_size},
                ),
            )
        )
    steps += [_lubricant(facts), _insert(facts), _hold(facts), _finish(facts)]
    return steps


def _prepare(facts: StageFacts) -> Step:
    sentences = [
        N_(
            "Choose a private time when you will not be hurried. Wash your hands, and wash the "
            "dilator with warm water and mild soap."
        )
    ]
    if facts.route.is_anal:
        sentences.append(
            N_("Use only the dilators you were given for anal use: each has a wide, flared base.")
        )
    return _step("prepare", N_("Get ready"), *sentences)


def _position() -> Step:
    return _step(
        "position",
        N_("Get comfortable"),
        N_(
            "Lie down and let your body feel supported: for example on your back with your "
            "knees bent and apart, or on your side with your knees drawn up. Use the position "
            "your clinician showed you, if they showed you one."
        ),
    )


def _lubricant(facts: StageFacts) -> Step:
    if facts.easily_irritated:
        sentences = [
            N_(
                "Use plenty of a low-irritant, water-based lubricant on the dilator and around "
                "the opening."
            ),
            N_("The skin there is easily irritated, so a gentle product suits it best."),
        ]
    else:
        sentences = [
            N_("Use plenty of water-based lubricant on the dilator and around the opening.")
        ]
    if facts.silicone:
        sentences.append(
            N_("Your dilator is silicone: never use a silicone-based lubricant, it damages it.")
        )
    return _step("lubricant", N_("Use plenty of lubricant"), *sentences)


def _insert(facts: StageFacts) -> Step:
    sentences: list[Words | str] = [
        N_(
            "Breathe slowly. As you breathe out, let the muscles relax and slide the dilator in "
            "slowly. Use steady, gentle pressure, never force. If the muscles tighten, stop "
            "moving, breathe, and go on when they let go."
        )
    ]
    if facts.target_depth_cm is not None:
        sentences.append(
            Words(
                N_("Go to a depth of %(depth)s cm: the marks on the dilator show it."),
                {"depth": facts.target_depth_cm},
            )
        )
    return _step("insert", N_("Insert slowly as you breathe out"), *sentences)


def _hold(facts: StageFacts) -> Step:
    # One minute apart, every other count plural: true of English, Spanish and French for
    # counts from 1 (a stage is at least a minute long).
    if facts.minutes == 1:
        heading = Words(N_("Hold for 1 minute"))
        keep = Words(
            N_("Keep it in place for 1 minute, breathing slowly, with steady, gentle pressure.")
        )
    else:
        values = {"minutes": facts.minutes}
        heading = Words(N_("Hold for %(minutes)s minutes"), values)
        keep = Words(
            N_(
                "Keep it in place for %(minutes)s minutes, breathing slowly, with steady, "
                "gentle pressure."
            ),
            values,
        )
    return _step(
        "hold",
        heading,
        keep,
        N_("Move it gently only as your clinician has asked you to."),
    )


def _finish(facts: StageFacts) -> Step:
    sentences = [
        N_(
            "Breathe out and take the dilator out slowly. Wash it with warm water and mild "
            "soap and let it dry."
        ),
        N_("It is yours alone: never share it, and never move it from anal to vaginal use.")
        if facts.route.is_anal
        else N_("It is yours alone: never share it."),
    ]
    if any(i in SPOTTING_LIKELY for i in facts.indications):
        sentences.append(
            N_(
                "A little spotting afterwards is common. Contact the clinic if bleeding lasts "
                "more than a few minutes, is dark red or comes with pain."
            )
        )
    sentences.append(N_("Then log your session."))
    return _step("finish", N_("Finish and log"), *sentences)


def prefill_minutes(raw: str | None) -> int | None:
    """The minutes a link to the log form asks to prefill: a whole number of minutes, held
    to at most what the form accepts; None (the plan's minutes stay) for anything else,
    zero included."""
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > _LONGEST_NUMBER:
        return None
    minutes = int(raw)
    if minutes < LOGGED_MINUTES.low:
        return None
    return min(minutes, LOGGED_MINUTES.high)


def prefill_stopped(raw: str | None) -> bool:
    """Whether a link to the log form says the session was stopped for sharp pain."""
    return raw == "1"
