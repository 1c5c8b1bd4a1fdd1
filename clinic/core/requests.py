"""Guards on what a request may carry before any view sees it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, current_app, request
from werkzeug.routing import IntegerConverter

# The largest id either database stores in an INTEGER column.
MAX_ID = 2**31 - 1


def database_id(text: str) -> int | None:
    """`text` (a form's or a query's value) as a database id: a whole number from 1 to
    `MAX_ID` in ASCII digits, or None. (`str.isdigit` takes "²", which `int` refuses, and
    Python refuses to read a number of more than 4,300 digits: both would be a 500.)"""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= _ID_DIGITS):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


_ID_DIGITS = len(str(MAX_ID))


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


def refuse_files_and_json() -> None:
    """before_request hook: a body carrying files or JSON is refused (400).

    Every form here is plain text fields and no route takes JSON; Flask-WTF would otherwise
    hand a form a file or a JSON number or list where it reads text. The one route that
    reads an uploaded file (a clinic importing a questionnaire) says so with `takes_files`;
    the FHIR API's import, which reads JSON (and is no form), with `takes_json`.
    """
    if request.method == "GET" or not (request.is_json or request.files):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if request.files and not request.is_json and getattr(view, "takes_files", False):
        return
    if request.is_json and not request.files and getattr(view, "takes_json", False):
        return
    abort(400)


F = TypeVar("F", bound=Callable[..., object])


def takes_files(view: F) -> F:
    """Mark a view whose form reads an uploaded file (refuse_files_and_json lets its
    files through; the form checks them)."""
    # A function takes attributes; the Callable bound of F does not say so.
    view.takes_files = True  # type: ignore[attr-defined]
    return view


def page_number(maximum: int = 100_000) -> int:
    """The ?page= of a list, as a sane positive number (junk and absurd values: page 1)."""
    page = request.args.get("page", 1, type=int)
    return page if page is not None and 1 <= page <= maximum else 1


def takes_json(view: F) -> F:
    """Mark a view that reads a JSON body itself (refuse_files_and_json lets it through)."""
    # A function takes attributes; the Callable bound of F does not say so.
    view.takes_json = True  # type: ignore[attr-defined]
    return view
