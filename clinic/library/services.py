"""Changes to the clinic's protocol templates. Functions flush; the unit of work commits once.

A template's stages are replaced as a whole on every save (positions 1..n in the order
given), and every save bumps the template's `lock_version`, so an editor working from an
older copy is refused rather than silently overwriting someone else's changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from clinic.domain.indications import Indication
from clinic.domain.progression import GoingBack
from clinic.domain.protocols import Route, StagePrescription
from clinic.domain.text import N_
from clinic.extensions import db
from clinic.models import ProtocolTemplate, TemplateStage
from clinic.models.types import utcnow

STALE_TEMPLATE_MESSAGE = N_(
    "Someone else changed this template while you were editing. Your changes were not "
    "saved: reload the page to see their version."
)

COPY_PREFIX = "Copy of "
NAME_MAX_LENGTH = 120


class TemplateChangedError(Exception):
    """The template was saved by someone else since the editor loaded it."""


@dataclass(frozen=True)
class TemplateDetails:
    """A template as a clinician describes it, validated: the stages in order."""

    name: str
    indication: Indication
    route: Route
    description: str
    stages: tuple[StagePrescription, ...]
    sources: str = ""  # one reference a line
    review_on: date | None = None  # when the clinic reviews the template next
    # What the plan suggests when pain says go back (see clinic.domain.progression).
    going_back: GoingBack = GoingBack.STEP_BACK


def _stages(stages: tuple[StagePrescription, ...]) -> list[TemplateStage]:
    return [TemplateStage(position=n, **stage.as_dict()) for n, stage in enumerate(stages, start=1)]


def create_template(clinic_id: int, details: TemplateDetails) -> ProtocolTemplate:
    """Add a template to the clinic's library."""
    template = ProtocolTemplate(
        clinic_id=clinic_id,
        name=details.name,
        indication=details.indication,
        route=details.route,
        going_back=details.going_back,
        description=details.description,
        sources=details.sources,
        review_on=details.review_on,
        stages=_stages(details.stages),
    )
    db.session.add(template)
    db.session.flush()
    return template


def update_template(
    template: ProtocolTemplate, details: TemplateDetails, based_on_version: int | None
) -> None:
    """Replace the template's details and stages, if nobody saved it since the editor
    loaded version `based_on_version`; otherwise raise TemplateChangedError.

    A save that races another one between this check and the flush is caught by the
    database (the version column), as sqlalchemy.orm.exc.StaleDataError.
    """
    if based_on_version != template.lock_version:
        raise TemplateChangedError(STALE_TEMPLATE_MESSAGE)
    template.name = details.name
    template.indication = details.indication
    template.route = details.route
    template.going_back = details.going_back
    template.description = details.description
    template.sources = details.sources
    template.review_on = details.review_on
    template.stages = _stages(details.stages)
    # A change to the stages alone leaves the template's own row untouched, and then its
    # version would not move: touching updated_at makes every save a versioned UPDATE.
    template.updated_at = utcnow()
    db.session.flush()


def copy_template(template: ProtocolTemplate) -> ProtocolTemplate:
    """A new, active template with the same details and its own copies of the stages."""
    copy = ProtocolTemplate(
        clinic_id=template.clinic_id,
        name=(COPY_PREFIX + template.name)[:NAME_MAX_LENGTH],
        indication=template.indication,
        route=template.route,
        going_back=template.going_back,
        description=template.description,
        sources=template.sources,
        review_on=template.review_on,
        stages=_stages(tuple(stage.stage_values() for stage in template.stages)),
    )
    db.session.add(copy)
    db.session.flush()
    return copy


def retire_template(template: ProtocolTemplate) -> bool:
    """Take the template out of use (it is kept); False if it was already retired."""
    if template.retired_at is not None:
        return False
    template.retired_at = utcnow()
    db.session.flush()
    return True


def restore_template(template: ProtocolTemplate) -> bool:
    """Put a retired template back in use; False if it was not retired."""
    if template.retired_at is None:
        return False
    template.retired_at = None
    db.session.flush()
    return True
