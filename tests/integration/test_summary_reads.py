"""A summary's refresh reads what it is made of after taking the summary's row
(clinic.monitoring.services.refresh_patients): a change another transaction committed
after the request loaded the patient's plan, and before the refresh, is in the summary;
what the diary form's POST loaded is used again only when the summary's version proves
nothing was committed in between (`note_current`), and read again otherwise."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select, update

from clinic.diary.services import SessionDetails, record
from clinic.domain.diary import Bleeding
from clinic.domain.protocols import ProtocolStatus
from clinic.extensions import db
from clinic.models import Clinic, Patient, PatientSummary, Protocol, User
from clinic.models.types import utcnow
from clinic.monitoring.services import note_current, refresh_patients
from clinic.patients.queries import own_record_version_and_plan
from clinic.protocols.queries import History, load_history, open_protocol
from tests.support.auth import act_as
from tests.support.diaries import add_entries, refresh
from tests.support.forms import form_values
from tests.support.protocols import pause_today, start_plan
from tests.support.queries import count_queries
from tests.support.world import World

# What a summary says, without its version and the moment it was computed.
SHOWN = [c.key for c in PatientSummary.__table__.columns if c.key not in ("version", "computed_at")]


def shown(app: Flask, patient_id: int) -> dict[str, object]:
    """The patient's summary as the dashboard shows it, as committed."""
    with app.app_context():
        summary = db.session.scalars(
            select(PatientSummary).where(PatientSummary.patient_id == patient_id)
        ).one()
        return {name: getattr(summary, name) for name in SHOWN}


def a_session(protocol: Protocol) -> SessionDetails:
    """A calm session just now with the plan's first size."""
    size_id = protocol.versions[0].stages[0].dilator_size_id
    return SessionDetails(utcnow(), size_id, 10, 1, 1, Bleeding.NONE, False, None, "")


def on_plan(app: Flask, world: World) -> int:
    """The world's patient on a plan with a diary, summaries refreshed; the plan's id."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    add_entries(app, protocol_id, world.patient, range(1, 15, 2))
    refresh(app, world.clinic_a)
    assert shown(app, world.patient.patient_id)["paused"] is False
    return protocol_id


def vouched_for(world: World) -> tuple[Patient, Protocol, User]:
    """As the diary form's POST does (in an app context): the patient's record with its
    summary's version and open plan, then the plan's history, all afresh, vouched for to
    the refresh; gives the record, the plan and the patient's account."""
    user = db.session.get_one(User, world.patient.id)
    found = own_record_version_and_plan(user)
    assert found is not None
    patient, version, protocol = found
    assert protocol is not None
    load_history(protocol, History.RULES, afresh=True)
    note_current(patient, protocol, version)
    return patient, protocol, user


def test_a_pause_committed_after_the_plan_was_loaded_is_in_the_summary(
    app: Flask, make_app, world: World
) -> None:
    """The patient's record and plan are loaded (as a page does), a colleague's pause is
    committed through another instance, then a session is recorded and committed: the
    summary says paused. (The pause's own refresh could not see the session; this one
    must not compute from the plan as the session held it.)"""
    protocol_id = on_plan(app, world)
    with app.app_context():
        patient = db.session.get_one(Patient, world.patient.patient_id)
        protocol = open_protocol(patient.id, patient.clinic_id, load=History.RULES)
        assert protocol is not None and protocol.status is ProtocolStatus.ACTIVE
        pause_today(make_app(), protocol_id, world.colleague.id)
        user = db.session.get_one(User, world.patient.id)
        record(patient, protocol, user, "after-the-pause", a_session(protocol))
        db.session.commit()
    assert shown(app, world.patient.patient_id)["paused"] is True


def test_what_was_vouched_for_is_read_again_when_the_version_moved(
    app: Flask, make_app, world: World
) -> None:
    """The record and plan loaded after the summary's version and vouched for
    (`note_current`), then a pause committed elsewhere before the refresh: the version
    taken is not the next one, so the refresh reads the plan again and says paused."""
    protocol_id = on_plan(app, world)
    with app.app_context():
        patient, protocol, user = vouched_for(world)
        pause_today(make_app(), protocol_id, world.colleague.id)
        record(patient, protocol, user, "vouched-then-paused", a_session(protocol))
        db.session.commit()
    assert shown(app, world.patient.patient_id)["paused"] is True


def test_a_plan_changed_in_the_same_transaction_is_read_again(app: Flask, world: World) -> None:
    """What was vouched for, then changed in the same transaction by a bulk statement (which
    leaves the loaded objects as they were): the refresh reads the plan again."""
    on_plan(app, world)
    with app.app_context():
        patient, protocol, user = vouched_for(world)
        record(patient, protocol, user, "then-completed", a_session(protocol))
        db.session.execute(
            update(Protocol)
            .where(Protocol.id == protocol.id)
            .values(status=ProtocolStatus.COMPLETED)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    # No open plan any more: the summary names none.
    assert shown(app, world.patient.patient_id)["protocol_id"] is None


def test_a_session_posted_reads_the_plan_once_and_the_summary_is_right(
    app: Flask, client, world: World
) -> None:
    """Logging a session through the form: the patient's plan is read once (with the
    record, by the form, not again by the refresh before the commit), and the summary
    committed is the one a refresh from scratch computes."""
    on_plan(app, world)
    act_as(client, world.patient.id)
    values = form_values(client.get("/diary/log").get_data(as_text=True))
    values.update({"pain_during": "2", "pain_after": "1", "bleeding": "none", "sharp_pain": "no"})
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        response = client.post("/diary/log", data=values)
    assert response.status_code == 302 and "/diary/entries/" in response.headers["Location"]
    # The plan comes with the record (one statement), then its versions and its events.
    assert not [s for s in statements if s.lstrip().startswith("SELECT protocols.id")]
    record = [s for s in statements if s.lstrip().startswith("SELECT patients.id")]
    assert len(record) == 1 and "protocols.id" in record[0]
    for history in ("protocol_versions", "protocol_events"):
        assert len([s for s in statements if f"FROM {history}" in s]) == 1, history
    posted = shown(app, world.patient.patient_id)
    assert posted["last_entry_on"] is not None
    with app.app_context():
        refresh_patients(db.session.get_one(Clinic, world.clinic_a), [world.patient.patient_id])
        db.session.commit()
    assert shown(app, world.patient.patient_id) == posted


def test_clinic_rules_committed_after_the_clinic_was_loaded_are_in_the_summary(
    app: Flask, make_app, world: World
) -> None:
    """The clinic is loaded (as every request loads it, with the signed-in account), its
    time zone is then changed through another instance (committed, every summary
    refreshed), then a change to one patient's record is committed from the first session:
    that patient's summary is computed in the clinic's zone as committed (its day is the
    one a refresh from scratch gives), not in the zone the session loaded. UTC+14 and
    UTC-11 are 25 hours apart, so the two zones never share a day."""
    pid = world.patient.patient_id
    on_plan(app, world)
    with app.app_context():
        db.session.get_one(Clinic, world.clinic_a).timezone = "Pacific/Kiritimati"
        db.session.commit()
    with app.app_context():
        patient = db.session.get_one(Patient, pid)
        assert patient.clinic.timezone == "Pacific/Kiritimati"
        with make_app().app_context():
            db.session.get_one(Clinic, world.clinic_a).timezone = "Pacific/Pago_Pago"
            db.session.commit()
        patient.pronouns = "they/them"
        db.session.commit()
    posted = shown(app, pid)
    with app.app_context():
        refresh_patients(db.session.get_one(Clinic, world.clinic_a), [pid])
        db.session.commit()
    assert shown(app, pid) == posted


def test_a_plan_closed_through_its_object_in_the_same_transaction_is_read_again(
    app: Flask, world: World
) -> None:
    """What was vouched for, then changed in the same transaction through the loaded
    object (the plan completed): the object vouched for is no longer the open plan, so the
    refresh reads the open plan again (there is none) instead of using it."""
    on_plan(app, world)
    with app.app_context():
        patient, protocol, user = vouched_for(world)
        record(patient, protocol, user, "then-closed", a_session(protocol))
        protocol.status = ProtocolStatus.COMPLETED
        db.session.commit()
    assert shown(app, world.patient.patient_id)["protocol_id"] is None
