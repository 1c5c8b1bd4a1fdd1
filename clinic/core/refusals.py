"""The one shape of a service's refusal: a plain-words message and the form field it
concerns, which the view shows next to that field (see `clinic.core.forms.show_refusal`,
or `flash_refusal` for a message on the next page). Showing it discards the request's
unit of work: nothing the service changed before refusing is saved (clinic.core.uow)."""

from __future__ import annotations


class Refusal(ValueError):
    """A change a service refuses; `field` names the form field it concerns (None: the
    form as a whole)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
