"""Scoped loaders for patients' protocols."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from clinic.domain.protocols import Event, ProtocolStatus
from clinic.extensions import db
from clinic.models import (
    DilatorSize,
    Patient,
    Protocol,
    ProtocolEvent,
    ProtocolStage,
    ProtocolTemplate,
    ProtocolVersion,
    User,
)


class History(Enum):
    """How much of a protocol's history `open_protocol` loads: what the rules read (its
    versions' stages with their sizes, and its events: a patient's pages and the
    summaries name no author), and also who recorded each event (the timeline's history
    table), or also who made each version (the protocol's own pages). The value: whether
    the versions' authors and the events' authors come too."""

    RULES = (False, False)
    EVENT_AUTHORS = (False, True)
    FULL = (True, True)


# The same, as loader options, for a statement that selects protocols (many patients'
# at once): what the rules read. Each size and author is joined to the rows that name it
# (one query for versions, one for stages with their sizes, one for events), not loaded
# by a query of its own.
FOR_RULES = (
    selectinload(Protocol.versions)
    .joinedload(ProtocolVersion.stages)
    .joinedload(ProtocolStage.dilator_size),
    selectinload(Protocol.events),
)
# ... and everything its history pages read: who recorded each event and made each
# version (the author's clinic is the one shown, already loaded).
FULL_HISTORY = (
    FOR_RULES[0],
    selectinload(Protocol.events).joinedload(ProtocolEvent.created_by).lazyload(User.clinic),
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
    whose = {"patient_id": patient_id, "clinic_id": clinic_id}
    protocols = list(db.session.scalars(_PATIENT_PROTOCOLS, whose))
    _load_history(protocols, _history_statements(History.FULL, one_protocol=False), whose)
    return protocols


_PATIENT_PROTOCOLS = (
    select(Protocol)
    .where(
        Protocol.patient_id == bindparam("patient_id"), Protocol.clinic_id == bindparam("clinic_id")
    )
    .order_by(Protocol.created_at.desc(), Protocol.id.desc())
)


def open_protocol(
    patient_id: int,
    clinic_id: int,
    with_history: bool = True,
    load: History = History.FULL,
) -> Protocol | None:
    """The patient's active or paused protocol, if any (with its history unless told not;
    `load` says how much of it)."""
    whose = {"patient_id": patient_id, "clinic_id": clinic_id}
    protocol = db.session.scalar(_OPEN_PROTOCOL, whose)
    if protocol is not None and with_history:
        load_history(protocol, load)
    return protocol


def load_history(protocol: Protocol, load: History, *, afresh: bool = False) -> None:
    """Load `load` of the protocol's history (`afresh`: as committed now, even where the
    session holds it already). By its id, not by the patient's open protocol again: one
    completed or replaced meanwhile (committed between the statements) keeps the history
    it was read with."""
    _load_history(
        [protocol],
        _history_statements(load, one_protocol=True, afresh=afresh),
        {"protocol_id": protocol.id},
    )


_OPEN_PROTOCOL = select(Protocol).where(
    Protocol.patient_id == bindparam("patient_id"),
    Protocol.clinic_id == bindparam("clinic_id"),
    Protocol.status.in_(OPEN_STATUSES),
)


@dataclass(frozen=True)
class _History:
    """The statements that load the versions (with their stages and sizes) and the events
    of a patient's protocols, or of their open one."""

    versions: Select[ProtocolVersion]
    events: Select[ProtocolEvent]


@lru_cache(maxsize=16)
def _history_statements(load: History, *, one_protocol: bool, afresh: bool = False) -> _History:
    # Why not `selectinload`: it builds its statement again on every load, and on these
    # pages building it cost more than running it. These are built once per way of
    # loading (a handful) and pick the rows of one protocol (`protocol_id`) or of all the
    # patient's (`patient_id`, `clinic_id`: joined to their protocol, rather than listing
    # the protocols' ids).
    def rows_of(stmt: Select[Any], model: Any) -> Select[Any]:
        if one_protocol:
            stmt = stmt.where(model.protocol_id == bindparam("protocol_id"))
        else:
            stmt = stmt.join(Protocol, Protocol.id == model.protocol_id).where(
                Protocol.patient_id == bindparam("patient_id"),
                Protocol.clinic_id == bindparam("clinic_id"),
            )
        return stmt.execution_options(populate_existing=afresh)

    version_authors, event_authors = load.value
    versions = select(ProtocolVersion).options(
        # With each size's set: a diary form sent names a size, most often one of the
        # plan's, and is checked against it and its set (clinic.portal.entries).
        joinedload(ProtocolVersion.stages)
        .joinedload(ProtocolStage.dilator_size)
        .joinedload(DilatorSize.dilator_set),
        *(
            [joinedload(ProtocolVersion.created_by).lazyload(User.clinic)]
            if version_authors
            else []
        ),
    )
    events = select(ProtocolEvent).options(
        *([joinedload(ProtocolEvent.created_by).lazyload(User.clinic)] if event_authors else [])
    )
    return _History(
        rows_of(versions, ProtocolVersion).order_by(
            ProtocolVersion.protocol_id, ProtocolVersion.number
        ),
        rows_of(events, ProtocolEvent).order_by(ProtocolEvent.protocol_id, ProtocolEvent.id),
    )


def _load_history(protocols: list[Protocol], history: _History, params: dict[str, int]) -> None:
    """Set each protocol's versions and events (in their relationships' order) from
    `history`'s two statements, run with `params`."""
    if not protocols:
        return
    versions: defaultdict[int, list[ProtocolVersion]] = defaultdict(list)
    for each in db.session.scalars(history.versions, params).unique():
        versions[each.protocol_id].append(each)
    events: defaultdict[int, list[ProtocolEvent]] = defaultdict(list)
    for event in db.session.scalars(history.events, params):
        events[event.protocol_id].append(event)
    for protocol in protocols:
        set_committed_value(protocol, "versions", versions[protocol.id])
        set_committed_value(protocol, "events", events[protocol.id])


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
