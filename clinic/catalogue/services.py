"""Changes to the dilator catalogue. Functions flush; the unit of work commits once.

A size that a template or protocol uses is part of prescriptions on record, so it is never
deleted (it is retired instead) and its diameter never changes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from clinic.catalogue.queries import size_in_use
from clinic.core.refusals import Refusal
from clinic.domain.protocols import IntendedUse
from clinic.domain.text import N_
from clinic.extensions import db
from clinic.models import DilatorSet, DilatorSize
from clinic.models.types import utcnow

LABEL_CONSTRAINT = "uq_dilator_sizes_set_label"
# SQLite names the columns rather than the constraint.
LABEL_CONSTRAINT_SQLITE = "dilator_sizes.set_id, dilator_sizes.label"

DIAMETER_IN_USE = N_(
    "A template or protocol prescribes this size, so its diameter cannot change: "
    "prescriptions on record must keep meaning what they meant. To use another diameter, "
    "add a new size instead."
)


@dataclass(frozen=True)
class SetDetails:
    """What a clinician records about a dilator set, validated."""

    name: str
    material: str
    intended_use: IntendedUse
    notes: str
    flared_base: bool = False  # every size has one: required before any anal use


@dataclass(frozen=True)
class SizeDetails:
    """What a clinician records about one size, validated (diameter already rounded)."""

    label: str
    diameter_mm: float
    insertable_length_mm: int | None


class CatalogueError(Refusal):
    """A change the catalogue refuses; `field` names the form field it concerns."""


def label_taken_message(label: str) -> str:
    """The plain-words refusal of a label the set already has."""
    return _("This set already has a size labelled “%(label)s”. Choose another label.", label=label)


class Removal(Enum):
    """What removing a size did."""

    DELETED = "deleted"
    RETIRED = "retired"
    ALREADY_RETIRED = "already retired"


def create_set(clinic_id: int, details: SetDetails) -> DilatorSet:
    """Add a dilator set to the clinic's catalogue."""
    dilator_set = DilatorSet(clinic_id=clinic_id, **asdict(details))
    db.session.add(dilator_set)
    db.session.flush()
    return dilator_set


def update_set(dilator_set: DilatorSet, details: SetDetails) -> None:
    """Replace the set's details with the validated input."""
    for name, value in asdict(details).items():
        setattr(dilator_set, name, value)
    db.session.flush()


def add_size(dilator_set: DilatorSet, details: SizeDetails) -> DilatorSize:
    """Add a size to a set. Raises CatalogueError if the set already has the label."""
    size = DilatorSize(set_id=dilator_set.id, **asdict(details))
    _save_size(size, details, add=True)
    return size


def update_size(size: DilatorSize, details: SizeDetails) -> None:
    """Change a size's label, diameter or length. Raises CatalogueError when the diameter
    of a size in use would change, or when the set already has the label."""
    changes_diameter = round(details.diameter_mm, 1) != round(size.diameter_mm, 1)
    in_use = size_in_use(size.id)
    if changes_diameter and in_use:
        raise CatalogueError(_(DIAMETER_IN_USE), "diameter_mm")
    _save_size(size, details, add=False)


def _save_size(size: DilatorSize, details: SizeDetails, add: bool) -> None:
    # The form checks the label first; the savepoint turns a clash with a concurrent save
    # (the database's unique constraint) into the same plain message instead of an error
    # page, and leaves the rest of the request's work intact.
    try:
        with db.session.begin_nested():
            if add:
                db.session.add(size)
            else:
                for name, value in asdict(details).items():
                    setattr(size, name, value)
    except IntegrityError as exc:
        message = str(exc.orig)
        if LABEL_CONSTRAINT in message or LABEL_CONSTRAINT_SQLITE in message:
            raise CatalogueError(label_taken_message(details.label), "label") from exc
        raise


def remove_size(size: DilatorSize) -> Removal:
    """Delete a size no plan uses; retire one that a template or protocol uses."""
    if not size_in_use(size.id):
        try:
            with db.session.begin_nested():
                db.session.delete(size)
        except IntegrityError:
            pass  # a plan started using it meanwhile (foreign key): retire it instead
        else:
            return Removal.DELETED
    if size.retired_at is not None:
        return Removal.ALREADY_RETIRED
    size.retired_at = utcnow()
    db.session.flush()
    return Removal.RETIRED


def restore_size(size: DilatorSize) -> bool:
    """Offer a retired size for new plans again; False if it was not retired."""
    if size.retired_at is None:
        return False
    size.retired_at = None
    db.session.flush()
    return True
