"""Which instruments a clinic can use: those shipped with the product (clinic/data/
instruments/) and those the clinic imported (`ClinicInstrument` rows, same format).

A clinic's import of a key wins over a shipped file with that key: that is how a clinic
holding a licence adds the wording to a scoring-only instrument such as FSFI. Answers are
always scored with the exact version they were given on (`version_of`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from sqlalchemy import ColumnElement, ScalarSelect, bindparam, func, select
from sqlalchemy.orm import InstrumentedAttribute, joinedload

from clinic.domain.questionnaires import Instrument, parse_instrument, shipped_instruments
from clinic.extensions import db
from clinic.models import ClinicInstrument


@lru_cache(maxsize=256)
def _parsed(definition: str) -> Instrument:
    # Imported definitions never change (a new version is a new row): parse each once.
    return parse_instrument(definition)


def revision(clinic_id: int) -> tuple[int, int, int]:
    """What changes whenever the clinic's instruments change, in one query: imports are
    only ever added (a new version is a new row) or retired, never changed or deleted, so
    their number, the latest one's id and the number retired. For a part of a page kept
    while they stay the same (clinic.timeline.course); a new way of changing an import
    must change this too."""
    row = db.session.execute(_REVISION, {"clinic_id": clinic_id}).one()
    return (row[0], row[1], row[2])


def revision_columns(
    clinic_id: ColumnElement[int] | InstrumentedAttribute[int],
) -> tuple[ScalarSelect[int], ...]:
    """`revision`'s three numbers for the clinic `clinic_id` names (a parameter, or a
    column of the statement they are put in), as scalar subqueries: a page that reads its
    record anyway reads them in the same statement (the portal's Today)."""
    of_clinic = ClinicInstrument.clinic_id == clinic_id
    return (
        select(func.count(ClinicInstrument.id)).where(of_clinic).scalar_subquery(),
        select(func.coalesce(func.max(ClinicInstrument.id), 0)).where(of_clinic).scalar_subquery(),
        select(func.count(ClinicInstrument.retired_at)).where(of_clinic).scalar_subquery(),
    )


# Read on every chart (built once).
_REVISION = select(*revision_columns(bindparam("clinic_id")))


def _imported(clinic_id: int, *, include_retired: bool) -> list[ClinicInstrument]:
    query = select(ClinicInstrument).where(ClinicInstrument.clinic_id == clinic_id)
    if not include_retired:
        query = query.where(ClinicInstrument.retired_at.is_(None))
    return list(db.session.scalars(query.order_by(ClinicInstrument.id)))


def available(clinic_id: int) -> Mapping[str, Instrument]:
    """Instruments the clinic can assign now, by key: shipped ones, replaced by the clinic's
    latest import of the same key. Includes scoring-only ones (check `administrable`
    before asking a patient)."""
    found: dict[str, Instrument] = dict(shipped_instruments())
    for row in _imported(clinic_id, include_retired=False):  # oldest first: latest wins
        found[row.key] = _parsed(row.definition)
    return dict(sorted(found.items(), key=lambda pair: pair[1].title.lower()))


def current(clinic_id: int, key: str) -> Instrument | None:
    """The version of `key` a patient answering today is asked (None if the clinic has
    no such instrument)."""
    return available(clinic_id).get(key)


def versions(clinic_id: int) -> dict[tuple[str, str], Instrument]:
    """Every version of every instrument the clinic has had, by (key, version): the shipped
    ones and all its imports, retired ones too (an import wins over a shipped file with
    the same key and version, as in `version_of`). One query, to read many answers."""
    found: dict[tuple[str, str], Instrument] = {
        (key, instrument.version): instrument for key, instrument in shipped_instruments().items()
    }
    for row in _imported(clinic_id, include_retired=True):
        found[(row.key, row.version)] = _parsed(row.definition)
    return found


def imported(clinic_id: int) -> list[ClinicInstrument]:
    """The clinic's imports, retired ones too, newest first, each with who imported it
    (for the instruments page; one query)."""
    return list(
        db.session.scalars(
            select(ClinicInstrument)
            .where(ClinicInstrument.clinic_id == clinic_id)
            .options(joinedload(ClinicInstrument.imported_by))
            .order_by(ClinicInstrument.id.desc())
        )
    )


def version_of(clinic_id: int, key: str, version: str) -> Instrument | None:
    """Exactly version `version` of `key` as the clinic had it (retired imports too), to
    show or re-read an answer given on that version."""
    for row in reversed(_imported(clinic_id, include_retired=True)):
        if row.key == key and row.version == version:
            return _parsed(row.definition)
    shipped = shipped_instruments().get(key)
    if shipped is not None and shipped.version == version:
        return shipped
    return None
