"""Per-account back-off after failed sign-ins: short, growing pauses, never a lock-out.

The rule, in plain words:

- The first five failures in a row cost nothing (people mistype). A failure is a wrong
  password, or a wrong two-factor code after the right password: whoever has the
  password must not be able to guess codes without end.
- Each further failure pauses sign-in to that account: 1 minute after the sixth,
  then 2, 4 and 8 minutes, and never more than 15 minutes.
- During a pause every attempt is refused, even with the right password, and the refused
  attempt neither counts nor lengthens the pause: someone guessing cannot keep an account
  closed for longer than 15 minutes with one attempt, and must wait out each pause.
- A successful sign-in (with two-factor on: the right code, not just the password), or
  choosing a new password through a reset link, starts counting again from zero. (A
  reset link is the way in for the real owner during a pause.)

Pure functions: no database, no Flask; clinic.auth.services applies them to accounts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

FREE_FAILURES = 5
FIRST_PAUSE = timedelta(minutes=1)
LONGEST_PAUSE = timedelta(minutes=15)


def pause_after(failures: int) -> timedelta:
    """How long sign-in pauses after the `failures`-th wrong password in a row."""
    beyond_free = failures - FREE_FAILURES
    if beyond_free <= 0:
        return timedelta(0)
    # 1, 2, 4, 8, then the cap; the exponent is bounded so a huge count stays cheap.
    doublings = min(beyond_free - 1, 8)
    return min(FIRST_PAUSE * (1 << doublings), LONGEST_PAUSE)


def paused_until(failures: int, now: datetime) -> datetime | None:
    """When sign-in may be tried again after the `failures`-th failure at `now`; None when
    there is no pause."""
    pause = pause_after(failures)
    return now + pause if pause else None


def is_paused(paused_until_at: datetime | None, now: datetime) -> bool:
    """Whether attempts are refused at `now` (the pause ends at `paused_until_at`)."""
    return paused_until_at is not None and now < paused_until_at
