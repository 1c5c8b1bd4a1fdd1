"""The audit trail as CSV, written row by row as the database returns them (by the
background export, clinic.audit.jobs).

Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return) as a
formula, so such cells get a leading apostrophe: a name typed as "=HYPERLINK(...)" is
shown as text, never run, when an administrator opens the export.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator

from flask_babel import gettext
from sqlalchemy import Row

from clinic.audit.display import EventLine
from clinic.domain.text import N_

# The column names, marked for translation (the export is written in the default language:
# a background run has no reader's language).
HEADER = (
    N_("Time (clinic)"),
    N_("Time (UTC)"),
    N_("Who"),
    N_("Role"),
    N_("Action"),
    N_("Action code"),
    N_("Patient"),
    N_("Patient identifier"),
    N_("Patient number"),
    N_("Object"),
    N_("Outcome"),
    N_("IP address"),
    N_("Detail"),
    N_("Event number"),
)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The value as text a spreadsheet shows as it is."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cells(line: EventLine) -> tuple[object, ...]:
    return (
        line.at_local.isoformat(timespec="seconds"),
        line.at_utc.isoformat(timespec="seconds"),
        line.who,
        line.role,
        line.action_words,
        line.action,
        line.patient_name or (line.patient if line.patient_id is not None else ""),
        line.patient_identifier,
        line.patient_id,
        line.object,
        line.outcome,
        line.ip,
        line.detail,
        line.id,
    )


def csv_lines(rows: Iterable[Row], zone: str) -> Iterator[str]:
    """The header, then one CSV line per event. Starts with a byte-order mark so that
    spreadsheet programs read names with accents correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values: Iterable[object]) -> str:
        writer.writerow([safe_cell(v) for v in values])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff" + line(tuple(gettext(name) for name in HEADER))
    for row in rows:
        yield line(cells(EventLine.of(row, zone)))


def write_csv(
    rows: Iterable[Row],
    zone: str,
    *,
    every: int,
    progress: Callable[[int], None],
    max_bytes: int,
) -> bytes:
    """The whole CSV file (UTF-8), calling `progress(n)` after every `every` events.
    Raises `TooLarge` as soon as it passes `max_bytes`, instead of building all of it."""
    out = io.BytesIO()
    # Line 0 is the header; line n the n-th event.
    for events, text in enumerate(csv_lines(rows, zone)):
        out.write(text.encode("utf-8"))
        if out.tell() > max_bytes:
            raise TooLarge
        if events and events % every == 0:
            progress(events)
    return out.getvalue()


class TooLarge(Exception):
    """The file would pass the size that may be kept."""
