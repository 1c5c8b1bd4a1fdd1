"""Scoped loaders for patients' protocols."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.interfaces import ORMOption

from clinic.domain.protocols import Event, ProtocolStatus
from clinic.extensions import db
from clinic.models import (
    Patient,
    Protocol,
    ProtocolEvent,
    ProtocolStage,
    ProtocolTemplate,
    ProtocolVersion,
    User,
)

# A protocol with what the rules read: its versions' stages with their sizes, and its
# events (no authors: a patient's pages and the summaries never name them). Each size
# and author is joined to the rows that name it (one query for versions, one for stages
# with their sizes, one for events), not loaded by a query of its own.
FOR_RULES = (
    selectinload(Protocol.versions)
    .joinedload(ProtocolVersion.stages)
    .joinedload(ProtocolStage.dilator_size),
    selectinload(Protocol.events),
)
# ... and who recorded each event (the timeline's history table; the author's clinic is
# the one shown, already loaded).
WITH_EVENT_AUTHORS = (
    FOR_RULES[0],
    selectinload(Protocol.events).joinedload(ProtocolEvent.created_by).lazyload(User.clinic),
)
# A protocol with everything its history pages and the rules read (each version's author
# too).
FULL_HISTORY = (
    *WITH_EVENT_AUTHORS,
    selectinload(Protocol.versions).joinedload(ProtocolVersion.created_by).lazyload(User.clinic),
)


OPEN_STATUSES = (ProtocolStatus.ACTIVE, ProtocolStatus.PAUSED)


def get_protocol_or_404(protocol_id: int, patient_id: int, clinic_id: int) -> Protocol:
    """The protocol with this id, of this patient, in this clinic, with its history."""
    return db.first_or_404(
        select(Protocol)
        .where(
            Protocol.id == protocol_id,
            Protocol.patient_id == patient_id,
            Protocol.clinic_id == clinic_id,
        )
        .options(*FULL_HISTORY)
    )


def patient_protocols(patient_id: int, clinic_id: int) -> list[Protocol]:
    """All of a patient's protocols, newest first, with their history loaded."""
    return list(
        db.session.scalars(_PATIENT_PROTOCOLS, {"patient_id": patient_id, "clinic_id": clinic_id})
    )


# The protocol page's statement, built once (as `_open_protocol_statement`'s).
_PATIENT_PROTOCOLS = (
    select(Protocol)
    .where(
        Protocol.patient_id == bindparam("patient_id"), Protocol.clinic_id == bindparam("clinic_id")
    )
    .options(*FULL_HISTORY)
    .order_by(Protocol.created_at.desc(), Protocol.id.desc())
)


def open_protocol(
    patient_id: int,
    clinic_id: int,
    with_history: bool = True,
    load: Sequence[ORMOption] = FULL_HISTORY,
    *,
    afresh: bool = False,
) -> Protocol | None:
    """The patient's active or paused protocol, if any (with its history unless told not;
    `load` says how much of it: FOR_RULES, WITH_EVENT_AUTHORS or FULL_HISTORY; `afresh`:
    as committed now, even where the session holds it already)."""
    return db.session.scalar(
        _open_protocol_statement(tuple(load) if with_history else (), afresh),
        {"patient_id": patient_id, "clinic_id": clinic_id},
    )


@lru_cache(maxsize=16)
def _open_protocol_statement(load: tuple[ORMOption, ...], afresh: bool) -> Select[Protocol]:
    # Built once per way of loading (a handful, all constants of this module): every
    # chart and portal page asks, and building the statement with its loader options
    # cost more than running it.
    stmt = (
        select(Protocol)
        .where(
            Protocol.patient_id == bindparam("patient_id"),
            Protocol.clinic_id == bindparam("clinic_id"),
            Protocol.status.in_(OPEN_STATUSES),
        )
        .options(*load)
    )
    return stmt.execution_options(populate_existing=True) if afresh else stmt


def with_patient(protocol: Protocol | None, patient: Patient) -> Protocol | None:
    """`protocol` with its `patient` set to the record the caller loaded: the relationship
    joins on two columns (id and clinic), so reading it would send the row's query again."""
    if protocol is not None and protocol.patient_id == patient.id:
        set_committed_value(protocol, "patient", patient)
    return protocol


def usable_templates(clinic_id: int) -> list[ProtocolTemplate]:
    """The clinic's templates that are not retired, with their stages."""
    return list(
        db.session.scalars(
            select(ProtocolTemplate)
            .where(ProtocolTemplate.clinic_id == clinic_id, ProtocolTemplate.retired_at.is_(None))
            .options(selectinload(ProtocolTemplate.stages))
            .order_by(ProtocolTemplate.name)
        )
    )


def get_usable_template(template_id: int, clinic_id: int) -> ProtocolTemplate | None:
    """A template of this clinic that is not retired, or None."""
    return db.session.scalar(
        select(ProtocolTemplate)
        .where(
            ProtocolTemplate.id == template_id,
            ProtocolTemplate.clinic_id == clinic_id,
            ProtocolTemplate.retired_at.is_(None),
        )
        .options(selectinload(ProtocolTemplate.stages))
    )


def timeline(protocol: Protocol) -> list[Event]:
    """The protocol's events as the domain rules read them."""
    return [
        Event(
            kind=e.kind,
            effective_on=e.effective_on,
            version=e.version_number,
            stage=e.stage,
            resume_on=e.resume_on,
            device_mm=version(protocol, e.version_number)
            .stages[e.stage - 1]
            .dilator_size.diameter_mm,
        )
        for e in protocol.events
    ]


def version(protocol: Protocol, number: int) -> ProtocolVersion:
    """The protocol's version with this number (loaded with the protocol)."""
    return next(v for v in protocol.versions if v.number == number)
