"""Guards on what a request may carry before any view sees it."""

from __future__ import annotations

from flask import abort, request
from werkzeug.routing import IntegerConverter

# The largest id either database stores in an INTEGER column.
MAX_ID = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` URL parts bounded to what a database id can be, so a huge number is a
    plain 404 instead of an overflow inside the database driver."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def refuse_nul_in_query() -> None:
    """before_request hook: a NUL character in the query string is refused (400).

    No link or search box produces one and PostgreSQL cannot compare text with it. (Forms
    refuse such characters next to the field instead: see ClinicForm.)
    """
    if any("\x00" in text for pair in request.args.items(multi=True) for text in pair):
        abort(400)


def page_number(maximum: int = 100_000) -> int:
    """The ?page= of a list, as a sane positive number (junk and absurd values: page 1)."""
    page = request.args.get("page", 1, type=int)
    return page if page is not None and 1 <= page <= maximum else 1
