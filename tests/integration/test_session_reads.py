"""The quarter's sessions the summary refresh reads (`load_sessions`, one narrow statement
unpacked by position) are the ones the rules would read from the full diary entries."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from clinic.core.clock import clinic_today
from clinic.domain.diary import FlagReason, SkipReason
from clinic.extensions import db
from clinic.models import DiaryEntry, DilatorSize, RedFlag
from clinic.models.catalogue import size_display
from clinic.monitoring.evidence import LOOKBACK_DAYS, ScoredSession
from clinic.monitoring.services import load_sessions
from tests.support.diaries import add_entries
from tests.support.protocols import ZONE, start_plan
from tests.support.world import World


def test_the_sessions_read_for_the_summary_are_the_entries_as_the_rules_see_them(
    app: Flask, world: World
) -> None:
    """Sessions with and without a depth, skips, a withdrawn one and one that raised a red
    flag, some outside the look-back window: `load_sessions` gives, field for field and in
    order, what `ScoredSession.of` makes of the entries themselves (with their flag and
    size), for the window's days only."""
    patient = world.patient
    protocol_id = start_plan(app, patient.patient_id, world.clinician.id, started_days_ago=130)
    add_entries(app, protocol_id, patient, [120, 60, 30, 9, 7, 3], depths=[None, 9.5, 10.0])
    add_entries(app, protocol_id, patient, [5, 2], skipped=True, skip_reason=SkipReason.UNWELL)
    add_entries(app, protocol_id, patient, [4], withdrawn=True)
    add_entries(app, protocol_id, patient, [1], pain=(9, 8))
    with app.app_context():
        today = clinic_today(ZONE)
        first = today - timedelta(days=LOOKBACK_DAYS - 1)
        entries = db.session.scalars(
            select(DiaryEntry)
            .where(DiaryEntry.patient_id == patient.patient_id, DiaryEntry.occurred_on >= first)
            .order_by(DiaryEntry.occurred_at, DiaryEntry.id)
        ).all()
        db.session.add(
            RedFlag(
                clinic_id=world.clinic_a,
                patient_id=patient.patient_id,
                entry=entries[-1],
                reason=FlagReason.HIGH_PAIN,
            )
        )
        db.session.commit()
        expected = []
        for entry in entries:
            size = entry.dilator_size_id and db.session.get(DilatorSize, entry.dilator_size_id)
            expected.append(
                ScoredSession.of(
                    entry,
                    red_flag=entry is entries[-1],
                    size_mm=size.diameter_mm if size else None,
                    size_label=size_display(size.label, size.diameter_mm) if size else "",
                )
            )
        found = load_sessions(world.clinic_a, [patient.patient_id], first, today)
    assert found[patient.patient_id] == expected
    assert len(expected) == 9  # the two sessions before the window left out
    assert any(s.depth_cm for s in expected) and any(s.skipped for s in expected)
    assert any(s.withdrawn for s in expected) and expected[-1].red_flag
