"""Ids swapped between patients and between clinics (the OpenEMR advisory pattern): every
id a URL or a form carries is checked on the server against who is asking.

For every route whose URL names a patient, protocol, note, report, flag, diary entry,
questionnaire assignment or response, staff account, dilator set or size, template or
instrument, the id is swapped for the same kind of object of another patient of the same
clinic (when the URL pairs it with a patient, or the portal takes the patient from the
session) and of another clinic, on reads and on writes. The answer is 404 (or 403), the
other patient's name appears nowhere, and a write changes nothing.

Forms are then sent with their hidden and chosen ids (dilator sizes, the responsible
clinician, the MDT pack's patients) replaced by another clinic's: refused with a message,
nothing saved; the same form unchanged is saved, so the refusal is the id's doing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from clinic.core.clock import clinic_today
from clinic.diary.services import SessionDetails, SkipDetails, record
from clinic.domain.diary import Bleeding, FlagReason, SkipReason
from clinic.domain.measure_schedule import Cadence
from clinic.extensions import db
from clinic.models import (
    ClinicInstrument,
    DilatorSize,
    JobRun,
    JobStatus,
    MeasureAssignment,
    MeasureResponse,
    Patient,
    PendingReferral,
    ProtocolTemplate,
    RedFlag,
    Report,
    User,
)
from clinic.models.outbox import MessageStatus, OutboxMessage
from clinic.models.types import utcnow
from clinic.notes.services import write_note
from clinic.protocols.queries import open_protocol
from tests.support import access_matrix as matrix
from tests.support.api_tokens import make_referral
from tests.support.html import Form, elements_and_text, forms_in
from tests.support.letters import stored_letter
from tests.support.protocols import make_protocol
from tests.support.routes import (
    NOT_PAGES,
    SIGNED_IN_FIRST,
    actor_for,
    client_as,
    find_form,
    page_html,
    pages_to_search,
    url_of,
)
from tests.support.snapshots import changes, database_rows
from tests.support.world import World

UNTOUCHED_BY_DESIGN = ("audit_events", "user_sessions")
ZONE = "Europe/London"

# URL parts that are not ids (words, secrets, file names).
# Arguments that name no row: a kind, a file, a one-time token, a shipped language's code.
NOT_IDS = {
    "change",
    "source",
    "filename",
    "occasion_key",
    "token",
    "reset_token",
    "email_token",
    "code",
}
# Ids of a patient's things: swapped for another patient's in the same clinic too.
PATIENT_THINGS = {
    "protocol_id",
    "note_id",
    "report_id",
    "letter_id",
    "flag_id",
    "entry_id",
    "assignment_id",
    "response_id",
    "user_id",
    # A background run (an MDT pack holding the patient), asked for by someone else.
    "run_id",
}
# Ids of a clinic's things (catalogue, library, instruments): swapped for another clinic's.
CLINIC_THINGS = {
    "set_id",
    "size_id",
    "template_id",
    "instrument_id",
    "message_id",
    "token_id",
    "referral_id",
    "recipient_id",
}
FILLER = "Written by the id-swap test."


@dataclass(frozen=True)
class Victim:
    """Whose things are swapped in: their name must never show, and their ids."""

    name: str
    identifier: str
    ids: dict[str, int]


def _things_of(
    app: Flask, patient_id: int, author_id: int, portal_user_id: int, run_owner_id: int
) -> dict:
    """A protocol, note, diary entry with a red flag, stored report and a questionnaire
    (assigned and answered) for the patient, and an MDT pack holding them made for
    `run_owner_id`, as the ids URLs name."""
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        author = db.session.get(User, author_id)
        today = clinic_today(ZONE)
        protocol = open_protocol(patient.id, patient.clinic_id)
        if protocol is None:
            protocol = make_protocol(patient, author)
        note = write_note(patient, author, f"A note about {patient.full_name}.")
        entry = record(
            patient,
            protocol,
            db.session.get(User, portal_user_id),
            f"swap-{patient.id}",
            SkipDetails(occurred_at=utcnow(), skip_reason=SkipReason.FORGOT, skip_other=""),
        )
        flag = RedFlag(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            entry=entry,
            reason=FlagReason.SHARP_PAIN,
        )
        report = Report(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            kind="progress",
            period_from=today,
            period_to=today,
            author_id=author.id,
            file_name="progress-report-swap.pdf",
            pdf=b"%PDF-1.7 swap",
            sha256="1" * 64,
            size_bytes=13,
        )
        assignment = MeasureAssignment(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            instrument_key="pain-nrs",
            cadence=Cadence.ONCE,
            on=today,
            assigned_on=today,
        )
        db.session.add_all([flag, report, assignment])
        db.session.flush()
        response = MeasureResponse(
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            assignment_id=assignment.id,
            occasion_key="once",
            occasion_on=today,
            instrument_key="pain-nrs",
            instrument_version="1",
            answers="{}",
            submitted_at=utcnow(),
            valid=False,
            invalid_reason="Not scored",
        )
        run = JobRun(
            clinic_id=patient.clinic_id,
            requested_by_id=run_owner_id,
            kind="mdt_pack",
            params=json.dumps({"patient_ids": [patient.id]}),
            status=JobStatus.DONE,
            total=1,
            done=1,
            result=b"%PDF-1.7 swap",
            result_name="mdt-pack-swap.pdf",
            result_type="application/pdf",
            result_size=13,
            expires_at=utcnow() + timedelta(hours=24),
        )
        db.session.add_all([response, run])
        recipient, letter = stored_letter(
            patient.clinic_id, patient.id, author.id, f"Dr Swap {patient.id}"
        )
        db.session.commit()
        return {
            "letter_id": letter.id,
            "recipient_id": recipient.id,
            "run_id": run.id,
            "patient_id": patient.id,
            "protocol_id": protocol.id,
            "note_id": note.id,
            "entry_id": entry.id,
            "flag_id": flag.id,
            "report_id": report.id,
            "assignment_id": assignment.id,
            "response_id": response.id,
        }


@pytest.fixture
def victims(app: Flask, world: World, targets: dict) -> dict[str, Victim]:
    """OTHER_PATIENT of clinic A ("same clinic") and clinic B's patient with their things,
    clinic B's catalogue, library and an instrument ("other clinic"). The staff account of
    the same clinic is PATIENT's portal login (not staff: the staff pages must not find it)."""
    same = _things_of(
        app,
        world.other_patient.patient_id,
        world.clinician.id,
        world.other_patient.id,
        world.colleague.id,  # a pack a colleague asked for: CLINICIAN must not find it
    )
    other = _things_of(
        app,
        world.other_clinic_patient.patient_id,
        world.other_clinician.id,
        world.other_clinic_patient.id,
        world.other_clinician.id,
    )
    # A referral clinic B received, and the token it came through.
    referral_id = make_referral(app, world.clinic_b, name="Kit Varga")
    with app.app_context():
        size = db.session.scalars(
            db.select(DilatorSize)
            .join(DilatorSize.dilator_set)
            .where(DilatorSize.dilator_set.has(clinic_id=world.clinic_b))
        ).first()
        template = db.session.scalars(
            db.select(ProtocolTemplate).where(ProtocolTemplate.clinic_id == world.clinic_b)
        ).first()
        instrument = ClinicInstrument(
            clinic_id=world.clinic_b,
            key="pain-nrs",
            version="2-swap",
            title="Pain (clinic B)",
            licence_status="free",
            definition="{}",
        )
        # A message of clinic B that could not be sent (its "Retry" names it).
        message = OutboxMessage(
            clinic_id=world.clinic_b,
            user_id=world.other_clinic_patient.id,
            kind="password_reset",
            key="password_reset:swap:user:b:email",
            recipient=world.other_clinic_patient.email,
            subject="Your sign-in link",
            body="Open this link.",
            status=MessageStatus.FAILED,
            attempts=6,
        )
        db.session.add_all([instrument, message])
        db.session.commit()
        token_id = db.session.get_one(PendingReferral, referral_id).token_id
        other |= {
            "referral_id": referral_id,
            "token_id": token_id,
            "message_id": message.id,
            "user_id": world.other_clinician.id,
            "set_id": size.set_id,
            "size_id": size.id,
            "template_id": template.id,
            "instrument_id": instrument.id,
        }
        same["user_id"] = world.patient.id

        def victim(patient_id: int, ids: dict) -> Victim:
            patient = db.session.get(Patient, patient_id)
            return Victim(patient.full_name, patient.clinic_identifier, ids)

        return {
            "same clinic": victim(world.other_patient.patient_id, same),
            "other clinic": victim(world.other_clinic_patient.patient_id, other),
        }


def _rules_with_ids(app: Flask) -> list[tuple[str, str, list[str]]]:
    """(endpoint, method, id arguments) of every route whose URL carries ids."""
    found = []
    for rule in app.url_map.iter_rules():
        ids = sorted(rule.arguments - NOT_IDS)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) in matrix.TOKEN_ROUTES:
                continue  # tokens, not sessions: their clinic scoping is in test_fhir_api.py
            if ids:
                found.append((rule.endpoint, method, ids))
    return sorted(found)


def _swaps(ids: list[str]) -> list[tuple[str, str]]:
    """(argument, whose) pairs to try for a route with these id arguments."""
    pairs = []
    for name in ids:
        if name in CLINIC_THINGS:
            pairs.append((name, "other clinic"))
        elif name in PATIENT_THINGS:
            pairs += [(name, "same clinic"), (name, "other clinic")]
        elif name == "patient_id":
            pairs.append((name, "other clinic"))
            if set(ids) & PATIENT_THINGS:  # the patient's own things, under another patient
                pairs.append((name, "same clinic"))
    return pairs


def test_every_id_in_a_url_is_swapped(app: Flask) -> None:
    """Each id a URL carries is one this file knows how to swap, so a route added later
    with a new kind of id fails here until its swap is written."""
    unknown = {
        (endpoint, name)
        for endpoint, _method, ids in _rules_with_ids(app)
        for name in ids
        if name not in PATIENT_THINGS | CLINIC_THINGS | {"patient_id"}
    }
    assert unknown == set()


def _filled(form: Form, typed: dict[str, str] | None = None) -> MultiDict:
    """What a person would send: the form as the page fills it, with a choice made in each
    open radio group, empty text areas (reasons, notes) written in, and `typed`."""
    sent = MultiDict()
    for name in form.names:
        values = [v for n, v in form.values if n == name]
        kind = form.kinds.get(name)
        if not values and kind == "radio":
            values = form.options[name][:1]
        if kind == "textarea" and values == [""]:
            values = [FILLER]
        for value in values:
            sent.add(name, value)
    for name, value in (typed or {}).items():
        sent[name] = value
    return sent


def _leaks(body: bytes, victim: Victim) -> bool:
    text = body.decode("utf-8", "replace")
    return victim.name in text or victim.identifier in text


def test_swapped_ids_in_urls_find_nothing(
    app: Flask, world: World, targets: dict, victims: dict[str, Victim]
) -> None:
    """Reads and writes with another patient's or another clinic's id in the URL answer
    404 or 403, show nothing of that patient and change nothing."""
    problems: dict[str, str] = {}
    for endpoint, method, ids in _rules_with_ids(app):
        if (endpoint, method) not in matrix.MATRIX or not set(ids) <= (
            PATIENT_THINGS | CLINIC_THINGS | {"patient_id"}
        ):
            continue  # reported by test_every_id_in_a_url_is_swapped / the access matrix
        actor = actor_for(endpoint, method, SIGNED_IN_FIRST)
        form = None
        if method == "POST":
            legit = url_of(app, endpoint, targets)
            scout = client_as(app, world, actor)
            path = urlsplit(legit).path
            found = find_form(scout, pages_to_search(app, legit, actor, targets), path)
            form = found[1] if found else Form(action=legit, method="post")
        for name, whose in _swaps(ids):
            victim = victims[whose]
            url = url_of(app, endpoint, {**targets, name: victim.ids[name]})
            client = client_as(app, world, actor)
            if method == "POST":
                token = client.fetch_csrf_token()  # (the start page may refresh summaries)
                before = database_rows(app, exclude=UNTOUCHED_BY_DESIGN)
                data = _filled(form)
                data["csrf_token"] = token
                response = client.post(url, data=data, csrf=False)
            else:
                response = client.get(url)
            body = response.get_data()
            response.close()
            case = f"{method} {endpoint} with {whose}'s {name}"
            if response.status_code not in (403, 404):
                problems[case] = f"answered {response.status_code}"
            elif _leaks(body, victim):
                problems[case] = "shows the other patient"
            elif method == "POST" and (
                diff := changes(before, database_rows(app, exclude=UNTOUCHED_BY_DESIGN))
            ):
                problems[case] = f"changed {sorted(diff)}"
    assert problems == {}


@dataclass(frozen=True)
class HiddenId:
    """A form field carrying an id of the clinic's (a select's value can be forged as
    easily as a hidden input's), and what to put there instead."""

    endpoint: str
    field: str
    swap_in: str  # a key of the other clinic's victim ids
    add: bool = False  # add to the ticked list rather than replace
    # What a person types to make the form valid ("{size_id}": that id of the targets).
    typed: tuple[tuple[str, str], ...] = ()


HIDDEN_IDS = [
    HiddenId("portal.log_session", "dilator_size_id", "size_id"),
    HiddenId("portal.edit_entry", "dilator_size_id", "size_id"),
    HiddenId("protocols.start", "stages-0-dilator_size_id", "size_id"),
    HiddenId("protocols.revise", "stages-1-dilator_size_id", "size_id"),
    HiddenId(
        "library.new",
        "stages-0-dilator_size_id",
        "size_id",
        typed=(
            ("name", "Swap test template"),
            ("indication", "vaginismus"),
            ("route", "vaginal"),
            ("stages-0-dilator_size_id", "{size_id}"),
        ),
    ),
    HiddenId("library.edit", "stages-0-dilator_size_id", "size_id"),
    HiddenId(
        "patients.new",
        "responsible_clinician_id",
        "user_id",
        typed=(
            ("full_name", "Swap Test"),
            ("date_of_birth", "1990-01-01"),
            ("clinic_identifier", "MRN-SWAP"),
            ("indication", "vaginismus"),  # none is chosen for the clinician
        ),
    ),
    HiddenId("patients.edit", "responsible_clinician_id", "user_id"),
    HiddenId(
        "admin.accept_referral_form",
        "responsible_clinician_id",
        "user_id",
        typed=(("clinic_identifier", "MRN-SWAP-REF"),),
    ),
    HiddenId("mdt.create", "patient_ids", "patient_id", add=True),
]
# Form fields carrying ids, by the last part of their name ("stages-3-dilator_size_id").
ID_FIELDS = {case.field.rsplit("-", 1)[-1] for case in HIDDEN_IDS}


def _session_entry(app: Flask, world: World) -> int:
    """A session (not a skip) PATIENT logged just now, so its correction form has a size."""
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        protocol = open_protocol(patient.id, patient.clinic_id)
        stage = protocol.versions[-1].stages[0]
        entry = record(
            patient,
            protocol,
            db.session.get(User, world.patient.id),
            "swap-session",
            SessionDetails(
                occurred_at=utcnow() - timedelta(minutes=5),
                dilator_size_id=stage.dilator_size_id,
                minutes=10,
                pain_during=2,
                pain_after=1,
                bleeding=Bleeding.NONE,
                sharp_pain=False,
                depth_cm=None,
                note="",
            ),
        )
        db.session.commit()
        return entry.id


def _saved(response) -> bool:
    """A redirect after saving, or the document asked for."""
    return response.status_code == 302 or response.mimetype == "application/pdf"


@pytest.mark.parametrize("case", HIDDEN_IDS, ids=lambda case: f"{case.endpoint}:{case.field}")
def test_another_clinics_id_in_a_form_is_refused(
    app: Flask, world: World, targets: dict, victims: dict[str, Victim], case: HiddenId
) -> None:
    """The form with one id replaced by another clinic's is refused with a message and
    saves nothing; the same form as the page filled it is saved (so the refusal is the
    id's doing, not some other mistake in the form)."""
    values = {**targets, "entry_id": _session_entry(app, world)}
    actor = actor_for(case.endpoint, "POST", SIGNED_IN_FIRST)
    url = url_of(app, case.endpoint, values)
    client = client_as(app, world, actor)
    found = find_form(client, pages_to_search(app, url, actor, values), urlsplit(url).path)
    assert found, f"no form posts to {url}"
    page, form = found
    assert case.field in form.names
    typed = {name: value.format(**values) for name, value in case.typed}
    data = _filled(form, typed)
    forged = victims["other clinic"].ids[case.swap_in]
    if case.add:
        data.add(case.field, str(forged))
    else:
        data[case.field] = str(forged)
    before = database_rows(app, exclude=UNTOUCHED_BY_DESIGN)

    response = client.post(form.target(page), data=data, csrf=False)

    body = response.get_data()
    assert not _saved(response) and response.status_code in (200, 400, 404), response.status_code
    assert b"Error" in body or b'role="alert"' in body
    assert not _leaks(body, victims["other clinic"])
    assert changes(before, database_rows(app, exclude=UNTOUCHED_BY_DESIGN)) == {}

    page, form = find_form(client, [page], urlsplit(url).path)
    control = client.post(form.target(page), data=_filled(form, typed), csrf=False)
    assert _saved(control), control.get_data(as_text=True)


def test_every_id_field_in_a_form_is_tried(app: Flask, world: World, targets: dict) -> None:
    """Each form field that carries an id (its name ends in _id or _ids, or is one of the
    cases above) on any page a clinician, an administrator or a patient can open is one of
    the cases above, so a form added later with an id in it fails here until it is tried.
    (Links to a form with a query string, such as a template to start from, are followed.)"""
    routes = app.url_map.bind("clinic.test")
    untried = set()
    for actor in (matrix.CLINICIAN, matrix.ADMIN, matrix.PATIENT):
        client = client_as(app, world, actor)
        pages = [
            url_of(app, endpoint, targets)
            for (endpoint, method), allowed in sorted(matrix.MATRIX.items())
            if method == "GET" and actor in allowed and not NOT_PAGES.search(endpoint)
        ]
        seen: set[str] = set()
        while pages:
            page = pages.pop()
            if page in seen:
                continue
            seen.add(page)
            html = page_html(client.get(page))
            if html is None:
                continue
            elements, _ = elements_and_text(html)
            pages += [
                href
                for element in elements
                if element.tag == "a"
                and (href := dict(element.attrs).get("href", "")).startswith("/")
                and urlsplit(href).query
                and _posts_to(routes, urlsplit(href).path)
            ]
            for form in forms_in(html):
                endpoint = form.method == "post" and _posts_to(routes, form.path(page))
                for name in form.names if endpoint else []:
                    bare = name.rsplit("-", 1)[-1]
                    carries_id = bare.endswith(("_id", "_ids")) or bare in ID_FIELDS
                    tried = any(
                        c.endpoint == endpoint and c.field.rsplit("-", 1)[-1] == bare
                        for c in HIDDEN_IDS
                    )
                    if carries_id and not tried:
                        untried.add((endpoint, name))
    assert untried == set()


def _posts_to(routes, path: str) -> str | None:
    """The endpoint a POST to `path` reaches, if any."""
    try:
        return routes.match(path, method="POST")[0]
    except HTTPException:
        return None
