"""The password rules every account follows.

Length and a check against common passwords, nothing else: composition rules and forced
rotation make passwords weaker in practice (NIST SP 800-63B, OWASP ASVS 2.1).
"""

from __future__ import annotations

import gzip
from collections.abc import Container
from functools import cache
from importlib import resources
from typing import Any

from clinic.domain.text import N_

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 copes with more; this only stops absurd request bodies early


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lower-cased (see clinic/data/README.md)."""
    raw = resources.files("clinic").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(
        line.strip().lower() for line in gzip.decompress(raw).decode().splitlines() if line
    )


def password_problems(
    password: str, email: str = "", common: Container[str] | None = None
) -> list[str]:
    """Return what is wrong with `password` in plain words; an empty list means it is fine."""
    return [
        message % values for message, values in password_problem_messages(password, email, common)
    ]


def password_problem_messages(
    password: str, email: str = "", common: Container[str] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """What is wrong with `password`, each as a message marked for translation and the
    values of its placeholders (the form shows them in the reader's language)."""
    if common is None:
        common = common_passwords()
    problems: list[tuple[str, dict[str, Any]]] = []
    if len(password) < MIN_LENGTH:
        problems.append(
            (
                N_("Use at least %(minimum)d characters (you have %(count)d)."),
                {"minimum": MIN_LENGTH, "count": len(password)},
            )
        )
    if len(password) > MAX_LENGTH:
        problems.append((N_("Use at most %(maximum)d characters."), {"maximum": MAX_LENGTH}))
    folded = password.strip().lower()
    email = email.strip().lower()
    if email and folded in {email, email.split("@", 1)[0]}:
        problems.append((N_("Do not use your email address as your password."), {}))
    if folded in common:
        problems.append((N_("This password is too common. Choose something harder to guess."), {}))
    return problems
