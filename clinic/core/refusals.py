"""The one shape of a service's refusal: a plain-words message and the form field it
concerns, which the view shows next to that field (see `clinic.core.forms.show_refusal`,
or `flash_refusal` for a message on the next page). Showing it discards the request's
unit of work: nothing the service changed before refusing is saved (clinic.core.uow)."""

from __future__ import annotations

from flask import g, has_request_context

# Why the request's change was not made, for its attempt in the audit trail (see
# clinic.audit.log): "invalid" (a sent form failed its checks) or "refused" (a service
# refused it). A page shown again answers 200 either way, which alone says neither.
_NOT_DONE = "change_not_done"


def note_not_done(outcome: str) -> None:
    """Note why this request's change was not made ("invalid" or "refused")."""
    if has_request_context():
        setattr(g, _NOT_DONE, outcome)


def not_done_reason() -> str | None:
    """Why this request's change was not made, if a form or a service said so."""
    return getattr(g, _NOT_DONE, None) if has_request_context() else None


class Refusal(ValueError):
    """A change a service refuses; `field` names the form field it concerns (None: the
    form as a whole)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
