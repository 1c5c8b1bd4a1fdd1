"""Background runs (the MDT pack): asking redirects to a progress page that refreshes itself
until the pack is made, then offers it for a day, to the person who asked only; a run that
fails says so in plain words and keeps no file; erasing a patient deletes packs that hold
them."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from clinic.core.clock import clinic_today
from clinic.extensions import db
from clinic.jobs import services
from clinic.jobs.services import FAILED_UNEXPECTEDLY, purge_expired
from clinic.mdt.jobs import make_mdt_pack
from clinic.mdt.services import MdtPackError
from clinic.models import AuditEvent, JobRun, JobStatus, Patient, User
from clinic.models.types import utcnow
from clinic.rights.erasure import erase_patient
from tests.support.auth import act_as
from tests.support.mdt import ask_for_pack, download_pack
from tests.support.world import World

ZONE = "Europe/London"


def run_of(app: Flask, run_id: int) -> JobRun:
    with app.app_context():
        run = db.session.get_one(JobRun, run_id)
        _ = run.result  # deferred: load it before the session ends
        db.session.expunge(run)
        return run


def run_id_in(answer) -> int:
    match = re.fullmatch(r".*/jobs/(\d+)", answer.headers["Location"])
    assert match, answer.headers["Location"]
    return int(match.group(1))


@pytest.fixture
def asked(app: Flask, client, world: World) -> int:
    """CLINICIAN asked for a pack of two patients (made at once: the queue is immediate)."""
    act_as(client, world.clinician.id)
    answer = ask_for_pack(
        client, [world.patient.patient_id, world.offline_patient_id], clinic_today(ZONE)
    )
    assert answer.status_code == 302
    return run_id_in(answer)


def test_asking_redirects_to_a_progress_page_then_the_pack_downloads(
    app: Flask, client, world: World, asked: int
) -> None:
    """The run is done; its page (neutral title, progress in a status region, no refresh
    once finished) offers the PDF, an attachment with a neutral name holding both chosen
    patients, each on a page."""
    run = run_of(app, asked)
    assert (run.status, run.done, run.total, run.error) == (JobStatus.DONE, 2, 2, "")
    assert run.expires_at is not None and run.finished_at is not None
    assert run.expires_at - run.finished_at == timedelta(hours=24)

    page = client.get(f"/jobs/{asked}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<title>MDT pack ·" in html
    assert 'http-equiv="refresh"' not in html
    status = re.search(r'<div role="status"[^>]*>(.*?)</div>', html, re.S)
    assert status and "Ready:" in status.group(1) and "2 patients" in status.group(1)

    response = client.get(f"/jobs/{asked}/download")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    meeting = clinic_today(ZONE).isoformat()
    assert response.headers["Content-Disposition"] == f"attachment; filename=mdt-pack-{meeting}.pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    assert len(reader.pages) == 1 + 2
    with app.app_context():
        names = [
            db.session.get_one(Patient, i).full_name
            for i in (world.patient.patient_id, world.offline_patient_id)
        ]
    text = " ".join(p.extract_text() for p in reader.pages[1:])
    assert all(name in text for name in names)


def test_the_worker_makes_the_pack_outside_any_request(
    app: Flask, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a worker process does: the run waits queued (its page refreshing) until the job
    runs with no request around it, then it is done and its PDF downloads."""
    monkeypatch.setattr("clinic.mdt.views.enqueue_after_commit", lambda *_args: None)
    act_as(client, world.clinician.id)
    answer = ask_for_pack(client, [world.patient.patient_id], clinic_today(ZONE))
    run_id = run_id_in(answer)
    html = client.get(f"/jobs/{run_id}").get_data(as_text=True)
    assert "Waiting to start." in html and 'http-equiv="refresh"' in html

    with app.app_context():  # the job runs in the test's app, as the worker in its own
        make_mdt_pack.call_local(run_id)
    assert run_of(app, run_id).status is JobStatus.DONE
    pdf = download_pack(client, answer)
    assert PdfReader(io.BytesIO(pdf.get_data())).metadata.title.startswith("MDT pack")


def test_a_run_not_finished_refreshes_itself_and_counts_in_words(
    app: Flask, client, world: World, asked: int
) -> None:
    """While queued or running, the page refreshes itself every 2 seconds (no script) and
    says how far it is: "Preparing the pages: 1 of 2 patients"."""
    with app.app_context():
        db.session.get_one(JobRun, asked).status = JobStatus.RUNNING
        db.session.get_one(JobRun, asked).done = 1
        db.session.commit()
    html = client.get(f"/jobs/{asked}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in html
    assert "Preparing the pages: 1 of 2 patients." in html
    assert "<script" not in html
    assert client.get(f"/jobs/{asked}/download").status_code == 404  # nothing yet


@pytest.mark.parametrize(
    "who", ["colleague", "other_clinic_clinician", "admin", "other_admin", "patient"]
)
def test_only_the_person_who_asked_may_see_or_download(
    app: Flask, client, world: World, asked: int, who: str
) -> None:
    """A colleague of the same clinic, another clinic's clinician and the administrators
    (whose role follows runs too, but not MDT packs) are told the run does not exist
    (404); a patient's role may not use the pages at all (403)."""
    person = {
        "colleague": world.colleague,
        "other_clinic_clinician": world.other_clinician,
        "admin": world.admin,
        "other_admin": world.other_admin,
        "patient": world.patient,
    }[who]
    act_as(client, person.id)
    expected = 403 if who == "patient" else 404
    for url in (f"/jobs/{asked}", f"/jobs/{asked}/download"):
        response = client.get(url)
        assert response.status_code == expected
        assert response.mimetype != "application/pdf"


def test_a_download_records_each_patient_in_the_pack(
    app: Flask, client, world: World, asked: int
) -> None:
    """Each download is kept in the audit trail, one "mdt.export" per patient, naming the
    run: who took which patients' data away."""
    assert client.get(f"/jobs/{asked}/download").status_code == 200
    with app.app_context():
        exported = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "mdt.export")
        ).all()
        assert sorted(e.patient_id for e in exported) == sorted(
            [world.patient.patient_id, world.offline_patient_id]
        )
        assert {(e.actor_id, e.object_id) for e in exported} == {(world.clinician.id, asked)}


def test_the_file_expires_after_a_day(app: Flask, client, world: World, asked: int) -> None:
    """Past its expiry the download answers 410 with a way to make it again, and the
    clean-up empties the file from the database (the row stays a week)."""
    later = utcnow() + timedelta(hours=24, minutes=1)
    with app.app_context():
        purged = purge_expired(later)
        db.session.commit()
    assert purged.emptied == 1
    run = run_of(app, asked)
    assert (run.result, run.result_size, run.status) == (None, 0, JobStatus.DONE)

    response = client.get(f"/jobs/{asked}/download")
    assert response.status_code == 410
    assert "No longer kept" in response.get_data(as_text=True)
    assert "No longer kept" in client.get(f"/jobs/{asked}").get_data(as_text=True)

    with app.app_context():
        assert purge_expired(utcnow() + timedelta(days=8)).deleted == 1
        db.session.commit()
    assert client.get(f"/jobs/{asked}").status_code == 404


def test_a_failing_render_marks_the_run_failed_with_plain_words(
    app: Flask, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When making the PDF raises, the run is failed with plain words (no traceback), no
    file is kept, and the page offers to try again."""

    def broken(*_args: object, **_kwargs: object) -> bytes:
        raise RuntimeError("layout exploded at /srv/secret/path")

    monkeypatch.setattr("clinic.mdt.services.render_pdf", broken)
    act_as(client, world.clinician.id)
    answer = ask_for_pack(client, [world.patient.patient_id], clinic_today(ZONE))
    run_id = run_id_in(answer)
    run = run_of(app, run_id)
    assert (run.status, run.error) == (JobStatus.FAILED, FAILED_UNEXPECTEDLY)
    assert (run.result, run.result_size, run.result_name) == (None, 0, "")

    html = client.get(f"/jobs/{run_id}").get_data(as_text=True)
    assert "Not made:" in html and "Try again" in html
    assert "exploded" not in html and "http-equiv" not in html
    assert client.get(f"/jobs/{run_id}/download").status_code == 404


def test_a_refusal_while_making_fails_the_run_with_its_own_words(
    app: Flask, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job checks the patients again when it runs; its refusal (a patient gone
    meanwhile) is what the page says."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise MdtPackError("1 of the chosen patients is not a patient of this clinic.")

    monkeypatch.setattr("clinic.mdt.jobs.build_pack", refuse)
    act_as(client, world.clinician.id)
    run_id = run_id_in(ask_for_pack(client, [world.patient.patient_id], clinic_today(ZONE)))
    run = run_of(app, run_id)
    assert run.status is JobStatus.FAILED
    assert run.error == "1 of the chosen patients is not a patient of this clinic."
    assert run.error in client.get(f"/jobs/{run_id}").get_data(as_text=True)


def test_a_patient_erased_before_the_job_runs_leaves_nothing_to_make(
    app: Flask, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run still queued when a patient in it is erased is deleted with them; the job
    that comes later finds nothing to do."""
    monkeypatch.setattr("clinic.mdt.views.enqueue_after_commit", lambda *_args: None)
    act_as(client, world.clinician.id)
    run_id = run_id_in(
        ask_for_pack(
            client, [world.patient.patient_id, world.offline_patient_id], clinic_today(ZONE)
        )
    )
    assert run_of(app, run_id).status is JobStatus.QUEUED
    with app.app_context():
        erase_patient(
            db.session.get_one(Patient, world.offline_patient_id),
            by=db.session.get_one(User, world.admin.id),
            request_reference="REQ-2",
            today=clinic_today(ZONE),
        )
        db.session.commit()
    with app.app_context():  # the job runs in the test's app, as the worker in its own
        make_mdt_pack.call_local(run_id)
    with app.app_context():
        assert db.session.get(JobRun, run_id) is None
    assert client.get(f"/jobs/{run_id}").status_code == 404


def test_erasing_a_patient_deletes_the_packs_that_hold_them(
    app: Flask, client, world: World, asked: int
) -> None:
    """A kept pack holds the patient's data: their erasure deletes it whole."""
    with app.app_context():
        erase_patient(
            db.session.get_one(Patient, world.offline_patient_id),
            by=db.session.get_one(User, world.admin.id),
            request_reference="REQ-1",
            today=clinic_today(ZONE),
        )
        db.session.commit()
        assert db.session.get(JobRun, asked) is None


def test_a_run_is_made_once(app: Flask, world: World, asked: int) -> None:
    """A worker given a finished run again (a retry, a duplicate) changes nothing."""
    before = run_of(app, asked)
    with app.app_context():  # the job runs in the test's app, as the worker in its own
        make_mdt_pack.call_local(asked)
    after = run_of(app, asked)
    assert (after.finished_at, after.result) == (before.finished_at, before.result)
    assert services.is_expired(after) is False
