"""The administrators' audit trail page and its CSV export, and a patient's access history
on the patient's page: what they show, how they filter, what they cost, and that a clinic
never sees another clinic's trail."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from clinic.audit.queries import day_bounds
from clinic.core.clock import clinic_today
from clinic.extensions import db
from clinic.models import AuditEvent, Clinic, Patient, PatientErasure, Role
from tests.support.audit_export import (
    JAN_10,
    add_event,
    ask_for_export,
    export_csv,
    read_csv,
)
from tests.support.auth import act_as
from tests.support.factories import make_patient, make_user
from tests.support.queries import count_queries
from tests.support.world import World

NOTE = re.compile(r"clinical note (\d+)")


def set_zone(app: Flask, clinic_id: int, zone: str = "America/New_York") -> None:
    with app.app_context():
        db.session.get(Clinic, clinic_id).timezone = zone
        db.session.commit()


def patient_label(app: Flask, patient_id: int) -> tuple[str, str]:
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        return patient.full_name, patient.clinic_identifier


def shown(response) -> list[int]:
    """The markers of the events on a page, in page order."""
    return [int(m) for m in NOTE.findall(response.get_data(as_text=True))]


def audit_page(client, **query: object):
    return client.get("/admin/audit", query_string=query)


def test_the_trail_reads_in_words_newest_first(app: Flask, client, world: World) -> None:
    """Each row: the time in the clinic's zone, who (name and role), the action in words,
    the patient (name and identifier), the object, the outcome and the address."""
    set_zone(app, world.clinic_a)
    add_event(
        app, world.clinic_a, actor=world.clinician.id, patient_id=world.patient.patient_id, marker=1
    )
    add_event(
        app,
        world.clinic_a,
        actor=world.admin.id,
        role="admin",
        action="audit.search",
        at=JAN_10 + timedelta(hours=1),
        marker=2,
        ip="192.0.2.7",
    )
    act_as(client, world.admin.id)
    response = audit_page(client)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert shown(response) == [2, 1]
    name, identifier = patient_label(app, world.patient.patient_id)
    row = page[page.index("clinical note 1") - 700 : page.index("clinical note 1") + 200]
    for text in (
        "10 Jan 2026 10:04:05",
        world.clinician.name,
        "<small>Clinician</small>",
        "Viewed the timeline",
        f"{name} ({identifier})",
        "Done",
        "10.0.0.1",
    ):
        assert text in row, text
    assert "Searched the audit trail" in page and "192.0.2.7" in page
    assert "<title>Audit trail" in page
    assert 'href="/admin/audit" aria-current="page">Audit trail</a>' in page


def test_an_erased_patient_shows_by_number_only(app: Flask, client, world: World) -> None:
    """Events outlive an erased patient: the row says "erased patient #id", and the
    trail can still be narrowed to that number; a number the clinic never had is 404."""
    with app.app_context():
        db.session.add(
            PatientErasure(
                clinic_id=world.clinic_a,
                erased_patient_id=424242,
                erased_by_id=world.admin.id,
                request_reference="REQ-1",
            )
        )
        db.session.commit()
    add_event(app, world.clinic_a, actor=world.clinician.id, patient_id=424242, marker=1)
    add_event(app, world.clinic_a, actor=world.clinician.id, marker=2)
    act_as(client, world.admin.id)
    assert "erased patient #424242" in audit_page(client).get_data(as_text=True)
    narrowed = audit_page(client, patient_id=424242)
    assert shown(narrowed) == [1]
    assert "Only events about" in narrowed.get_data(as_text=True)
    assert audit_page(client, patient_id=424243).status_code == 404
    for junk in ("12abc", "\u00b2", "1" * 4301, "0", str(2**31)):
        assert audit_page(client, patient_id=junk).status_code == 404, junk[:10]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, [5, 4, 3, 2, 1]),
        ({"user": "colleague"}, [2]),
        ({"action": "note.write"}, [3]),
        ({"patient": "Zebedee"}, [4, 1]),  # part of the name
        ({"patient": "zz-77"}, [4, 1]),  # part of the identifier, any case
        ({"patient_id": "other"}, [5]),
        ({"date_from": "2026-01-10"}, [5, 4, 3, 2]),  # from local midnight, New York
        ({"date_to": "2026-01-09"}, [1]),
        ({"date_from": "2026-01-10", "date_to": "2026-01-10", "action": "timeline.view"}, [4, 2]),
        ({"patient": "nobody at all"}, []),
    ],
)
def test_filters(app: Flask, client, world: World, query: dict, expected: list[int]) -> None:
    """Who, patient (name or identifier search, or one patient), action and a period of
    the clinic's days each narrow the trail, and combine."""
    set_zone(app, world.clinic_a)
    with app.app_context():
        zebedee = make_patient(
            db.session.get(Clinic, world.clinic_a),
            full_name="Zebedee Example",
            clinic_identifier="ZZ-7788",
        ).id
        db.session.commit()
    midnight = datetime(2026, 1, 10, 5, 0, tzinfo=UTC)  # 00:00 in New York
    before, after = midnight - timedelta(minutes=1), midnight + timedelta(minutes=1)
    clinician, colleague = world.clinician.id, world.colleague.id
    add_event(app, world.clinic_a, actor=clinician, patient_id=zebedee, at=before, marker=1)
    add_event(app, world.clinic_a, actor=colleague, at=after, marker=2)
    add_event(app, world.clinic_a, actor=clinician, action="note.write", at=after, marker=3)
    add_event(app, world.clinic_a, actor=clinician, patient_id=zebedee, at=after, marker=4)
    add_event(
        app,
        world.clinic_a,
        actor=clinician,
        action="patient.view",
        patient_id=world.other_patient.patient_id,
        at=JAN_10 + timedelta(days=2),
        marker=5,
    )
    aliases = {"colleague": str(colleague), "other": str(world.other_patient.patient_id)}
    act_as(client, world.admin.id)
    response = audit_page(client, **{k: aliases.get(v, v) for k, v in query.items()})
    assert response.status_code == 200
    assert shown(response) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"date_from": "2026-02-01", "date_to": "2026-01-01"},
            "The end of the period must be on or after its start.",
        ),
        ({"date_from": "2026-02-31"}, "Enter a real date, for example 1990-04-23."),
        ({"user": "999999"}, "Choose from the list."),
        ({"action": "everything"}, "Choose from the list."),
    ],
)
def test_filters_that_make_no_sense_are_explained(
    app: Flask, client, world: World, query: dict, message: str
) -> None:
    """Nonsense filters are answered next to the field, keeping what was typed, with no
    list (rather than a list that silently ignores them)."""
    add_event(app, world.clinic_a, actor=world.clinician.id, marker=1)
    act_as(client, world.admin.id)
    response = audit_page(client, **query)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"Error: {message}" in page
    assert shown(response) == []
    for name, value in query.items():
        if name.startswith("date"):
            assert f'name="{name}" type="date" value="{value}"' in page


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_the_first_and_last_days_a_date_can_hold_show_every_event(
    app: Flask, client, world: World, zone: str
) -> None:
    """ "To" 31/12/9999 (there is no day after it) and "From" 1/1/0001 (whose midnight is
    in year 0 in UTC where the clinic is ahead of UTC) list every event, in a zone 14
    hours ahead of UTC and one 11 hours behind, rather than answering 500."""
    set_zone(app, world.clinic_a, zone)
    add_event(app, world.clinic_a, actor=world.clinician.id, marker=1)
    act_as(client, world.admin.id)
    for query, expected in (
        ({"date_to": "9999-12-31"}, [1]),
        ({"date_from": "0001-01-01"}, [1]),
        ({"date_from": "0001-01-01", "date_to": "9999-12-31"}, [1]),
        ({"date_from": "9999-12-31", "date_to": "9999-12-31"}, []),
    ):
        response = audit_page(client, **query)
        assert response.status_code == 200, query
        assert shown(response) == expected, query


# The days next to the ends of the calendar, which a random draw seldom meets.
EDGE_DAYS = st.sampled_from(
    [date.min, date.min + timedelta(days=1), date.max - timedelta(days=1), date.max]
)


@settings(max_examples=300)
@given(
    first=st.one_of(EDGE_DAYS, st.dates()),
    last=st.one_of(EDGE_DAYS, st.dates()),
    zone=st.sampled_from(["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/London"]),
)
def test_day_bounds_never_overflow(first: date, last: date, zone: str) -> None:
    """For any days from 1/1/0001 to 31/12/9999, in zones ahead of and behind UTC, the
    period's UTC bounds are found without overflow: each bound is the local midnight
    (the start of `first`, the end of `last`) or, where that midnight lies beyond what a
    datetime can hold, no bound at all; and the end comes after the start."""
    start, end = day_bounds(first, last, zone)
    tz = ZoneInfo(zone)
    if start is not None:
        assert start.astimezone(tz).replace(tzinfo=None) == datetime.combine(first, time.min)
    else:
        assert first == date.min
    if end is not None:
        assert end.astimezone(tz).date() == last + timedelta(days=1)
    else:
        assert last == date.max
    if start is not None and end is not None and first <= last:
        assert start < end


def test_the_list_is_paginated_at_a_constant_cost(
    app: Flask, client, world: World, as_admin
) -> None:
    """50 events a page, newest first; a page costs the same number of queries with 5
    events or 120 (names come with the events, the total from one count)."""
    with app.app_context():
        engine = db.engine
        clinic = db.session.get(Clinic, world.clinic_a)
        actors = [make_user(clinic, Role.CLINICIAN).id for _ in range(4)]
        patients = [make_patient(clinic).id for _ in range(4)]
        db.session.commit()

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            add_event(
                app,
                world.clinic_a,
                actor=actors[i % 4],
                patient_id=patients[i % 4],
                at=JAN_10 + timedelta(minutes=i),
                marker=i,
            )

    def cost(**query: object) -> int:
        with count_queries(engine) as statements:
            response = audit_page(client, **query)
        assert response.status_code == 200
        return len(statements)

    add(5, 0)
    few = cost()
    add(115, 5)
    assert cost() == few
    assert cost(page=2) == few
    assert cost(patient_id=patients[0]) == cost(patient_id=patients[1])
    # The seeded events only (this test's own visits are "audit.search" events).
    first = audit_page(client, action="timeline.view")
    assert shown(first) == list(range(119, 69, -1))
    assert "Page 1 of 3" in first.get_data(as_text=True)
    assert shown(audit_page(client, action="timeline.view", page=3)) == list(range(19, -1, -1))
    past = audit_page(client, action="timeline.view", page=9).get_data(as_text=True)
    assert "past the end" in past


def test_searching_and_exporting_are_recorded_without_what_was_typed(
    app: Flask, client, world: World, as_admin
) -> None:
    """Looking at the trail is itself in the trail; the typed patient search is recorded
    as used, never as text (it may be a name)."""
    audit_page(client, patient="Zebedee", action="timeline.view", date_from="2026-01-01")
    assert export_csv(client, patient_id=world.patient.patient_id).status_code == 200
    with app.app_context():
        search, export = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.in_(("audit.search", "audit.export")))
            .order_by(AuditEvent.id)
        ).all()
        assert search.actor_id == world.admin.id and search.patient_id is None
        assert json.loads(search.detail) == {
            "action": "timeline.view",
            "from": "2026-01-01",
            "page": 1,
            "patient_search": True,
        }
        assert "Zebedee" not in search.detail
        assert (export.action, export.patient_id) == ("audit.export", world.patient.patient_id)
        assert export.actor_id == world.admin.id and export.object_type == "job_run"
        assert json.loads(export.detail) == {"patient_id": str(world.patient.patient_id)}


def test_export_is_the_filtered_trail_as_csv(app: Flask, client, world: World) -> None:
    """The export (made in the background, downloaded from its progress page) holds
    exactly the events the search shows, all pages of them, under a neutral file name,
    never cached."""
    set_zone(app, world.clinic_a)
    for i in range(60):
        add_event(
            app,
            world.clinic_a,
            actor=world.clinician.id,
            marker=i,
            patient_id=world.patient.patient_id if i % 2 else None,
        )
    add_event(app, world.clinic_a, actor=world.admin.id, role="admin", action="note.write")
    act_as(client, world.admin.id)
    response = export_csv(client, action="timeline.view", patient_id=world.patient.patient_id)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    today = clinic_today("America/New_York").isoformat()
    assert response.headers["Content-Disposition"] == f"attachment; filename=audit-{today}.csv"
    assert response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response)
    assert len(rows) == 30
    name, identifier = patient_label(app, world.patient.patient_id)
    first = rows[0]
    assert first["Time (clinic)"] == "2026-01-10T10:04:05-05:00"
    assert first["Time (UTC)"] == "2026-01-10T15:04:05+00:00"
    assert (first["Who"], first["Role"], first["Action"], first["Action code"]) == (
        world.clinician.name,
        "Clinician",
        "Viewed the timeline",
        "timeline.view",
    )
    assert (first["Patient"], first["Patient identifier"], first["Outcome"]) == (
        name,
        identifier,
        "Done",
    )
    assert {row["Object"] for row in rows} == {f"clinical note {i}" for i in range(1, 60, 2)}


def test_export_cells_cannot_become_spreadsheet_formulas(app: Flask, client, world: World) -> None:
    """Names that start like a formula (= + - @) come out with a leading apostrophe."""
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        patient = make_patient(
            clinic, full_name='=HYPERLINK("http://x.example","click")', clinic_identifier="+1-2"
        ).id
        actor = make_user(clinic, Role.CLINICIAN, full_name="@SUM(A1)").id
        plain = make_user(clinic, Role.CLINICIAN, full_name="-2+3").id
        db.session.commit()
    add_event(app, world.clinic_a, actor=actor, patient_id=patient)
    add_event(app, world.clinic_a, actor=plain)
    act_as(client, world.admin.id)
    rows = read_csv(export_csv(client, action="timeline.view"))
    assert [row["Who"] for row in rows] == ["'-2+3", "'@SUM(A1)"]
    assert rows[1]["Patient"] == """'=HYPERLINK("http://x.example","click")"""
    assert rows[1]["Patient identifier"] == "'+1-2"


def test_another_clinics_trail_is_never_shown(app: Flask, client, world: World) -> None:
    """Clinic B's administrator sees only clinic B's events, on the page and in the
    export; clinic A's patients and staff cannot even be named in the filters."""
    add_event(
        app, world.clinic_a, actor=world.clinician.id, patient_id=world.patient.patient_id, marker=1
    )
    add_event(
        app,
        world.clinic_b,
        actor=world.other_clinician.id,
        patient_id=world.other_clinic_patient.patient_id,
        marker=2,
    )
    name, _ = patient_label(app, world.patient.patient_id)
    act_as(client, world.other_admin.id)

    page = audit_page(client)
    assert shown(page) == [2]
    assert world.clinician.name not in page.get_data(as_text=True)
    exported = read_csv(export_csv(client))
    assert [row["Object"] for row in exported if row["Object"]] == ["clinical note 2"]
    assert all(row["Who"] != world.clinician.name for row in exported)

    assert audit_page(client, patient_id=world.patient.patient_id).status_code == 404
    export = ask_for_export(client, patient_id=world.patient.patient_id)
    assert export.status_code == 404
    assert audit_page(client, user=world.clinician.id).status_code == 400
    assert shown(audit_page(client, patient=name)) == []


def test_the_patient_page_shows_recent_access(app: Flask, client, world: World) -> None:
    """The patient's page lists the latest ten events about them (who, what, when),
    leaving out the patient's own diary page views, and links to the full history."""
    set_zone(app, world.clinic_a)
    patient_id = world.patient.patient_id
    for i in range(12):
        add_event(
            app,
            world.clinic_a,
            actor=world.colleague.id,
            patient_id=patient_id,
            action="note.list",
            at=JAN_10 + timedelta(minutes=i),
        )
    add_event(
        app,
        world.clinic_a,
        actor=world.patient.id,
        role="patient",
        patient_id=patient_id,
        action="portal.home",
        at=JAN_10 + timedelta(hours=1),
    )
    add_event(
        app,
        world.clinic_a,
        actor=world.patient.id,
        role="patient",
        patient_id=patient_id,
        action="diary.log",
        at=JAN_10 + timedelta(hours=2),
    )
    add_event(
        app,
        world.clinic_a,
        actor=world.clinician.id,
        patient_id=world.other_patient.patient_id,
        action="patient.erase",
    )
    act_as(client, world.clinician.id)
    page = client.get(f"/patients/{patient_id}").get_data(as_text=True)
    section = page[page.index('id="access-heading"') :]
    items = re.findall(r"<li>(.*?)</li>", section, flags=re.S)
    assert len(items) == 10
    assert "10 Jan 2026 12:04:05" in items[0] and "Logged a session" in items[0]
    assert f"{world.patient.name} (Patient)" in items[0]
    assert f"{world.colleague.name} (Clinician)" in items[1]
    assert "Read the clinical notes" in items[1] and "10 Jan 2026 10:15:05" in items[1]
    assert "Opened the diary" not in section and "Erased" not in section
    assert f'href="/patients/{patient_id}/access"' in section


def test_the_patient_page_costs_the_same_however_long_the_history(
    app: Flask, client, world: World, as_clinician
) -> None:
    """The access section is one query, with 3 events or 60."""
    with app.app_context():
        engine = db.engine
    url = f"/patients/{world.patient.patient_id}"

    def cost() -> int:
        with count_queries(engine) as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    for _ in range(3):
        add_event(
            app, world.clinic_a, actor=world.colleague.id, patient_id=world.patient.patient_id
        )
    few = cost()
    for _ in range(57):
        add_event(
            app, world.clinic_a, actor=world.colleague.id, patient_id=world.patient.patient_id
        )
    assert cost() == few


def test_the_full_history_for_the_clinics_clinicians(app: Flask, client, world: World) -> None:
    """Every event about the patient, the patient's own diary use included, for any
    clinician of the clinic (another clinic's finds nothing); viewing it is recorded."""
    patient_id = world.patient.patient_id
    add_event(
        app,
        world.clinic_a,
        actor=world.patient.id,
        role="patient",
        patient_id=patient_id,
        action="portal.home",
        marker=1,
    )
    add_event(
        app,
        world.clinic_a,
        actor=world.clinician.id,
        patient_id=patient_id,
        at=JAN_10 + timedelta(minutes=1),
        marker=2,
    )
    add_event(
        app,
        world.clinic_a,
        actor=world.clinician.id,
        patient_id=world.other_patient.patient_id,
        marker=3,
    )
    act_as(client, world.colleague.id)
    response = client.get(f"/patients/{patient_id}/access")
    assert response.status_code == 200
    assert shown(response) == [2, 1]
    assert "Opened the diary" in response.get_data(as_text=True)
    with app.app_context():
        viewed = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "audit.patient_history")
        ).one()
        assert (viewed.actor_id, viewed.patient_id) == (world.colleague.id, patient_id)
    act_as(client, world.other_clinician.id)
    assert client.get(f"/patients/{patient_id}/access").status_code == 404
