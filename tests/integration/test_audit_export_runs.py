"""The audit trail's export as a background run: the button (a POST with a CSRF token)
redirects to a progress page that refreshes itself and counts events in words; the job
writes the CSV of the trail as it stood when asked, from one query read in batches; the
file is kept a day for the administrator who asked only, and erasing a patient deletes
it. Asking is itself in the trail, with the filters used but never typed text."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, insert, select

from clinic.audit.jobs import make_audit_export
from clinic.core.clock import clinic_today
from clinic.extensions import db
from clinic.jobs.kinds import AUDIT_EXPORT
from clinic.jobs.services import purge_expired
from clinic.models import AuditEvent, Clinic, JobRun, JobStatus, Patient, Role, User
from clinic.models.types import utcnow
from clinic.rights.erasure import erase_patient
from tests.support.audit_export import JAN_10, add_event, ask_for_export, export_csv, read_csv
from tests.support.auth import act_as
from tests.support.factories import make_patient, make_user
from tests.support.jobs import run_id_in
from tests.support.queries import count_queries
from tests.support.world import World

NOTE = re.compile(r"clinical note (\d+)")


def markers(rows: list[dict[str, str]]) -> list[int]:
    """The markers of the exported events ("clinical note <n>"), in file order."""
    return [int(m.group(1)) for row in rows if (m := NOTE.fullmatch(row["Object"]))]


def run_of(app: Flask, run_id: int) -> JobRun:
    with app.app_context():
        run = db.session.get_one(JobRun, run_id)
        _ = run.result  # deferred: load it before the session ends
        db.session.expunge(run)
        return run


def later_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs wait queued, as with a worker that has not picked them up yet."""
    monkeypatch.setattr("clinic.audit.views.enqueue_after_commit", lambda *_args: None)


def seed_timeline_views(app: Flask, world: World, n: int) -> None:
    """`n` timeline views by CLINICIAN, a minute apart from JAN_10, markers 0..n-1."""
    for i in range(n):
        add_event(
            app,
            world.clinic_a,
            actor=world.clinician.id,
            patient_id=world.patient.patient_id,
            at=JAN_10 + timedelta(minutes=i),
            marker=i,
        )


def test_the_export_is_asked_for_then_downloaded_from_its_progress_page(
    app: Flask, client, world: World
) -> None:
    """The search page's button is a POST form with a CSRF token; it redirects to the run's
    progress page (neutral title, no refresh once done) offering the CSV: an attachment
    with a neutral name, text/csv, never cached, holding the events the search shows."""
    seed_timeline_views(app, world, 5)
    add_event(app, world.clinic_a, actor=world.admin.id, role="admin", action="note.write")
    act_as(client, world.admin.id)
    search = client.get("/admin/audit", query_string={"action": "timeline.view"})
    html = search.get_data(as_text=True)
    form = re.search(
        r'<form method="post" action="([^"]+)" class="export-form">(.*?)</form>', html, re.S
    )
    assert form and 'name="csrf_token"' in form.group(2)
    with app.app_context():
        newest = db.session.scalar(select(func.max(AuditEvent.id)))
    # The export stops at the newest event when the page was shown (not this search's own).
    assert form.group(1) == f"/admin/audit/export?action=timeline.view&amp;up_to={newest - 1}"
    assert "Export these 5 events (CSV)" in form.group(2)

    answer = ask_for_export(client, action="timeline.view")
    assert answer.status_code == 302
    run_id = run_id_in(answer)
    run = run_of(app, run_id)
    assert (run.kind, run.status, run.done, run.total) == ("audit_export", JobStatus.DONE, 5, 5)
    assert run.expires_at is not None and run.finished_at is not None
    assert run.expires_at - run.finished_at == timedelta(hours=24)

    page = client.get(f"/jobs/{run_id}").get_data(as_text=True)
    assert "<title>Audit trail export ·" in page and 'http-equiv="refresh"' not in page
    status = re.search(r'<div role="status"[^>]*>(.*?)</div>', page, re.S)
    assert status and "Ready:" in status.group(1) and "5 events" in status.group(1)
    # Whole kilobytes, rounded up (the file's size differs a little between engines).
    kilobytes = -(-run.result_size // 1024)
    assert f"Download the audit trail export (CSV, {kilobytes} KB)" in page
    assert 'href="/admin/audit">← Audit trail</a>' in page

    response = client.get(f"/jobs/{run_id}/download")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        zone = db.session.get_one(Clinic, world.clinic_a).timezone
    today = clinic_today(zone).isoformat()
    assert response.headers["Content-Disposition"] == f"attachment; filename=audit-{today}.csv"
    rows = read_csv(response)
    assert markers(rows) == [4, 3, 2, 1, 0]
    assert {row["Action code"] for row in rows} == {"timeline.view"}


def test_the_filters_choose_the_rows(app: Flask, client, world: World) -> None:
    """Who, action and a period of the clinic's days narrow the file as they narrow the
    search: exactly the matching events, newest first."""
    for i in range(6):
        add_event(
            app,
            world.clinic_a,
            actor=world.clinician.id if i % 2 else world.colleague.id,
            at=JAN_10 + timedelta(days=i),
            marker=i,
        )
    add_event(app, world.clinic_a, actor=world.clinician.id, action="note.write", marker=99)
    act_as(client, world.admin.id)
    rows = read_csv(
        export_csv(
            client,
            user=world.clinician.id,
            action="timeline.view",
            date_from="2026-01-11",
            date_to="2026-01-14",
        )
    )
    assert markers(rows) == [3, 1]
    assert {row["Who"] for row in rows} == {world.clinician.name}
    assert markers(read_csv(export_csv(client, user=world.colleague.id))) == [4, 2, 0]


def test_a_typed_patient_search_is_kept_as_ids_and_recorded_as_used(
    app: Flask, client, world: World
) -> None:
    """A name typed in the patient filter narrows the file to the patients it matched when
    asked; the run keeps their ids, never the text, and the "audit.export" event records
    the filters used (the search as used, not what was typed)."""
    with app.app_context():
        clinic = db.session.get_one(Clinic, world.clinic_a)
        zebedee = make_patient(clinic, full_name="Zebedee Quillfeather").id
        db.session.commit()
    add_event(app, world.clinic_a, actor=world.clinician.id, patient_id=zebedee, marker=1)
    add_event(
        app, world.clinic_a, actor=world.clinician.id, patient_id=world.patient.patient_id, marker=2
    )
    act_as(client, world.admin.id)
    answer = ask_for_export(client, patient="Quillfeather", action="timeline.view")
    rows = read_csv(export_csv(client, patient="Quillfeather", action="timeline.view"))
    assert markers(rows) == [1]
    assert rows[0]["Patient"] == "Zebedee Quillfeather"

    run = run_of(app, run_id_in(answer))
    assert "Quillfeather" not in run.params and "Zebedee" not in run.params
    assert json.loads(run.params)["matching_patient_ids"] == [zebedee]
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "audit.export", AuditEvent.object_id == run.id
            )
        ).one()
        assert (event.actor_id, event.object_type, event.patient_id) == (
            world.admin.id,
            "job_run",
            None,
        )
        assert json.loads(event.detail) == {"action": "timeline.view", "patient_search": True}


def test_the_file_holds_the_trail_as_it_stood_when_asked(
    app: Flask, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker may start later: events written meanwhile (the progress page's own views
    among them) are not in the file, which counts exactly the events promised. While
    queued, the page refreshes itself and says how many events are coming."""
    later_jobs(monkeypatch)
    seed_timeline_views(app, world, 3)
    act_as(client, world.admin.id)
    run_id = run_id_in(ask_for_export(client))
    total = run_of(app, run_id).total
    page = client.get(f"/jobs/{run_id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page
    assert f"Waiting to start.</strong> Audit trail export of {total} events." in page
    add_event(app, world.clinic_a, actor=world.clinician.id, marker=50)

    with app.app_context():
        make_audit_export.call_local(run_id)
    rows = read_csv(client.get(f"/jobs/{run_id}/download"))
    assert len(rows) == total
    assert markers(rows) == [2, 1, 0]
    assert not {"job.progress", "audit.export"} & {row["Action code"] for row in rows}


def test_the_file_holds_the_events_the_search_page_counted(
    app: Flask, client, world: World
) -> None:
    """The button sends the newest event the page counted (?up_to=): events after it (the
    search's own, any written since) are left out, so "these N events" are N; an up_to
    past the trail's end, or junk, means the trail as it is now."""
    seed_timeline_views(app, world, 4)
    act_as(client, world.admin.id)
    with app.app_context():
        ids = db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
    rows = read_csv(export_csv(client, up_to=ids[1]))
    assert markers(rows) == [1, 0]
    assert markers(read_csv(export_csv(client, action="timeline.view", up_to="x²"))) == [3, 2, 1, 0]
    assert markers(read_csv(export_csv(client, action="timeline.view", up_to=10**12))) == [
        3,
        2,
        1,
        0,
    ]


def test_progress_is_counted_in_words(app: Flask, client, world: World) -> None:
    """While it runs, the page says "Writing the events: 12,000 of 40,000 events.", shows
    a labelled progress bar and refreshes itself, with no script."""
    act_as(client, world.admin.id)
    run_id = run_id_in(ask_for_export(client))
    with app.app_context():
        run = db.session.get_one(JobRun, run_id)
        run.status, run.done, run.total = JobStatus.RUNNING, 12_000, 40_000
        db.session.commit()
    page = client.get(f"/jobs/{run_id}").get_data(as_text=True)
    assert "Writing the events: 12,000 of 40,000 events." in page
    assert '<progress value="12000" max="40000" aria-label="Events done">' in page
    assert 'http-equiv="refresh"' in page and "<script" not in page
    assert client.get(f"/jobs/{run_id}/download").status_code == 404  # nothing yet


@pytest.mark.parametrize(
    "who",
    ["another_admin", "other_clinic_admin", "clinician", "other_clinic_clinician", "patient"],
)
def test_only_the_administrator_who_asked_may_see_or_download(
    app: Flask, client, world: World, who: str
) -> None:
    """Another administrator of the same clinic, another clinic's administrator and the
    clinicians (whose role follows runs, but not audit exports) are told the run does not
    exist (404); a patient's role may not use the pages at all (403)."""
    act_as(client, world.admin.id)
    run_id = run_id_in(ask_for_export(client))
    with app.app_context():
        another_admin = make_user(db.session.get_one(Clinic, world.clinic_a), Role.ADMIN).id
        db.session.commit()
    person = {
        "another_admin": another_admin,
        "other_clinic_admin": world.other_admin.id,
        "clinician": world.clinician.id,
        "other_clinic_clinician": world.other_clinician.id,
        "patient": world.patient.id,
    }[who]
    act_as(client, person)
    for url in (f"/jobs/{run_id}", f"/jobs/{run_id}/download"):
        response = client.get(url)
        assert response.status_code == (403 if who == "patient" else 404)
        assert response.mimetype != "text/csv"


def test_a_clinicians_mdt_pack_is_not_an_administrators(app: Flask, client, world: World) -> None:
    """The kind decides the role: a run of the wrong kind for one's role is not found,
    even if the row names one as the person who asked (a role changed since)."""
    with app.app_context():
        run = JobRun(
            clinic_id=world.clinic_a,
            requested_by_id=world.admin.id,
            kind="mdt_pack",
            status=JobStatus.DONE,
            result=b"%PDF-1.7",
            result_size=8,
            expires_at=utcnow() + timedelta(hours=1),
        )
        db.session.add(run)
        db.session.commit()
        run_id = run.id
    act_as(client, world.admin.id)
    assert client.get(f"/jobs/{run_id}").status_code == 404
    assert client.get(f"/jobs/{run_id}/download").status_code == 404


def test_the_file_expires_after_a_day(app: Flask, client, world: World) -> None:
    """Past its expiry the download answers 410 with a way back to the audit trail, the
    page says it is no longer kept, and the clean-up empties the file."""
    act_as(client, world.admin.id)
    run_id = run_id_in(ask_for_export(client))
    with app.app_context():
        assert purge_expired(utcnow() + timedelta(hours=24, minutes=1)).emptied == 1
        db.session.commit()
    run = run_of(app, run_id)
    assert (run.result, run.result_size, run.status) == (None, 0, JobStatus.DONE)
    response = client.get(f"/jobs/{run_id}/download")
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "No longer kept" in html and 'href="/admin/audit">Make it again</a>' in html
    assert "No longer kept" in client.get(f"/jobs/{run_id}").get_data(as_text=True)


def test_the_job_reads_the_trail_in_one_query_whatever_its_length(
    app: Flask, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writing 5 events or 1,100 costs the same statements, but for the progress saved
    after each batch of 500 (two more): the events come from one query read in batches,
    never one query per event or a page at a time."""
    later_jobs(monkeypatch)
    with app.app_context():
        engine = db.engine
        clinic = db.session.get_one(Clinic, world.clinic_a)
        actors = [make_user(clinic, Role.CLINICIAN).id for _ in range(3)]
        patients = [make_patient(clinic).id for _ in range(3)]
        db.session.commit()

    def add(n: int, start: int) -> None:
        with app.app_context():
            db.session.execute(
                insert(AuditEvent),
                [
                    {
                        "clinic_id": world.clinic_a,
                        "actor_id": actors[i % 3],
                        "actor_role": "clinician",
                        "action": "timeline.view",
                        "patient_id": patients[i % 3],
                        "object_type": "note",
                        "object_id": i,
                        "ip": "10.0.0.1",
                        "at": JAN_10 + timedelta(seconds=i),
                        "detail": "{}",
                    }
                    for i in range(start, start + n)
                ],
            )
            db.session.commit()

    act_as(client, world.admin.id)

    def statements() -> tuple[list[str], int]:
        run_id = run_id_in(ask_for_export(client, action="timeline.view"))
        # In this app (the job's own context would be the last app made by any test).
        with app.app_context(), count_queries(engine) as sent:
            make_audit_export.call_local(run_id)
        rows = read_csv(client.get(f"/jobs/{run_id}/download"))
        return sent, len(rows)

    add(5, 0)
    few, few_rows = statements()
    add(1_095, 5)
    many, many_rows = statements()
    assert (few_rows, many_rows) == (5, 1_100)

    def progress_saved(sent: list[str]) -> int:
        return sum(s.lstrip().upper().startswith("UPDATE JOB_RUNS") for s in sent)

    assert progress_saved(many) - progress_saved(few) == 2  # after events 500 and 1,000
    assert len(many) - len(few) == 2
    reads = [s for s in many if s.lstrip().upper().startswith("SELECT") and "audit_events" in s]
    assert len(reads) == 1


def test_a_file_too_large_to_keep_fails_with_plain_words(
    app: Flask, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the size cap, writing stops at once and the run fails, saying how to narrow
    the export; nothing is kept."""
    monkeypatch.setattr("clinic.audit.jobs.MAX_RESULT_BYTES", 600)
    seed_timeline_views(app, world, 20)
    act_as(client, world.admin.id)
    run_id = run_id_in(ask_for_export(client))
    run = run_of(app, run_id)
    assert (run.status, run.error) == (JobStatus.FAILED, AUDIT_EXPORT.too_large)
    assert (run.result, run.result_size) == (None, 0)
    page = client.get(f"/jobs/{run_id}").get_data(as_text=True)
    assert "shorter period or narrower filters" in page and "Try again" in page


def test_erasing_a_patient_deletes_the_kept_exports(app: Flask, client, world: World) -> None:
    """An export may name any of the clinic's patients: an erasure deletes the clinic's
    kept exports (another clinic's stay)."""
    act_as(client, world.admin.id)
    ours = run_id_in(ask_for_export(client))
    act_as(client, world.other_admin.id)
    theirs = run_id_in(ask_for_export(client))
    with app.app_context():
        erase_patient(
            db.session.get_one(Patient, world.offline_patient_id),
            by=db.session.get_one(User, world.admin.id),
            request_reference="REQ-9",
            today=clinic_today("UTC"),
        )
        db.session.commit()
        assert db.session.get(JobRun, ours) is None
        assert db.session.get(JobRun, theirs) is not None


def test_asking_needs_a_csrf_token_and_valid_filters(app: Flask, client, world: World) -> None:
    """Without the form's token the POST is refused; with filters the search refuses
    (an end before the start) the search page comes back with the error and what was
    typed. Neither makes a run."""
    act_as(client, world.admin.id)
    refused = client.post("/admin/audit/export", csrf=False)
    assert refused.status_code == 400
    assert "This form has expired" in refused.get_data(as_text=True)
    bad = ask_for_export(client, date_from="2026-02-01", date_to="2026-01-01")
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "Error: The end of the period must be on or after its start." in html
    assert 'value="2026-02-01"' in html
    with app.app_context():
        assert db.session.scalars(select(JobRun)).all() == []
