"""Synthetic diaries: a patient's sessions, skips and red flags over their programme, as
plain rows for bulk INSERTs (no ORM objects: millions of rows must be cheap to make).

Each patient has their own habits: how regularly they log (varying from week to week),
how much pain they feel. Pain rises after each step up and eases over about two weeks; a
few days are bad. Missed sessions are a skip with a reason or, less often, nothing. The
red flags are those the diary rules (`clinic.domain.diary.red_flags`) raise for the
values logged, acknowledged by the clinician within a day or so, except a few recent ones.

Used by `flask seed-load` (clinic.loadgen.load) and through it by the benchmark.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from clinic.alerts.services import SECOND as ESCALATED_AS_FAR_AS_IT_GOES
from clinic.demo import SKIP_REASONS
from clinic.domain.diary import Bleeding, FlagReason, SessionReport, red_flags
from clinic.domain.protocols import Event, InForce, Period, ProtocolStatus, in_force_on

# One patient in 50 (the 2nd, 52nd, ... of each clinic, so small loads have one too) has
# an open red flag from the last days.
OPEN_RED_FLAG_EVERY = 50
SILENT_EVERY = 25  # one in 25 stopped logging a week to a month ago
ACKNOWLEDGEMENT = "Phoned the patient; advice given, plan unchanged."


@dataclass(frozen=True)
class StageRx:
    """What a diary entry needs from the stage it was logged under."""

    dilator_size_id: int
    minutes: int
    sessions: int
    period: Period
    red_flag_pain: int
    target_depth_cm: float | None


@dataclass(frozen=True)
class DiaryPlan:
    """One patient, as plain values: enough to write their diary."""

    n: int  # the patient's number within the load (habits follow from it and the seed)
    patient_id: int
    user_id: int
    clinician_id: int
    protocol_id: int
    events: list[Event]  # the protocol's timeline, as the rules read it
    stages: dict[int, list[StageRx]]  # per protocol version number, stage 1 first


def diary_rows(
    patient: DiaryPlan,
    clinic_id: int,
    zone: ZoneInfo,
    today: date,
    now: datetime,
    seed: str = "",
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The patient's entries from the protocol's start to yesterday, each with the red
    flags it raises (named by the entry's submission key until the entry has an id), as
    rows for bulk INSERTs. The same `seed` and patient give the same diary."""
    rng = random.Random(f"{seed}diary-{patient.n}")
    regularity = rng.uniform(0.55, 0.97)
    sensitivity = rng.uniform(-0.5, 2.0)
    last_day = today - timedelta(days=1)
    if patient.n % SILENT_EVERY == SILENT_EVERY // 2:
        last_day = today - timedelta(days=rng.randint(7, 30))  # stopped logging
    open_flag_day = None
    if patient.n % OPEN_RED_FLAG_EVERY == 2:
        open_flag_day = today - timedelta(days=rng.randint(1, 3))

    adherence = regularity
    first = patient.events[0].effective_on
    # What is in force depends only on the events in effect by the day: read it once for
    # each run of days between two events, not once a day.
    effective = [event.effective_on for event in patient.events]
    in_force: dict[int, InForce | None] = {}
    for day in (first + timedelta(days=d) for d in range((last_day - first).days + 1)):
        if day.weekday() == 0:  # some weeks go better than others
            adherence = min(1.0, max(0.1, regularity + rng.uniform(-0.25, 0.1)))
        seen = bisect_right(effective, day)
        if seen not in in_force:
            in_force[seen] = in_force_on(patient.events, day)
        state = in_force[seen]
        if state is None or state.status is not ProtocolStatus.ACTIVE:
            continue
        stage = patient.stages[state.version][state.stage - 1]
        if stage.period is Period.DAY:
            per_day = stage.sessions
        else:
            per_day = 1 if rng.random() < stage.sessions / 7 else 0
        if day == open_flag_day:
            per_day = max(per_day, 1)
        for i, hour in enumerate(sorted(rng.sample(range(7, 22), per_day))):
            occurred_at = datetime.combine(day, clock_time(hour, rng.randrange(60)), zone)
            created_at = min(now, occurred_at + timedelta(minutes=rng.randint(2, 90)))
            row: dict[str, Any] = {
                "clinic_id": clinic_id,
                "patient_id": patient.patient_id,
                "protocol_id": patient.protocol_id,
                "version_number": state.version,
                "stage": state.stage,
                "occurred_at": occurred_at.astimezone(UTC),
                "occurred_on": day,
                "submission_key": f"load-{patient.patient_id}-{day.isoformat()}-{i}",
                "created_by_id": patient.user_id,
                "created_at": created_at.astimezone(UTC),
                "updated_at": None,
                "withdrawn_at": None,
                "note": "",
                "skip_other": "",
            }
            flagged = day == open_flag_day and i == 0
            if not flagged and rng.random() > adherence:
                if rng.random() < 0.4:
                    continue  # missed without a word, as often happens
                yield row | skip_columns(rng), []
                continue
            session = session_columns(rng, stage, (day - state.stage_since).days, sensitivity)
            if flagged:
                session.update(pain_during=8, pain_after=7)  # a recent red flag, still open
            report = SessionReport(
                session["pain_during"],
                session["pain_after"],
                session["bleeding"],
                session["sharp_pain"],
            )
            raised = [
                red_flag_row(row, reason, max(report.pain_during, report.pain_after))
                | acknowledgement(rng, row["created_at"], patient.clinician_id, now, flagged)
                for reason in red_flags(report, stage.red_flag_pain)
            ]
            yield row | session, raised


def skip_columns(rng: random.Random) -> dict[str, Any]:
    """The columns of a skipped session."""
    return {
        "skipped": True,
        "skip_reason": rng.choice(SKIP_REASONS),
        "dilator_size_id": None,
        "minutes": None,
        "pain_during": None,
        "pain_after": None,
        "bleeding": None,
        "sharp_pain": None,
        "depth_cm": None,
    }


def session_columns(
    rng: random.Random, stage: StageRx, days_on_stage: int, sensitivity: float
) -> dict[str, Any]:
    """The columns of a session done: mostly the prescribed minutes, pain mostly low
    (`sensitivity` is the patient's usual level; higher for two weeks after a step up, and
    on the odd bad day), bleeding rarely."""
    settling = max(0.0, 3.0 - days_on_stage / 5)
    during = round(sensitivity + settling + rng.gauss(0, 0.9))
    if rng.random() < 0.02:
        during += rng.randint(2, 4)  # a bad day
    during = min(10, max(0, during))
    after = min(10, max(0, during + rng.choice((-2, -1, -1, 0, 0, 0, 1))))
    roll = rng.random()
    bleeding = (
        Bleeding.MORE if roll < 0.002 else Bleeding.SPOTTING if roll < 0.04 else Bleeding.NONE
    )
    minutes = stage.minutes
    if rng.random() > 0.8:
        minutes = max(1, minutes + rng.randint(-5, 5))
    return {
        "skipped": False,
        "skip_reason": None,
        "dilator_size_id": stage.dilator_size_id,
        "minutes": minutes,
        "pain_during": during,
        "pain_after": after,
        "bleeding": bleeding,
        "sharp_pain": rng.random() < 0.002,
        "depth_cm": stage.target_depth_cm,
    }


def red_flag_row(entry: dict[str, Any], reason: FlagReason, pain: int) -> dict[str, Any]:
    """A red flag raised by `entry` (named by its submission key until it has an id)."""
    return {
        "submission_key": entry["submission_key"],
        "clinic_id": entry["clinic_id"],
        "patient_id": entry["patient_id"],
        "reason": reason,
        "pain": pain,
        "raised_at": entry["created_at"],
    }


def acknowledgement(
    rng: random.Random, raised_at: datetime, clinician_id: int, now: datetime, still_open: bool
) -> dict[str, Any]:
    """The acknowledgement columns of a red flag: the responsible clinician acknowledged it
    within a day or so, unless it is `still_open`. Either way the flag counts as already
    escalated as far as it goes (`escalated_level` 2, as clinic.alerts.upkeep marks flags
    that arrive with loaded history): a loaded flag is not news, and a worker started on
    the loaded database must not email every clinician about flags nobody raised."""
    if still_open:
        return {
            "acknowledged_at": None,
            "acknowledged_by_id": None,
            "acknowledgement": "",
            "escalated_level": ESCALATED_AS_FAR_AS_IT_GOES,
        }
    return {
        "escalated_level": ESCALATED_AS_FAR_AS_IT_GOES,
        "acknowledged_at": min(now, raised_at + timedelta(hours=rng.uniform(1, 30))),
        "acknowledged_by_id": clinician_id,
        "acknowledgement": ACKNOWLEDGEMENT,
    }
