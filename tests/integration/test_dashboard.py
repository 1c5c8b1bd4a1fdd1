"""The clinician's dashboard: most urgent first, filters, red flags never hidden, scoped
to the clinic, a daily refresh, and a fixed number of queries whatever the caseload."""

from __future__ import annotations

import re
from datetime import time, timedelta

from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from clinic.core.clock import clinic_now, clinic_today
from clinic.domain.indications import Indication
from clinic.domain.reminders import Slot
from clinic.extensions import cache, db
from clinic.models import Clinic, Patient, PatientStatus, PatientSummary, User
from clinic.reminders.services import ReminderChoice, save_reminders
from tests.support.auth import act_as
from tests.support.diaries import ZONE, add_entries, refresh, report_red_flag
from tests.support.factories import make_patient
from tests.support.forms import form_values
from tests.support.protocols import start_plan
from tests.support.queries import count_queries
from tests.support.world import World

URL = "/dashboard/"


def rows(html: str) -> list[str]:
    """The patient names in the table, top to bottom."""
    body = html.split("<tbody>", 1)[1] if "<tbody>" in html else ""
    return re.findall(r'<a href="/patients/\d+/timeline">([^<]+)</a>', body)


def dashboard(client, person, query: str = "") -> str:
    act_as(client, person.id)
    response = client.get(URL + query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def name_of(app: Flask, patient_id: int) -> str:
    with app.app_context():
        return db.session.get(Patient, patient_id).full_name


def test_most_urgent_first_red_flags_then_attention_then_the_rest(
    app: Flask, client, world: World
) -> None:
    """A red flag puts a patient at the top, a silence flag next, a quiet patient last."""
    with app.app_context():
        for patient_id in (
            world.patient.patient_id,
            world.other_patient.patient_id,
            world.offline_patient_id,
        ):
            db.session.get(Patient, patient_id).responsible_clinician_id = world.clinician.id
        db.session.commit()
    start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=10)
    flagged = start_plan(app, world.other_patient.patient_id, world.clinician.id)
    add_entries(app, flagged, world.other_patient, [1, 2, 3])
    report_red_flag(app, world.other_patient, flagged)
    refresh(app, world.clinic_a)

    html = dashboard(client, world.clinician)
    assert rows(html) == [
        name_of(app, world.other_patient.patient_id),
        name_of(app, world.patient.patient_id),
        name_of(app, world.offline_patient_id),
    ]
    assert "<strong>1 urgent red flag</strong>" in html
    assert "Not logging" in html and "(needs attention)" in html
    assert "1 patient has an open urgent red flag." in html


def test_my_patients_by_default_whole_clinic_on_request(app: Flask, client, world: World) -> None:
    """By default a clinician sees the patients they are responsible for; "whole clinic"
    shows everyone in the clinic and nobody from another clinic."""
    mine = name_of(app, world.patient.patient_id)
    assert rows(dashboard(client, world.clinician)) == [mine]
    everyone = rows(dashboard(client, world.clinician, "?who=all"))
    assert sorted(everyone) == sorted(
        name_of(app, pid)
        for pid in (
            world.patient.patient_id,
            world.other_patient.patient_id,
            world.offline_patient_id,
        )
    )
    assert name_of(app, world.other_clinic_patient.patient_id) not in everyone
    assert rows(dashboard(client, world.other_clinician, "?who=all")) == [
        name_of(app, world.other_clinic_patient.patient_id)
    ]


def test_filters_status_indication_flag_and_search(app: Flask, client, world: World) -> None:
    """Each filter narrows the list; an unknown value falls back to the default."""
    with app.app_context():
        db.session.get(Patient, world.other_patient.patient_id).status = PatientStatus.DISCHARGED
        offline = db.session.get(Patient, world.offline_patient_id)
        offline.indication = Indication.ANAL_STENOSIS
        offline.full_name = "Quinn 100% Example"
        db.session.commit()
    start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=10)
    refresh(app, world.clinic_a)
    patient, other = (
        name_of(app, world.patient.patient_id),
        name_of(app, world.other_patient.patient_id),
    )

    assert other not in rows(dashboard(client, world.clinician, "?who=all"))
    assert rows(dashboard(client, world.clinician, "?who=all&status=discharged")) == [other]
    assert other in rows(dashboard(client, world.clinician, "?who=all&status=any"))
    assert rows(dashboard(client, world.clinician, "?who=all&indication=anal_stenosis")) == [
        "Quinn 100% Example"
    ]
    assert rows(dashboard(client, world.clinician, "?who=all&flag=not_logging")) == [patient]
    assert rows(dashboard(client, world.clinician, "?who=all&flag=red_flag")) == []
    assert rows(dashboard(client, world.clinician, "?who=all&q=100%25")) == ["Quinn 100% Example"]
    assert rows(dashboard(client, world.clinician, "?who=all&q=mrn")) != []
    assert rows(dashboard(client, world.clinician, "?who=all&status=nonsense&flag=x")) != []


def test_red_flags_are_announced_whatever_the_filters(app: Flask, client, world: World) -> None:
    """A red flag on a colleague's patient still shows in the banner on "my patients",
    with a link to every red-flagged patient."""
    protocol = start_plan(app, world.other_patient.patient_id, world.clinician.id)
    report_red_flag(app, world.other_patient, protocol)
    html = dashboard(client, world.clinician)
    assert name_of(app, world.other_patient.patient_id) not in rows(html)
    assert "1 patient has an open urgent red flag." in html
    assert "flag=red_flag" in html
    html = dashboard(client, world.clinician, "?who=all&status=any&flag=red_flag")
    assert rows(html) == [name_of(app, world.other_patient.patient_id)]


def test_a_red_flag_reported_after_a_visit_shows_on_the_next(
    app: Flask, client, world: World
) -> None:
    """The table is cached between visits, under the clinic's caseload version: a red flag
    reported in between changes the version, so the next visit shows it on top."""
    quiet = start_plan(app, world.patient.patient_id, world.clinician.id)
    flagged = start_plan(app, world.other_patient.patient_id, world.clinician.id)
    add_entries(app, quiet, world.patient, [0])
    refresh(app, world.clinic_a)
    first = rows(dashboard(client, world.clinician, "?who=all"))
    assert first[0] != name_of(app, world.other_patient.patient_id)
    assert "red flag" not in dashboard(client, world.clinician, "?who=all").split("<tbody>")[1]

    report_red_flag(app, world.other_patient, flagged)
    html = dashboard(client, world.clinician, "?who=all")
    assert rows(html)[0] == name_of(app, world.other_patient.patient_id)
    assert "1 urgent red flag" in html.split("<tbody>")[1]


def test_changed_details_show_on_the_next_visit(app: Flask, client, world: World) -> None:
    """A patient's new name shows at once: editing the record changes the caseload version."""
    dashboard(client, world.clinician)
    act_as(client, world.clinician.id)
    edit = f"/patients/{world.patient.patient_id}/edit"
    values = form_values(client.get(edit).get_data(as_text=True))
    values["full_name"] = "Renamed Person"
    assert client.post(edit, data=values).status_code == 302
    assert rows(dashboard(client, world.clinician)) == ["Renamed Person"]


def test_first_visit_of_the_day_refreshes_the_clinic(app: Flask, client, world: World) -> None:
    """Summaries computed yesterday are recomputed on the first visit today, once."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    with app.app_context():
        yesterday = clinic_today(ZONE) - timedelta(days=1)
        db.session.get(Clinic, world.clinic_a).summaries_on = yesterday
        db.session.get(PatientSummary, world.patient.patient_id).computed_on = yesterday
        db.session.commit()
    dashboard(client, world.clinician)
    with app.app_context():
        assert db.session.get(Clinic, world.clinic_a).summaries_on == clinic_today(ZONE)
        summary = db.session.get(PatientSummary, world.patient.patient_id)
        assert summary.computed_on == clinic_today(ZONE)


def test_pagination_keeps_the_filters(app: Flask, client, world: World) -> None:
    """With more patients than a page holds, the next-page link keeps the filters."""
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        for _ in range(30):
            make_patient(clinic)
        db.session.commit()
    html = dashboard(client, world.clinician, "?who=all&status=any")
    assert len(rows(html)) == 25
    assert "Page 1 of 2" in html
    next_link = re.search(r'href="(/dashboard/\?[^"]*page=2[^"]*)"', html).group(1)
    assert "who=all" in next_link and "status=any" in next_link
    assert (
        len(
            rows(
                dashboard(client, world.clinician, next_link.split(URL, 1)[1].replace("&amp;", "&"))
            )
        )
        == 8
    )


def test_query_count_is_the_same_at_5_and_50_patients(app: Flask, client, world: World) -> None:
    """The dashboard sends a fixed number of queries whatever the caseload and diaries,
    filtered or not (the reminders filter too, some patients with reminders on)."""

    def add(n: int) -> None:
        with app.app_context():
            clinic = db.session.get(Clinic, world.clinic_a)
            ids = [
                make_patient(clinic, portal=True, responsible_clinician_id=world.clinician.id).id
                for _ in range(n)
            ]
            db.session.commit()
        for pid in ids:
            protocol = start_plan(app, pid, world.clinician.id)
            with app.app_context():
                patient = db.session.get(Patient, pid)
                person = type("P", (), {"patient_id": pid, "id": patient.user_id})
            add_entries(app, protocol, person, [1, 2, 3])
        refresh(app, world.clinic_a)
        with app.app_context():
            db.session.get(Clinic, world.clinic_a).summaries_on = clinic_today(ZONE)
            db.session.commit()

    def queries() -> list[int]:
        act_as(client, world.clinician.id)
        with app.app_context():
            engine = db.engine
        counts = []
        for filters in ("?who=all&status=any", "?who=all&status=any&reminders=off-low"):
            with count_queries(engine) as statements:
                assert client.get(URL + filters).status_code == 200
            counts.append(len(statements))
        return counts

    def reminders_on(every: int) -> None:
        with app.app_context():
            clinician = db.session.get(User, world.clinician.id)
            patients = db.session.scalars(
                select(Patient).where(Patient.clinic_id == world.clinic_a)
            )
            for patient in list(patients)[::every]:
                choice = ReminderChoice(True, (Slot(0, time(19, 0)),), None, None, "note", False)
                save_reminders(patient, choice, clinician, clinic_now(ZONE))
            db.session.commit()

    add(2)
    reminders_on(2)
    few = queries()
    add(45)
    reminders_on(3)
    assert queries() == few and max(few) <= 5


def test_a_second_visit_is_served_from_the_cache(app: Flask, client, world: World) -> None:
    """Nothing changed between two visits: the second reads no patient rows at all (the
    signed-in account's own load, which asks for a patient's language, aside)."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    act_as(client, world.clinician.id)
    with app.app_context():
        engine = db.engine

    def statements() -> list[str]:
        with count_queries(engine) as seen:
            assert client.get(URL).status_code == 200
        return seen

    def caseload(seen: list[str]) -> list[str]:
        return [s for s in seen if "FROM user_sessions" not in s]

    first, second = statements(), statements()
    assert any("FROM patients" in s for s in caseload(first))
    assert not any("FROM patients" in s for s in caseload(second))
    assert len(second) < len(first)


def test_a_table_rendered_in_a_request_that_fails_to_commit_is_not_cached(
    app: Flask, client, world: World
) -> None:
    """The first visit of the day refreshes the summaries and renders the table under the
    caseload version it just moved. If that request's commit fails (a 503), the version
    was never saved, so the table must not be kept: a later, different caseload could
    reach the same version and be shown the wrong table."""
    start_plan(app, world.patient.patient_id, world.clinician.id)
    with app.app_context():
        yesterday = clinic_today(ZONE) - timedelta(days=1)
        db.session.get(Clinic, world.clinic_a).summaries_on = yesterday
        db.session.commit()
        engine = db.engine
        cache.clear()

    def refuse_commit(_connection) -> None:
        raise OperationalError("COMMIT", {}, Exception("the database went away"))

    act_as(client, world.clinician.id)
    event.listen(engine, "commit", refuse_commit)
    try:
        assert client.get(URL).status_code == 503
    finally:
        event.remove(engine, "commit", refuse_commit)
    with app.app_context():
        # cachelib's SimpleCache keeps its entries in `_cache`: none may start "dashboard:".
        kept = [k for k in cache.cache._cache if "dashboard:" in k]
        assert kept == []
    assert client.get(URL).status_code == 200
    with app.app_context():
        assert [k for k in cache.cache._cache if "dashboard:" in k]
