"""No patient data in the logs: the main flows, run with every logger at DEBUG, write no
patient name, email address, date of birth or typed text into any log record (nor into
the audit trail's details)."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import AuditEvent, Patient
from tests.support.auth import act_as
from tests.support.forms import form_values
from tests.support.invitations import choose_password, invite_patient, link_in
from tests.support.protocols import start_plan
from tests.support.world import World

NAME = "Philippa Quartermaine"
EMAIL = "philippa.q@example.org"
BIRTH = ("1987-06-05", "05 Jun 1987", "5 Jun 1987", "05/06/1987", "1987, 6, 5")
DIARY_NOTE = "Private diary words seven seven three one"
CLINICAL_NOTE = "Clinical note words four four five five"
ASSESSMENT = "Assessment words nine nine one two"
SECRETS = (NAME, "Quartermaine", EMAIL, *BIRTH, DIARY_NOTE, CLINICAL_NOTE, ASSESSMENT)


def _everything_logged(records: list[logging.LogRecord]) -> list[str]:
    """Each record as a handler would write it: message, arguments, exception text."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return [f"{formatter.format(r)} {r.args!r}" for r in records]


@pytest.fixture
def every_logger_listening(
    app: Flask, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> pytest.LogCaptureFixture:
    """Every logger at DEBUG, the database engine's too (SQLAlchemy keeps its own at
    WARNING unless told otherwise), and none disabled (running the migrations loads
    alembic.ini's logging setup, which sets levels and disables the loggers that existed
    before)."""
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "werkzeug", "weasyprint", "fontTools", app.logger.name):
        logging.getLogger(name)  # exists from now on, to be set below
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            monkeypatch.setattr(logger, "disabled", False)
            if logger.level != logging.NOTSET:
                caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_main_flows_log_no_patient_data(
    app: Flask, client, world: World, every_logger_listening: pytest.LogCaptureFixture, as_clinician
) -> None:
    """Patient created, portal invitation accepted, a failed sign-in with the patient's
    address, a diary entry with a note, a clinical note and a progress report: nothing a
    patient is or wrote reaches a log record."""
    # A clinician records the patient and invites them to the portal.
    values = form_values(client.get("/patients/new").get_data(as_text=True))
    values |= {
        "full_name": NAME,
        "date_of_birth": BIRTH[0],
        "clinic_identifier": "QX-1",
        "indication": "vaginismus",
    }
    created = client.post("/patients/new", data=values)
    assert created.status_code == 302, created.get_data(as_text=True)
    patient_id = int(created.headers["Location"].rsplit("/", 1)[1])
    invitation = invite_patient(client, patient_id, EMAIL)
    assert choose_password(app.test_client(), link_in(invitation)).status_code == 302

    # Someone tries the patient's address with a wrong password.
    failed = app.test_client().post("/login", data={"email": EMAIL, "password": "wrong guess"})
    assert failed.status_code == 200

    # The patient logs a session with a note.
    start_plan(app, patient_id, world.clinician.id)
    with app.app_context():
        user_id = db.session.get(Patient, patient_id).user_id
    portal = app.test_client()
    act_as(portal, user_id)
    entry = form_values(portal.get("/diary/log").get_data(as_text=True))
    entry |= {"pain_during": "3", "pain_after": "2", "bleeding": "none", "sharp_pain": "no"}
    assert portal.post("/diary/log", data=entry | {"note": DIARY_NOTE}).status_code == 302

    # The clinician writes a note, reads the timeline and generates a report.
    notes_url = f"/patients/{patient_id}/notes"
    assert client.post(notes_url, data={"body": CLINICAL_NOTE}).status_code == 302
    assert client.get(f"/patients/{patient_id}/timeline").status_code == 200
    form = form_values(client.get(f"/patients/{patient_id}/reports/new").get_data(as_text=True))
    report = client.post(
        f"/patients/{patient_id}/reports/new", data=form | {"assessment": ASSESSMENT}
    )
    assert report.status_code == 302, report.get_data(as_text=True)[:500]

    logged = _everything_logged(every_logger_listening.records)
    # The loggers really were listening: the database statements themselves are there
    # (without their parameters: the engine hides them).
    assert any(re.search(r"INSERT INTO patients", line) for line in logged)
    leaks = [(secret, line[:300]) for line in logged for secret in SECRETS if secret in line]
    assert leaks == []

    with app.app_context():
        details = db.session.scalars(select(AuditEvent.detail)).all()
        assert {"patient.create", "invitation.accept", "diary.log", "report.create"} <= set(
            db.session.scalars(select(AuditEvent.action))
        )
    assert [d for d in details for secret in SECRETS if secret in d] == []
