"""What a protocol prescribes on a given day, in the shape pages need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from clinic.domain.protocols import EventKind, InForce, ProtocolStatus, in_force_on
from clinic.models import Protocol, ProtocolEvent, ProtocolStage, ProtocolVersion
from clinic.protocols.queries import timeline, version


@dataclass(frozen=True)
class Prescription:
    """The plan in force on `day` (or, before a future start date, the plan that starts)."""

    protocol: Protocol
    day: date
    state: InForce | None  # None before the protocol starts
    version: ProtocolVersion

    @property
    def stage_number(self) -> int:
        return self.state.stage if self.state else self.protocol.events[0].stage

    @property
    def stage(self) -> ProtocolStage:
        return self.version.stages[self.stage_number - 1]

    @property
    def starts_on(self) -> date:
        return self.protocol.events[0].effective_on

    @property
    def paused(self) -> bool:
        return self.state is not None and self.state.status is ProtocolStatus.PAUSED

    @property
    def pause(self) -> ProtocolEvent | None:
        """The pause in force (its reason and planned resume date), if paused."""
        if not self.paused:
            return None
        return next(
            e
            for e in reversed(self.protocol.events)
            if e.kind is EventKind.PAUSE and e.effective_on <= self.day
        )


def prescription_on(protocol: Protocol, day: date) -> Prescription:
    """What `protocol` prescribes on `day` (its events and versions must be loaded)."""
    state = in_force_on(timeline(protocol), day)
    number = state.version if state else protocol.events[0].version_number
    return Prescription(protocol=protocol, day=day, state=state, version=version(protocol, number))
