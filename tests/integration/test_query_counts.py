"""List pages send the same number of queries whatever the caseload."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from clinic.core.clock import clinic_today
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import Clinic, Patient, Role, User
from clinic.protocols.queries import get_protocol_or_404
from clinic.protocols.services import record_event
from tests.support.auth import act_as
from tests.support.factories import make_patient, make_user
from tests.support.protocols import make_protocol
from tests.support.queries import queries_for
from tests.support.world import World

# The protocol page drawn: the session check, the patient with the open protocol's rows
# (its fingerprint), the protocols, their versions (with their stages, sizes and
# authors), their events (with authors), the audit row. One more is a regression (a
# relationship loaded on its own). Kept (seen again, nothing changed): the session
# check, the patient with the rows, the audit row.
PROTOCOL_PAGE_QUERIES = 6
KEPT_PROTOCOL_PAGE_QUERIES = 3


def add_patients(app: Flask, clinic_id: int, n: int) -> None:
    """n more patients, half with portal logins and responsible clinicians, so every
    column of the list has something to load."""
    with app.app_context():
        clinic = db.session.get(Clinic, clinic_id)
        clinician = make_user(clinic, Role.CLINICIAN)
        for i in range(n):
            make_patient(
                clinic, portal=i % 2 == 0, responsible_clinician=clinician if i % 2 else None
            )
        db.session.commit()


def test_patient_list_query_count_is_constant(
    app: Flask, client, world: World, monkeypatch
) -> None:
    """The patient list costs the same number of queries at 5 and at 50 patients, all
    rows on one page; a visit with nothing changed since serves the kept table (no rows
    read)."""
    monkeypatch.setitem(app.config, "PATIENTS_PER_PAGE", 100)
    act_as(client, world.clinician.id)
    add_patients(app, world.clinic_a, 2)  # the world has 3: now 5
    at_five = queries_for(app, client, "/patients/")
    add_patients(app, world.clinic_a, 45)
    at_fifty = queries_for(app, client, "/patients/")
    assert at_five == at_fifty
    assert client.get("/patients/").get_data(as_text=True).count("<tr>") == 51  # header + 50
    # The session, the caseload's version, the page of rows with their count, the audit row.
    assert at_fifty == 4
    assert queries_for(app, client, "/patients/") == 3  # kept: no rows read


def test_staff_list_query_count_is_constant(app: Flask, client, world: World, as_admin) -> None:
    """The staff list costs the same number of queries at any staff size."""
    small = queries_for(app, client, "/admin/staff")
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        for _ in range(30):
            make_user(clinic, Role.CLINICIAN)
        db.session.commit()
    assert queries_for(app, client, "/admin/staff") == small


def test_protocol_page_query_count_does_not_grow_with_history(
    app: Flask, client, world: World
) -> None:
    """The protocol page loads its whole history in a fixed number of queries: 2 or 20
    recorded decisions cost the same (no query per event, version or stage), and the
    sizes and authors come with the rows that name them (no query of their own). Seen
    again unchanged, it loads none of it."""
    with app.app_context():
        today = clinic_today("Europe/London")
        protocol = make_protocol(
            db.session.get(Patient, world.patient.patient_id),
            db.session.get(User, world.clinician.id),
            started_on=today - timedelta(days=100),
        )
        db.session.commit()
        protocol_id = protocol.id

    def add_holds(n: int, first_day: int) -> None:
        with app.app_context():
            p = get_protocol_or_404(protocol_id, world.patient.patient_id, world.clinic_a)
            for i in range(n):
                record_event(
                    p,
                    EventKind.HOLD,
                    db.session.get(User, world.colleague.id),
                    expected_lock=str(p.lock_version),
                    reason="Hold",
                    effective_on=today - timedelta(days=first_day - i),
                    today=today,
                )
            db.session.commit()

    act_as(client, world.clinician.id)
    url = f"/patients/{world.patient.patient_id}/protocol/"
    add_holds(1, 90)
    few = queries_for(app, client, url)
    add_holds(18, 80)
    assert queries_for(app, client, url) == few
    assert few <= PROTOCOL_PAGE_QUERIES, few
    assert queries_for(app, client, url) == KEPT_PROTOCOL_PAGE_QUERIES
