"""Stored XSS: hostile text in every free-text field stays text on every page, print view
and PDF.

Each field of the table below is filled with a payload (a script element, an attribute
break-out with an event handler, a `javascript:` URL), tagged so it can be found. Then every
page a clinician, an administrator and a patient can open (from the access matrix), the
print views, and the PDFs (instruction sheet, progress report, MDT pack) are read back:
HTML is parsed and must hold no injected element, event-handler attribute or script URL;
every field's payload must show somewhere as the literal text (so the test fails if a field
stops being shown, and would notice it); PDFs show the literal text too.

Fields are written as the app writes them (services, or the real form for a report), or
straight to the row where nothing derives from them. To cover a new field, add a line to
FIELDS.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

import pytest
from flask import Flask
from pypdf import PdfReader

from clinic.core.clock import clinic_today
from clinic.diary.services import SessionDetails, SkipDetails, record
from clinic.domain.diary import Bleeding, SkipReason
from clinic.domain.indications import Indication
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import (
    Clinic,
    ClinicInstrument,
    DilatorSet,
    DilatorSize,
    Patient,
    ProtocolTemplate,
    Recipient,
    RedFlag,
    User,
)
from clinic.models.types import utcnow
from clinic.monitoring.services import acknowledge
from clinic.notes.services import change_note, write_addendum, write_note
from clinic.protocols.queries import open_protocol
from clinic.protocols.services import record_event, revise_protocol
from clinic.reporting.queries import patient_reports
from tests.support import access_matrix as matrix
from tests.support.html import elements_and_text
from tests.support.mdt import make_pack
from tests.support.protocols import make_protocol
from tests.support.routes import NOT_PAGES, client_as, url_of
from tests.support.world import World

PAYLOADS = {
    "script element": "<script>alert(1)</script>",
    "attribute break-out": '"><img src=x onerror=alert(1)>',
    "single-quoted break-out": "'><svg onload=alert(1)>",
    "script URL": "javascript:alert(1)",
}
ZONE = "Europe/London"


@dataclass(frozen=True)
class Field:
    """A free-text field and how the app comes to store text in it."""

    name: str
    store: Callable[[Flask, World, dict, Callable[[str], str]], None]


def _row(model, id_):
    return db.session.get(model, id_)


def _set(model, key: str, *attributes: str) -> Callable:
    """Store the text straight in the row named by `key` (a target or World attribute)."""

    def store(app: Flask, world: World, targets: dict, text: Callable[[str], str]) -> None:
        with app.app_context():
            row_id = targets[key] if key in targets else _world_id(world, key)
            row = _row(model, row_id)
            for attribute in attributes:
                setattr(row, attribute, text(f"{model.__tablename__}.{attribute}"))
            db.session.commit()

    return store


def _world_id(world: World, key: str) -> int:
    return {
        "clinic_a": world.clinic_a,
        "patient": world.patient.patient_id,
        "clinician": world.clinician.id,
        "admin": world.admin.id,
        "patient_login": world.patient.id,
    }[key]


def _patient_record(app: Flask, world: World, targets: dict, text) -> None:
    with app.app_context():
        patient = _row(Patient, world.patient.patient_id)
        patient.full_name = text("patients.full_name")
        patient.name_to_use = text("patients.name_to_use")
        patient.user.full_name = patient.full_name  # the portal greets by the login's name
        patient.clinic_identifier = text("patients.clinic_identifier")
        patient.pronouns = text("patients.pronouns")
        patient.indication = Indication.OTHER
        patient.indication_other = text("patients.indication_other")
        patient.referring_clinician = text("patients.referring_clinician")
        db.session.commit()


def _protocol(app: Flask, world: World, targets: dict, text) -> None:
    """A protocol started from the (hostile) template with hostile names and notes, then a
    revision and a decision with hostile reasons: through the services, so the history's
    hashes stay sound."""
    with app.app_context():
        patient = _row(Patient, world.patient.patient_id)
        clinician = _row(User, world.clinician.id)
        template = _row(ProtocolTemplate, targets["template_id"])
        # Surgeon-directed, so the surgeon's (hostile) name is kept with a procedure date.
        template.indication = Indication.VAGINOPLASTY
        today = clinic_today(ZONE)
        # Under 18, so the specialist service's (hostile) name is kept too.
        patient.date_of_birth = date(today.year - 16, 1, 1)
        stages = [
            replace(
                stage.stage_values(),
                technique_notes=text("protocol_stages.technique_notes"),
                limits_reason=text("protocol_stages.limits_reason"),
            )
            for stage in template.stages
        ]
        protocol = make_protocol(
            patient,
            clinician,
            template=template,
            stages=stages,
            name=text("protocols.name"),
            surgeon_direction=text("protocols.surgeon_direction"),
            procedure_on=today,
            specialist_direction=text("protocols.specialist_direction"),
        )
        db.session.flush()
        revise_protocol(
            protocol,
            clinician,
            expected_lock=str(protocol.lock_version),
            stages=stages,
            current_stage=1,
            effective_on=today,
            today=today,
            reason=text("protocol_versions.reason"),
        )
        db.session.flush()
        record_event(
            protocol,
            EventKind.HOLD,
            clinician,
            expected_lock=str(protocol.lock_version),
            effective_on=today,
            today=today,
            reason=text("protocol_events.reason"),
        )
        db.session.commit()


def _notes(app: Flask, world: World, targets: dict, text) -> None:
    with app.app_context():
        patient = _row(Patient, world.patient.patient_id)
        clinician = _row(User, world.clinician.id)
        note = write_note(patient, clinician, text("clinical_note_revisions.body"))
        change_note(note, clinician, text("clinical_notes.body"))
        write_addendum(note, clinician, text("clinical_notes.body (addendum)"))
        db.session.commit()


def _diary(app: Flask, world: World, targets: dict, text) -> None:
    with app.app_context():
        patient = _row(Patient, world.patient.patient_id)
        login = _row(User, world.patient.id)
        protocol = open_protocol(patient.id, patient.clinic_id)
        size_id = protocol.versions[-1].stages[0].dilator_size_id
        # Now, not a while ago: the plan started today, and "a while ago" is yesterday
        # just after midnight (the entry would be refused as before the plan).
        moment = utcnow()
        details = SessionDetails(moment, size_id, 10, 2, 1, Bleeding.NONE, False, None, "")
        session = record(patient, protocol, login, "xss-session", details)
        session.note = text("diary_entries.note")
        skip = SkipDetails(moment, SkipReason.OTHER, text("diary_entries.skip_other"))
        record(patient, protocol, login, "xss-skip", skip)
        db.session.commit()


def _acknowledgement(app: Flask, world: World, targets: dict, text) -> None:
    with app.app_context():
        flag = _row(RedFlag, targets["flag_id"])
        acknowledge(flag, _row(User, world.clinician.id), text("red_flags.acknowledgement"))
        db.session.commit()


def _user_agent(app: Flask, world: World, targets: dict, text) -> None:
    """The browser's name, kept with each session and shown to its owner: a request
    header anyone can set."""
    client = app.test_client()
    client.post(
        "/login",
        data={"email": world.clinician.email, "password": "correct horse battery staple"},
        headers={"User-Agent": text("user_sessions.user_agent")},
    )


FIELDS = [
    Field("clinic details", _set(Clinic, "clinic_a", "name", "address", "phone", "email")),
    Field("staff names", _set(User, "clinician", "full_name")),
    Field("administrator's name", _set(User, "admin", "full_name")),
    Field("patient record", _patient_record),
    Field("dilator size", _set(DilatorSize, "size_id", "label")),
    Field("dilator set", _set(DilatorSet, "set_id", "name", "material", "notes")),
    Field("template", _set(ProtocolTemplate, "template_id", "name", "description", "sources")),
    Field("template stages", lambda app, _world, targets, text: _stages(app, targets, text)),
    Field("instrument title", _set(ClinicInstrument, "instrument_id", "title")),
    Field("protocol", _protocol),  # after the template: its name is quoted in the history
    Field("clinical notes", _notes),
    Field("diary entries", _diary),
    Field("flag acknowledgement", _acknowledgement),
    Field("browser name", _user_agent),
    Field(
        "letter recipient",
        _set(Recipient, "recipient_id", "name", "service", "organisation", "postal_address"),
    ),
]


def _stages(app: Flask, targets: dict, text) -> None:
    with app.app_context():
        template = _row(ProtocolTemplate, targets["template_id"])
        for stage in template.stages:
            stage.technique_notes = text("template_stages.technique_notes")
            stage.limits_reason = text("template_stages.limits_reason")
        db.session.commit()


# Static files; the matrix's stored report and MDT pack are stubs (real ones are read below).
SKIPPED_PAGES = {"static", "reporting.download", "jobs.download", "letters.download"}
# Stored but on no page today (only in a person's data export): still stored hostile, so a
# page that starts showing it is checked from then on.
NOT_SHOWN = {"user_sessions.user_agent"}
# Fields a report's form takes: typed at generation, printed only in the PDF.
REPORT_FIELDS = ("reports.assessment", "reports.plan")
# A letter's text, typed (or kept as prefilled) when it is written: in its page and its PDF.
LETTER_FIELDS = ("opening", "reason", "programme", "red_flags", "measures", "ask")


def _injections(html: str) -> list[str]:
    """Elements and attributes a payload would have added, had it not been escaped."""
    elements, _ = elements_and_text(html)
    found = []
    for element in elements:
        attributes = dict(element.attrs)
        handlers = [name for name in attributes if name.startswith("on")]
        if handlers:
            found.append(f"<{element.tag} {' '.join(handlers)}>")
        if element.tag == "script" and not attributes.get("src", "").startswith("/static/"):
            found.append("<script> without a bundled source")
        if element.tag in ("img", "svg", "iframe", "object", "embed") and (
            attributes.get("src") == "x" or any("alert(" in v for v in attributes.values())
        ):
            found.append(f"<{element.tag}> carrying the payload")
        for name in ("href", "src", "action", "formaction", "xlink:href", "data"):
            value = re.sub(r"\s", "", attributes.get(name, "")).lower()
            if value.startswith(("javascript:", "data:text/html")):
                found.append(f"<{element.tag} {name}={value}>")
    return found


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_hostile_text_stays_text_everywhere(
    app: Flask, world: World, targets: dict, payload: str
) -> None:
    """No page, print view or PDF turns stored text into markup; every field's text is
    shown as typed somewhere (in a page or a PDF)."""
    tags: dict[str, str] = {}

    def text(field: str) -> str:
        tags.setdefault(field, f"ZQ{len(tags):02d}")
        return f"{payload}//{tags[field]}"

    for field in FIELDS:
        field.store(app, world, targets, text)
    targets = {**targets, "protocol_id": _open_protocol_id(app, world)}
    shown_text: list[str] = []
    problems: dict[str, list[str]] = {}

    for actor in (matrix.CLINICIAN, matrix.ADMIN, matrix.PATIENT):
        client = client_as(app, world, actor)
        for (endpoint, method), allowed in sorted(matrix.MATRIX.items()):
            if method != "GET" or actor not in allowed or endpoint in SKIPPED_PAGES:
                continue
            response = client.get(url_of(app, endpoint, targets))
            body = response.get_data()
            response.close()
            if response.mimetype == "text/html":
                html = body.decode()
                if found := _injections(html):
                    problems[f"{actor} {endpoint}"] = found
                shown_text.append(elements_and_text(html)[1])
            elif response.mimetype == "application/pdf":
                shown_text.append(_pdf_text(body, problems, f"{actor} {endpoint}"))
            elif not NOT_PAGES.search(endpoint):
                shown_text.append(body.decode("utf-8", "replace"))

    shown_text += _documents(app, world, targets, text, problems)
    assert problems == {}
    everything = _compact("\n".join(shown_text))
    missing = {
        field: tag
        for field, tag in tags.items()
        if field not in NOT_SHOWN and _compact(f"{payload}//{tag}") not in everything
    }
    assert missing == {}


def _open_protocol_id(app: Flask, world: World) -> int:
    with app.app_context():
        return open_protocol(world.patient.patient_id, world.clinic_a).id


def _pdf_text(pdf: bytes, problems: dict, where: str) -> str:
    """The PDF's text; a link to a script URL is a problem."""
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A") or {}
            if "javascript" in str(action.get("/URI", "")).lower() or action.get("/JS"):
                problems.setdefault(where, []).append("a script link in the PDF")
    return "\n".join(page.extract_text() for page in reader.pages)


def _documents(app: Flask, world: World, targets: dict, text, problems: dict) -> list[str]:
    """The progress report (generated through its form, with hostile assessment and plan),
    an MDT pack for the patient, and a letter written with hostile text to the hostile
    recipient (its page, and its PDF with the report attached), as text."""
    client = client_as(app, world, matrix.CLINICIAN)
    patient_id = world.patient.patient_id
    today = clinic_today(ZONE).isoformat()
    response = client.post(
        f"/patients/{patient_id}/reports/new",
        data={
            "period_from": today,
            "period_to": today,
            "assessment": text(REPORT_FIELDS[0]),
            "plan": text(REPORT_FIELDS[1]),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        report_id = patient_reports(patient_id, world.clinic_a)[0].id
    report = client.get(f"/patients/{patient_id}/reports/{report_id}/download").get_data()
    pack = make_pack(client, [patient_id], date.fromisoformat(today))
    assert pack.mimetype == "application/pdf", pack.get_data(as_text=True)
    written = client.post(
        f"/patients/{patient_id}/letters/new",
        data={
            "kind": "update",
            "key": "stored-xss-letter",
            "recipients": [targets["recipient_id"]],
            "with_report": "y",
            **{name: text(f"letters.{name}") for name in LETTER_FIELDS},
        },
    )
    assert written.status_code == 302, written.get_data(as_text=True)
    letter_page = client.get(written.headers["Location"]).get_data(as_text=True)
    if found := _injections(letter_page):
        problems["the letter's page"] = found
    letter = client.get(written.headers["Location"] + "/download").get_data()
    return [
        _pdf_text(report, problems, "progress report"),
        _pdf_text(pack.get_data(), problems, "MDT pack"),
        _pdf_text(letter, problems, "letter"),
        elements_and_text(letter_page)[1],
    ]


@pytest.mark.parametrize(
    "unescaped",
    [
        f"<p>{PAYLOADS['script element']}</p>",
        f'<input value="{PAYLOADS["attribute break-out"]}">',
        f"<input value='{PAYLOADS['single-quoted break-out']}'>",
        f'<a href="{PAYLOADS["script URL"]}//ZQ01">clinic</a>',
    ],
)
def test_the_check_sees_a_payload_that_was_not_escaped(unescaped: str) -> None:
    """The markup check above finds each payload when a page fails to escape it."""
    assert _injections(unescaped)
