"""Scoped loaders for the dilator catalogue. Every read of a set or size goes through here.

Each loader filters by clinic inside the query, so another clinic's set or size is simply
not found (404). A size has no clinic of its own: it belongs to the clinic of its set.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import contains_eager

from clinic.extensions import db
from clinic.models import DilatorSet, DilatorSize, ProtocolStage, TemplateStage


def get_set_or_404(set_id: int, clinic_id: int) -> DilatorSet:
    """The dilator set with this id in this clinic; 404 if absent or another clinic's."""
    return db.first_or_404(
        select(DilatorSet).where(DilatorSet.id == set_id, DilatorSet.clinic_id == clinic_id)
    )


def get_size_or_404(size_id: int, clinic_id: int) -> DilatorSize:
    """The size with this id whose set is in this clinic, with its set loaded; 404 if
    absent or another clinic's."""
    return db.first_or_404(
        select(DilatorSize)
        .join(DilatorSize.dilator_set)
        .where(DilatorSize.id == size_id, DilatorSet.clinic_id == clinic_id)
        .options(contains_eager(DilatorSize.dilator_set))
    )


def _used_by_a_plan() -> ColumnElement[bool]:
    # A size is in use once any template stage or any protocol stage (of any version,
    # current or past) names it: those prescriptions must keep meaning what they meant.
    return or_(
        exists().where(TemplateStage.dilator_size_id == DilatorSize.id),
        exists().where(ProtocolStage.dilator_size_id == DilatorSize.id),
    )


def sizes_in_use(clinic_id: int) -> set[int]:
    """Ids of the clinic's sizes that a template or protocol uses, in one query."""
    return set(
        db.session.scalars(
            select(DilatorSize.id)
            .join(DilatorSize.dilator_set)
            .where(DilatorSet.clinic_id == clinic_id, _used_by_a_plan())
        )
    )


def size_in_use(size_id: int) -> bool:
    """Whether a template stage or protocol stage uses this size."""
    stmt = select(DilatorSize.id).where(DilatorSize.id == size_id, _used_by_a_plan())
    return db.session.scalar(stmt) is not None


def label_taken(set_id: int, label: str, except_size_id: int | None = None) -> bool:
    """Whether another size of the set already has this label (ignoring case: "size 3"
    and "Size 3" would read as the same dilator in a prescription)."""
    stmt = select(DilatorSize.id).where(
        DilatorSize.set_id == set_id, func.lower(DilatorSize.label) == label.lower()
    )
    if except_size_id is not None:
        stmt = stmt.where(DilatorSize.id != except_size_id)
    return db.session.scalar(stmt.limit(1)) is not None
