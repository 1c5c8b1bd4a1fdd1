"""Two-factor rules without a database: which codes are accepted (one step either side,
never a step already used), how recovery codes look and are stored, and the QR code."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from clinic.auth.mfa import (
    ISSUER,
    RECOVERY_CODE_COUNT,
    hash_recovery_code,
    looks_like_totp,
    matching_step,
    new_recovery_codes,
    new_secret,
    provisioning_uri,
    qr_svg,
    secret_for_display,
)

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 11, 23, 9, 0, 10, tzinfo=UTC)
TOTP = pyotp.TOTP(SECRET)
STEP = TOTP.timecode(NOW)


def code_at(step: int) -> str:
    return TOTP.generate_otp(step)


def test_the_current_code_is_accepted_and_names_its_step() -> None:
    """The app's code for now matches, and the step it belongs to is returned."""
    assert matching_step(SECRET, code_at(STEP), NOW, None) == STEP


@pytest.mark.parametrize("offset", [-1, 1])
def test_one_step_either_side_is_accepted(offset: int) -> None:
    """A code from the previous or next 30 seconds still works (clock drift, slow typing)."""
    assert matching_step(SECRET, code_at(STEP + offset), NOW, None) == STEP + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_codes_outside_the_window_are_refused(offset: int) -> None:
    """Two or more steps away (a minute or more) is too old or too early."""
    assert matching_step(SECRET, code_at(STEP + offset), NOW, None) is None


def test_a_used_step_and_older_ones_are_refused() -> None:
    """Once a step was accepted, its code and every earlier one are refused (single use),
    while a later step in the window still works."""
    assert matching_step(SECRET, code_at(STEP), NOW, last_step=STEP) is None
    assert matching_step(SECRET, code_at(STEP - 1), NOW, last_step=STEP) is None
    assert matching_step(SECRET, code_at(STEP + 1), NOW, last_step=STEP) == STEP + 1


def test_a_code_typed_with_a_space_is_read() -> None:
    """Apps show "123 456": the space (or a hyphen) does not matter."""
    code = code_at(STEP)
    assert matching_step(SECRET, f" {code[:3]} {code[3:]} ", NOW, None) == STEP
    assert matching_step(SECRET, f"{code[:3]}-{code[3:]}", NOW, None) == STEP


@pytest.mark.parametrize(
    "entry",
    ["", "12345", "1234567", "abcdef", "\u0661\u0662\u0663\u0664\u0665\u0666", "12345\uff16"],
)
def test_what_is_not_six_ascii_digits_is_not_an_app_code(entry: str) -> None:
    """Only six plain digits count as an app's code (never other scripts' digits)."""
    assert not looks_like_totp(entry)
    assert matching_step(SECRET, entry, NOW, None) is None


def test_a_wrong_code_is_refused() -> None:
    """Six digits that are not the code for any step in the window are refused."""
    valid = {code_at(STEP + offset) for offset in (-1, 0, 1)}
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in valid)
    assert matching_step(SECRET, wrong, NOW, None) is None


def test_window_follows_the_clock() -> None:
    """The same code stops working once the clock has moved two steps on."""
    code = code_at(STEP)
    assert matching_step(SECRET, code, NOW + timedelta(seconds=30), None) == STEP
    assert matching_step(SECRET, code, NOW + timedelta(seconds=60), None) is None


def test_recovery_codes_are_ten_distinct_readable_codes() -> None:
    """Ten codes like "7kq2-m9xd-4hpa", all different, with no easily misread letters."""
    codes = new_recovery_codes()
    assert len(codes) == RECOVERY_CODE_COUNT == len(set(codes))
    group = "[0-9a-hjkmnp-tv-z]{4}"
    for code in codes:
        assert re.fullmatch(f"{group}-{group}-{group}", code)


def test_recovery_code_hash_ignores_case_spaces_and_hyphens() -> None:
    """However the code is typed back, it hashes the same; the hash is not the code."""
    code = "7kq2-m9xd-4hpa"
    assert hash_recovery_code(code) == hash_recovery_code(" 7KQ2 M9XD 4HPA ")
    assert hash_recovery_code(code) == hash_recovery_code("7kq2m9xd4hpa")
    assert hash_recovery_code(code) != hash_recovery_code("7kq2-m9xd-4hpb")
    assert "7kq2" not in hash_recovery_code(code)


def test_secret_is_random_base32_shown_in_groups() -> None:
    """Each secret is new, base32 and at least 160 bits; it is shown in groups of four."""
    first, second = new_secret(), new_secret()
    assert first != second
    assert re.fullmatch(r"[A-Z2-7]{32}", first)
    assert secret_for_display("ABCDEFGHIJKL") == "ABCD EFGH IJKL"


def test_provisioning_uri_names_a_neutral_issuer() -> None:
    """The app lists the account under a neutral name that says nothing about the care."""
    uri = provisioning_uri(SECRET, "sam@example.org")
    assert uri.startswith("otpauth://totp/")
    assert f"secret={SECRET}" in uri
    assert "issuer=Clinic%20sign-in" in uri
    assert ISSUER == "Clinic sign-in"


def test_qr_code_is_inline_svg_the_csp_allows() -> None:
    """The QR code is an SVG made here, named for screen readers, with no inline style or
    script (the Content-Security-Policy forbids both) and no outside address."""
    svg = str(qr_svg(provisioning_uri(SECRET, "sam@example.org")))
    assert svg.startswith('<svg role="img" aria-label="')
    assert "viewBox" in svg
    for forbidden in ("style", "<script", "href", "http"):
        assert forbidden not in svg
