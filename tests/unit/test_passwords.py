"""Password rules: length, not the email, not a common password — and nothing else."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from clinic.domain.passwords import MIN_LENGTH, common_passwords, password_problems

NONE_COMMON: frozenset[str] = frozenset()


def test_a_long_unusual_password_is_fine() -> None:
    """A 12+ character passphrase with no other issue passes."""
    assert password_problems("quiet harbour lantern", "sam@example.org") == []


def test_short_password_says_how_long_it_is() -> None:
    """The message gives the minimum and the current length."""
    assert password_problems("abc", common=NONE_COMMON) == [
        "Use at least 12 characters (you have 3)."
    ]


def test_email_or_its_name_part_is_refused_in_any_case() -> None:
    """The account's email, or the part before @, is not a password."""
    assert "Do not use your email address as your password." in password_problems(
        "Someone.Long@Example.org", "someone.long@example.org", NONE_COMMON
    )
    assert "Do not use your email address as your password." in password_problems(
        "SOMEONE.LONGNAME", "someone.longname@example.org", NONE_COMMON
    )


def test_common_passwords_are_refused_whatever_the_case() -> None:
    """Entries of the bundled list are refused, compared without case."""
    assert "1qaz2wsx3edc" in common_passwords()
    assert any("too common" in p for p in password_problems("1QAZ2WSX3EDC"))


def test_bundled_list_is_large() -> None:
    """The bundled list is the full ~20,000-entry list, not a token sample."""
    assert len(common_passwords()) > 19_000


def test_no_composition_rules() -> None:
    """Lower-case letters and spaces alone are fine (ASVS: no composition rules)."""
    assert password_problems("all lower case words here", common=NONE_COMMON) == []


@given(st.text(min_size=MIN_LENGTH, max_size=64))
def test_long_enough_passwords_pass_unless_email_or_common(password: str) -> None:
    """Property: any password of 12+ characters passes when it is neither the email nor
    in the list."""
    assert password_problems(password, "", NONE_COMMON) == []


@given(st.text(max_size=MIN_LENGTH - 1))
def test_short_passwords_always_fail(password: str) -> None:
    """Property: anything under 12 characters is refused with the length message."""
    problems = password_problems(password, "", NONE_COMMON)
    assert problems and problems[0].startswith("Use at least 12 characters")
