"""Synthetic protocol histories, as the rows `clinic.protocols.services` would write.

A history is a start and what followed (moves up at the patient's pace, a hold now and
then, pauses, a completion), within the rules the services enforce (`refusal`: no move up
past the last stage, a pause only while active, ...). `protocol_rows` turns it into the
protocol, version, stage and event rows the services produce for the same decisions,
hashes included (`clinic.protocols.integrity`, on transient objects that never reach the
session), so `integrity.verify` and every reader accept them. tests/integration/
test_seed_load.py replays histories through the services and compares.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from clinic.domain.indications import Indication
from clinic.domain.progression import GoingBack
from clinic.domain.protocols import (
    STATUS_AFTER,
    Event,
    EventKind,
    ProtocolStatus,
    Route,
    StagePrescription,
    refusal,
)
from clinic.models import Protocol, ProtocolEvent, ProtocolStage, ProtocolVersion
from clinic.protocols import integrity

# Why a clinician moved a patient up, held, paused, resumed or completed.
ADVANCE_REASONS = (
    "Comfortable at this size in recent sessions; pain low.",
    "Insertion easy; ready for the next size.",
    "Pain 2/10 or less for two weeks; moving up.",
    "Sessions regular and comfortable.",
)
HOLD_REASON = "Pain 4/10 at this size: stay two more weeks."
PAUSE_REASON = "Unwell: pause until the next review."
RESUME_REASON = "Well again; restarting at the same size."
COMPLETE_REASON = "Goals met; discharged with advice for flare-ups."

COMPLETED_EVERY = 12  # one patient in 12 finished the programme (discharged)
PAUSED_EVERY = 15  # one in 15 is paused now
PAUSED_BEFORE_EVERY = 8  # one in 8 was paused for a while and resumed


@dataclass(frozen=True)
class Step:
    """One decision after the start: what, effective which day, and why."""

    kind: EventKind
    on: date
    reason: str
    resume_on: date | None = None


@dataclass(frozen=True)
class PlanTemplate:
    """What a protocol copies from its template at the start."""

    id: int
    name: str
    indication: Indication
    route: Route
    going_back: GoingBack
    stages: tuple[StagePrescription, ...]
    diameters: dict[int, float]  # dilator size id -> diameter (mm)


@dataclass
class ProtocolRows:
    """One protocol's rows, ready for bulk INSERTs once the ids they point at exist."""

    protocol: dict[str, Any]
    version: dict[str, Any]
    stages: list[dict[str, Any]]
    events: list[dict[str, Any]]
    timeline: list[Event] = field(default_factory=list)

    @property
    def status(self) -> ProtocolStatus:
        status: ProtocolStatus = self.protocol["status"]
        return status


def history(n: int, rng: random.Random, start: date, today: date, stage_count: int) -> list[Step]:
    """The decisions after a start on `start`: moves up every three weeks to a few months
    at the patient's own pace, until the last stage or last week; some paused (one in
    PAUSED_BEFORE_EVERY for a while, one in PAUSED_EVERY until now), a hold now and then,
    and one in COMPLETED_EVERY completed. Each step is one `refusal` allows."""
    pace = rng.uniform(1.2, 3.5)
    steps: list[Step] = []
    stage, status, day = 1, ProtocolStatus.ACTIVE, start
    last_day = today - timedelta(days=7)
    completes = n % COMPLETED_EVERY == 5
    paused_now = not completes and n % PAUSED_EVERY == 7
    pause_between = n % PAUSED_BEFORE_EVERY == 3

    def allowed(kind: EventKind) -> bool:
        return refusal(kind, status, stage, stage_count) is None

    while True:
        day += timedelta(days=round(rng.randint(18, 35) * pace))  # at least the 14 days
        if day > last_day or not allowed(EventKind.ADVANCE):
            break
        if rng.random() < 0.15 and allowed(EventKind.HOLD):
            steps.append(Step(EventKind.HOLD, day, HOLD_REASON))
            continue
        if pause_between and stage == 2 and allowed(EventKind.PAUSE):
            back = day + timedelta(days=rng.randint(10, 30))
            if back > last_day:
                break
            steps.append(Step(EventKind.PAUSE, day, PAUSE_REASON, resume_on=back))
            steps.append(Step(EventKind.RESUME, back, RESUME_REASON))
            pause_between, day = False, back
            continue
        stage += 1
        steps.append(Step(EventKind.ADVANCE, day, rng.choice(ADVANCE_REASONS)))
    end = max([start, *(s.on for s in steps)])
    if completes and end < today - timedelta(days=3):
        steps.append(Step(EventKind.COMPLETE, rng_day(rng, end, today), COMPLETE_REASON))
    elif paused_now and end < today - timedelta(days=3):
        on = rng_day(rng, end, today)
        steps.append(Step(EventKind.PAUSE, on, PAUSE_REASON, resume_on=today + timedelta(days=14)))
    return steps


def rng_day(rng: random.Random, after: date, today: date) -> date:
    """A day after `after`, before today."""
    return after + timedelta(days=rng.randint(1, max(1, (today - after).days - 1)))


class VersionHashes:
    """Content hashes of first versions: the same for every protocol a clinician starts
    from the same template (number, reason, author, stages), so computed once each."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, int], str] = {}

    def of(self, template: PlanTemplate, reason: str, clinician_id: int) -> str:
        key = (template.id, clinician_id)
        if key not in self._known:
            self._known[key] = integrity.version_hash(
                ProtocolVersion(
                    number=1,
                    reason=reason,
                    created_by_id=clinician_id,
                    stages=_stages(template),
                )
            )
        return self._known[key]


def _stages(template: PlanTemplate) -> list[ProtocolStage]:
    return [
        ProtocolStage(position=n, **stage.as_dict())
        for n, stage in enumerate(template.stages, start=1)
    ]


def protocol_rows(
    *,
    clinic_id: int,
    patient_id: int,
    template: PlanTemplate,
    clinician_id: int,
    start: date,
    steps: list[Step],
    zone: ZoneInfo,
    now: datetime,
    hashes: VersionHashes,
    surgeon_direction: str = "",
    procedure_on: date | None = None,
    specialist_direction: str = "",
) -> ProtocolRows:
    """The rows `start_protocol` (from `template`, at stage 1, on `start`) and then
    `record_event` for each step write, each recorded on its effective day in office
    hours (`created_at`), as if the clinician had kept the record as things happened."""
    times = [_recorded_at(start, 0, zone, now)]
    times += [_recorded_at(step.on, i, zone, now) for i, step in enumerate(steps, start=1)]
    reason = f"Started from the template “{template.name}”."
    protocol = Protocol(
        clinic_id=clinic_id,
        patient_id=patient_id,
        name=template.name,
        indication=template.indication,
        route=template.route,
        surgeon_direction=surgeon_direction,
        procedure_on=procedure_on,
        specialist_direction=specialist_direction,
        created_at=times[0],
    )
    content_hash = hashes.of(template, reason, clinician_id)
    previous = integrity.genesis(protocol)
    events: list[dict[str, Any]] = []
    timeline: list[Event] = []
    stage = 1
    status = ProtocolStatus.ACTIVE
    kinds = [
        (EventKind.START, start, reason, None),
        *((s.kind, s.on, s.reason, s.resume_on) for s in steps),
    ]
    for (kind, on, why, resume_on), at in zip(kinds, times, strict=True):
        stage += kind.stage_step
        planned_end = resume_on if kind is EventKind.PAUSE else None
        event: dict[str, Any] = {
            "kind": kind,
            "effective_on": on,
            "version_number": 1,
            "stage": stage,
            "reason": why,
            "resume_on": planned_end,
            "suggested": None,
            "created_by_id": clinician_id,
            "created_at": at,
        }
        event["chain_hash"] = previous = integrity.event_hash(
            ProtocolEvent(**event), content_hash, previous
        )
        events.append(event)
        status = STATUS_AFTER[kind] or status
        timeline.append(
            Event(
                kind=kind,
                effective_on=on,
                version=1,
                stage=stage,
                resume_on=planned_end,
                device_mm=template.diameters[template.stages[stage - 1].dilator_size_id],
            )
        )
    return ProtocolRows(
        protocol={
            "clinic_id": clinic_id,
            "patient_id": patient_id,
            "name": template.name,
            "indication": template.indication,
            "route": template.route,
            "source_template_id": template.id,
            "surgeon_direction": surgeon_direction,
            "procedure_on": procedure_on,
            "specialist_direction": specialist_direction,
            "going_back": template.going_back,
            "status": status,
            "created_by_id": clinician_id,
            "created_at": times[0],
            "updated_at": times[-1],
            # The services flush once per change: the lock version counts the events.
            "lock_version": len(events),
            "head_hash": previous,
        },
        version={
            "number": 1,
            "reason": reason,
            "created_by_id": clinician_id,
            "created_at": times[0],
            "content_hash": content_hash,
        },
        stages=[
            {"position": n, **stage_values.as_dict()}
            for n, stage_values in enumerate(template.stages, start=1)
        ],
        events=events,
        timeline=timeline,
    )


def _recorded_at(day: date, index: int, zone: ZoneInfo, now: datetime) -> datetime:
    """When a change effective on `day` was recorded: that day in office hours, in order
    (never after now)."""
    at = datetime.combine(day, time(9, 0), zone) + timedelta(minutes=7 * index)
    return min(at.astimezone(UTC), now - timedelta(seconds=60 - index))
