"""Scoped loaders for protocol templates. Every read of a template goes through here.

Each loader filters by clinic inside the query, so another clinic's template is simply
not found (404). Stages and their dilator sizes are loaded with the template, in a fixed
number of queries whatever the size of the library.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from clinic.domain.indications import Indication
from clinic.extensions import db
from clinic.models import ProtocolTemplate, TemplateStage

_WITH_STAGES = selectinload(ProtocolTemplate.stages).selectinload(TemplateStage.dilator_size)


def get_template_or_404(template_id: int, clinic_id: int) -> ProtocolTemplate:
    """The template with this id in this clinic, with its stages and their sizes;
    404 if absent or another clinic's."""
    return db.first_or_404(
        select(ProtocolTemplate)
        .where(ProtocolTemplate.id == template_id, ProtocolTemplate.clinic_id == clinic_id)
        .options(_WITH_STAGES)
    )


@dataclass(frozen=True)
class Library:
    """The clinic's templates as the library page shows them."""

    in_use: list[tuple[Indication, list[ProtocolTemplate]]]  # by indication, in list order
    retired: list[ProtocolTemplate]

    @property
    def in_use_count(self) -> int:
        return sum(len(templates) for _, templates in self.in_use)


def clinic_library(clinic_id: int) -> Library:
    """Every template of the clinic, in use ones grouped by indication (in the order
    indications are listed), retired ones apart; three queries in all."""
    templates = db.session.scalars(
        select(ProtocolTemplate)
        .where(ProtocolTemplate.clinic_id == clinic_id)
        .options(_WITH_STAGES)
        .order_by(ProtocolTemplate.name, ProtocolTemplate.id)
    ).all()
    groups: dict[Indication, list[ProtocolTemplate]] = {i: [] for i in Indication}
    retired: list[ProtocolTemplate] = []
    for template in templates:
        if template.retired_at is None:
            groups[template.indication].append(template)
        else:
            retired.append(template)
    return Library(
        in_use=[(indication, found) for indication, found in groups.items() if found],
        retired=retired,
    )
