"""Referral, update and discharge letters (issue 19): the clinic's address book of
recipients, the clinic's letter templates, and letters written from the patient's chart,
prefilled with the engine's figures, kept as tagged PDFs (bytes and SHA-256), sent through
the outbox with the PDF attached or marked to print, and never to a patient's address."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from html import unescape

import pytest
from flask import Flask
from sqlalchemy import func, select

from clinic.audit.actions import ACTIONS
from clinic.core.clock import clinic_today
from clinic.core.templating import long_date, short_date
from clinic.core.uow import unit_of_work
from clinic.domain.adherence import adherence_between
from clinic.domain.diary import FlagReason, SkipReason
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.letters.compose import TO_COMPLETE, TO_COMPLETE_DISCHARGE, _scale_note
from clinic.letters.defaults import DEFAULT_WORDING
from clinic.letters.recipients import PATIENT_ADDRESS
from clinic.models import (
    AuditEvent,
    Clinic,
    DiaryEntry,
    Letter,
    LetterKind,
    LetterTemplate,
    Patient,
    Recipient,
    RecipientRole,
    RedFlag,
    User,
)
from clinic.models.invitations import EMAIL_CHANGE, Invitation
from clinic.models.letters import LetterIsFinal
from clinic.models.outbox import MessageStatus, OutboxMessage
from clinic.monitoring.evidence import ScoredSession, schedule_of
from clinic.outbox.delivery import PATIENT_ADDRESS_NOW
from clinic.protocols.queries import patient_protocols
from tests.support.auth import act_as
from tests.support.diaries import ZONE, add_entries
from tests.support.forms import form_values
from tests.support.mail import sent_messages
from tests.support.measure_scores import answer_measure, assign_measure
from tests.support.protocols import start_plan
from tests.support.queries import count_queries
from tests.support.reports import read_pdf
from tests.support.worker import outbox_rows, running_worker, wait_for, worker_environment
from tests.support.world import World

GIVEAWAYS = ("dilat", "vagin", "pelvic", "anal", "sexual", "rectal", "referral", "discharge")


def today() -> date:
    return clinic_today(ZONE)


def text_of(html: str) -> str:
    """A page's visible text, tags dropped and white space collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def letters_url(patient_id: int) -> str:
    return f"/patients/{patient_id}/letters"


def add(app: Flask, clinic_id: int, name: str, email: str = "", **more: object) -> int:
    """A recipient in the clinic's address book; returns its id."""
    with app.app_context():
        recipient = Recipient(
            clinic_id=clinic_id,
            name=name,
            role=more.get("role", RecipientRole.GP),
            service=str(more.get("service", "")),
            organisation=str(more.get("organisation", "Canal Street Surgery")),
            postal_address=str(more.get("postal_address", "3 Canal Street\nLeeds LS12 2PT")),
            email=email,
        )
        db.session.add(recipient)
        db.session.commit()
        return recipient.id


@pytest.fixture
def course(app: Flask, world: World) -> int:
    """PATIENT's programme: started 40 days ago, stage 2 for twelve days; sessions most
    days with some skips; a red flag reviewed by the clinician; a pain score asked at the
    start and again this week. Returns the protocol id."""
    protocol = start_plan(
        app,
        world.patient.patient_id,
        world.clinician.id,
        [(EventKind.ADVANCE, 12)],
        started_days_ago=40,
    )
    add_entries(app, protocol, world.patient, [d for d in range(35) if d % 5], pain=(4, 2))
    add_entries(app, protocol, world.patient, [5, 10, 15], skipped=True)
    add_entries(app, protocol, world.patient, [20], skipped=True, skip_reason=SkipReason.UNWELL)
    with app.app_context():
        entry = db.session.scalars(
            select(DiaryEntry)
            .where(DiaryEntry.patient_id == world.patient.patient_id, DiaryEntry.skipped.is_(False))
            .order_by(DiaryEntry.occurred_at.desc())
        ).first()
        db.session.add(
            RedFlag(
                clinic_id=world.clinic_a,
                patient_id=world.patient.patient_id,
                entry_id=entry.id,
                reason=FlagReason.HIGH_PAIN,
                pain=8,
                acknowledged_at=entry.occurred_at + timedelta(hours=2),
                acknowledged_by_id=world.clinician.id,
                acknowledgement="Phoned; settled with rest.",
            )
        )
        db.session.commit()
    assignment = assign_measure(app, world.patient.patient_id, "pain-nrs", on_days_ago=35)
    answer_measure(app, assignment, "once", {"pain": 7}, occasion_days_ago=35)
    later = assign_measure(app, world.patient.patient_id, "pain-nrs", on_days_ago=2)
    answer_measure(app, later, "once", {"pain": 3}, occasion_days_ago=2)
    return protocol


def compose(client, patient_id: int, kind: str = "update", **changes: object):
    """Open the letter form for `kind`, change what is given, send it; the response."""
    page = client.get(f"{letters_url(patient_id)}/new?kind={kind}")
    assert page.status_code == 200
    values: dict[str, object] = form_values(page.get_data(as_text=True))
    values.pop("with_report", None)
    values.update(changes)
    values = {k: v for k, v in values.items() if v is not None}
    return client.post(f"{letters_url(patient_id)}/new", data=values)


def stored_letters(app: Flask, patient_id: int) -> list[Letter]:
    with app.app_context():
        letters = list(
            db.session.scalars(
                select(Letter).where(Letter.patient_id == patient_id).order_by(Letter.id)
            )
        )
        for letter in letters:
            _ = letter.pdf
            db.session.refresh(letter, ["addressees"])
            _ = list(letter.addressees)
        db.session.expunge_all()
        return letters


# The address book ------------------------------------------------------------------------


def test_a_recipient_is_added_edited_archived_and_restored(
    app: Flask, client, world: World, as_clinician
) -> None:
    """A clinician adds a recipient through the page, changes them, archives and restores
    them; the list shows them at each step and every change is in the audit trail."""
    page = client.get("/recipients/new")
    values = form_values(page.get_data(as_text=True))
    values.update(
        name="Dr Amira Shah",
        role="gynaecologist",
        service="Pelvic pain clinic",
        organisation="Leeds General Infirmary",
        postal_address="Great George Street\r\nLeeds LS1 3EX",
        email="Gynae.Letters@Hospital.example",
    )
    response = client.post("/recipients/new", data=values)
    assert response.status_code == 302
    with app.app_context():
        recipient = db.session.scalars(select(Recipient)).one()
        assert recipient.clinic_id == world.clinic_a
        assert recipient.email == "gynae.letters@hospital.example"
        assert recipient.postal_address == "Great George Street\nLeeds LS1 3EX"
        rid = recipient.id
    listing = text_of(client.get("/recipients").get_data(as_text=True))
    assert "Dr Amira Shah" in listing and "Gynaecologist, Pelvic pain clinic" in listing

    values = form_values(client.get(f"/recipients/{rid}/edit").get_data(as_text=True))
    assert values["name"] == "Dr Amira Shah" and values["role"] == "gynaecologist"
    values["service"] = "Vulval clinic"
    assert client.post(f"/recipients/{rid}/edit", data=values).status_code == 302
    assert client.post(f"/recipients/{rid}/archive").status_code == 302
    with app.app_context():
        assert db.session.get(Recipient, rid).archived_at is not None
    listing = client.get("/recipients").get_data(as_text=True)
    assert "Archived recipients" in listing
    assert client.post(f"/recipients/{rid}/restore").status_code == 302
    with app.app_context():
        recipient = db.session.get(Recipient, rid)
        assert recipient.archived_at is None and recipient.service == "Vulval clinic"
        actions = db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "recipient", AuditEvent.object_id == rid)
            .order_by(AuditEvent.id)
        ).all()
    changes = [a for a in actions if a not in ("recipient.form",)]
    assert changes == [
        "recipient.create",
        "recipient.update",
        "recipient.archive",
        "recipient.restore",
    ]
    assert all(a in ACTIONS for a in actions)


def test_the_form_refuses_in_plain_words_and_keeps_what_was_typed(
    app: Flask, client, world: World, as_admin
) -> None:
    """Missing name, organisation and address, and a malformed email, are each said in
    plain words next to the field, with the typed values kept; nothing is saved."""
    values = form_values(client.get("/recipients/new").get_data(as_text=True))
    values.update(
        name="", organisation="", postal_address="", email="not an address", service="Kept service"
    )
    response = client.post("/recipients/new", data=values)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter the person&#39;s name" in page or "Enter the person's name" in page
    assert "Enter the practice or hospital." in page
    assert "Enter the postal address letters are printed with." in page
    assert "Enter an address like name@nhs.example, or leave it empty." in page
    assert 'value="Kept service"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Recipient)) == 0


def test_a_patients_address_is_refused(app: Flask, client, world: World, as_clinician) -> None:
    """An address any patient account signs in with (this clinic's or another's, in any
    case) is refused for the address book, in those words."""
    for address in (world.patient.email.upper(), world.other_clinic_patient.email):
        values = form_values(client.get("/recipients/new").get_data(as_text=True))
        values.update(name="Dr X", organisation="Somewhere", postal_address="1 Road", email=address)
        response = client.post("/recipients/new", data=values)
        assert response.status_code == 400
        assert PATIENT_ADDRESS.replace("'", "&#39;") in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Recipient)) == 0


def test_the_address_book_is_the_clinics_own(app: Flask, client, world: World) -> None:
    """Another clinic's staff do not see the recipient in their list and get 404 for it."""
    rid = add(app, world.clinic_a, "Dr Only A")
    for person in (world.other_clinician, world.other_admin):
        act_as(client, person.id)
        assert "Dr Only A" not in client.get("/recipients").get_data(as_text=True)
        assert client.get(f"/recipients/{rid}/edit").status_code == 404
        assert client.post(f"/recipients/{rid}/archive").status_code == 404
    with app.app_context():
        assert db.session.get(Recipient, rid).archived_at is None


def test_the_address_book_costs_the_same_queries_for_few_or_many(
    app: Flask, client, world: World, as_clinician
) -> None:
    """Two recipients or twenty: the list page sends the same number of statements."""
    with app.app_context():
        engine = db.engine

    def statements() -> int:
        with count_queries(engine) as seen:
            assert client.get("/recipients").status_code == 200
        return len(seen)

    for n in range(2):
        add(app, world.clinic_a, f"Dr Few {n}")
    few = statements()
    for n in range(18):
        add(app, world.clinic_a, f"Dr Many {n}", email=f"many{n}@surgery.example")
    assert statements() == few


# Templates -------------------------------------------------------------------------------


def test_new_clinics_get_the_default_templates_and_administrators_edit_them(
    app: Flask, client, world: World, as_admin
) -> None:
    """The world's clinics were seeded with the defaults; the administrator's wording is
    saved (audited) and is what a clinician's next letter starts from."""
    with app.app_context():
        kinds = db.session.scalars(
            select(LetterTemplate.kind).where(LetterTemplate.clinic_id == world.clinic_a)
        ).all()
    page = client.get("/recipients/templates")
    values = form_values(page.get_data(as_text=True))
    assert values["referral_opening"] == DEFAULT_WORDING[LetterKind.REFERRAL][0]
    values["update_opening"] = "Our clinic's own opening."
    values["discharge_ask"] = ""
    refused = client.post("/recipients/templates", data=values)
    assert refused.status_code == 400 and "Enter the wording." in refused.get_data(as_text=True)
    values["discharge_ask"] = "Please re-refer if needed."
    assert client.post("/recipients/templates", data=values).status_code == 302
    with app.app_context():
        saved = {
            t.kind: t
            for t in db.session.scalars(
                select(LetterTemplate).where(LetterTemplate.clinic_id == world.clinic_a)
            )
        }
        assert saved[LetterKind.UPDATE].opening == "Our clinic's own opening."
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "letter_templates.update", AuditEvent.outcome == "ok")
            )
            == 1
        )
    assert set(kinds) <= set(LetterKind)
    act_as(client, world.clinician.id)
    start_plan(app, world.patient.patient_id, world.clinician.id, [])
    add(app, world.clinic_a, "Dr Tom Whitfield")
    form = form_values(
        client.get(f"{letters_url(world.patient.patient_id)}/new?kind=update").get_data(
            as_text=True
        )
    )
    assert form["opening"] == "Our clinic's own opening."


def test_create_admin_seeds_the_letter_templates(app: Flask) -> None:
    """A clinic made from the command line starts with the three templates."""
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-admin",
            "--clinic",
            "Seeded Clinic",
            "--email",
            "a@seeded.example",
            "--password",
            "a long pass phrase 42",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        clinic = db.session.scalars(select(Clinic).where(Clinic.name == "Seeded Clinic")).one()
        kinds = set(
            db.session.scalars(
                select(LetterTemplate.kind).where(LetterTemplate.clinic_id == clinic.id)
            )
        )
    assert kinds == set(LetterKind)


# Writing a letter ------------------------------------------------------------------------


def test_the_letter_is_prefilled_with_the_engines_figures(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """The form's programme text carries the stage, dilator, minutes and frequency in
    force, and adherence over the report's default period exactly as the adherence rules
    compute it (whole sessions), naming the days counted (today only once logged); the
    red flag with its review; the pain scores with their change."""
    add(app, world.clinic_a, "Dr Amira Shah", email="gynae@hospital.example")
    form = form_values(
        client.get(f"{letters_url(world.patient.patient_id)}/new?kind=update").get_data(
            as_text=True
        )
    )
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        protocol = patient_protocols(patient.id, patient.clinic_id)[0]
        start = protocol.events[0].effective_on
        entries = db.session.scalars(
            select(DiaryEntry).where(DiaryEntry.protocol_id == protocol.id)
        ).all()
        expected = adherence_between(
            schedule_of(protocol),
            [ScoredSession.of(e) for e in entries],
            start,
            today(),
            patient.clinic.completion_pct,
            today=today(),
        )
        protocol_stages = protocol.versions[-1].stages
        stage = protocol_stages[1]
        size, minutes, frequency = stage.dilator_size.display, stage.minutes, stage.frequency
        flag = db.session.scalars(select(RedFlag)).one()
        flag_day = short_date(flag.entry.occurred_on)
    assert expected.prescribed > expected.completed > 0
    uncounted = (
        f" ({short_date(today())} not counted: nothing was logged that day before this was written)"
        if expected.last < today()
        else ""
    )
    assert (
        f"Adherence from {short_date(start)} to {short_date(expected.last)}{uncounted}: "
        f"{expected.percent:.0f}% ({expected.completed} of {expected.prescribed} prescribed "
        "sessions done)." in form["programme"]
    )
    stages = len(protocol_stages)
    assert f"stage 2 of {stages}, {size}, {minutes} minutes {frequency}." in form["programme"]
    assert not re.search(r"\d+\.\d+ (prescribed )?sessions", form["programme"])
    assert form["red_flags"].startswith(f"{flag_day}: ")
    assert "(8/10)" in form["red_flags"]
    assert "Reviewed by" in form["red_flags"]
    assert "Phoned; settled with rest." in form["red_flags"]
    assert "7" in form["measures"] and "3" in form["measures"] and "change" in form["measures"]
    # The title states the range: it is not repeated (a range, then the range again).
    assert form["measures"].startswith("Pain numeric rating scale (0\u201310): 7 ")
    assert "(0 to 10)" not in form["measures"]
    assert form["opening"] == DEFAULT_WORDING[LetterKind.UPDATE][0]
    assert form["ask"] == DEFAULT_WORDING[LetterKind.UPDATE][1]


def test_a_letter_with_the_report_is_one_tagged_pdf_kept_as_made(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """Written to two recipients (one by email, one to print) with the report attached:
    one PDF/UA document whose text has the letter's sections, the patient as letters
    identify them and the sign-off, then the report's pages (more pages than the letter
    alone) with a neutral title; kept with its SHA-256, downloaded identically twice under
    a discreet name; the emailed copy goes through the outbox with the same bytes attached;
    audited."""
    emailed = add(
        app,
        world.clinic_a,
        "Dr Amira Shah",
        email="gynae@hospital.example",
        role=RecipientRole.GYNAECOLOGIST,
    )
    printed = add(app, world.clinic_a, "Dr Tom Whitfield")
    response = compose(
        client,
        world.patient.patient_id,
        recipients=[emailed, printed],
        with_report="y",
        reason="Please review the plan.",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    plain = compose(client, world.patient.patient_id, recipients=[printed])
    assert plain.status_code == 302
    with_report, alone = stored_letters(app, world.patient.patient_id)

    assert with_report.with_report and not alone.with_report
    assert with_report.sha256 == hashlib.sha256(with_report.pdf).hexdigest()
    assert with_report.size_bytes == len(with_report.pdf)
    assert re.fullmatch(r"letter-\d{4}-\d{2}-\d{2}\.pdf", with_report.file_name)
    assert not any(w in with_report.file_name for w in GIVEAWAYS)

    pdf, short = read_pdf(with_report.pdf), read_pdf(alone.pdf)
    assert len(pdf.reader.pages) > len(short.reader.pages) >= 1
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        name, born, identifier = (
            patient.full_name,
            short_date(patient.date_of_birth),
            patient.clinic_identifier,
        )
        author = db.session.get(User, world.clinician.id)
        signer, role = author.full_name, author.role_label
    for words in (
        "Progress update",
        name,
        born,
        identifier,
        "Dear colleagues,",
        "Reason for this letter",
        "Please review the plan.",
        "The programme and where it stands",
        "Red flags and how they were handled",
        "Outcome measures",
        "Yours sincerely,",
        f"{role}, ",
        "Dr Amira Shah",
        "Dr Tom Whitfield",
        "Progress report (attached to the letter)",
        "Week by week",
    ):
        assert words in pdf.text, words
    assert signer in pdf.text
    assert "Progress report (attached" not in short.text
    assert "Dear Dr Tom Whitfield," in short.text
    catalog = pdf.reader.trailer["/Root"]
    assert "/StructTreeRoot" in catalog and catalog["/MarkInfo"]["/Marked"]
    assert str(catalog["/Lang"]).startswith("en")
    # Neutral, like the file name: viewers show the title in the window and tab.
    with app.app_context():
        clinic_name = db.session.get(Clinic, world.clinic_a).name
    assert pdf.reader.metadata.title == f"Letter from {clinic_name}, {long_date(today())}"
    assert name not in pdf.reader.metadata.title
    assert pdf.reader.metadata.author == signer

    url = f"{letters_url(world.patient.patient_id)}/{with_report.id}/download"
    first, second = client.get(url), client.get(url)
    assert first.data == second.data == with_report.pdf
    assert with_report.file_name in first.headers["Content-Disposition"]
    assert first.headers["Cache-Control"] == "no-store"

    by_name = {a.name: a for a in with_report.addressees}
    assert by_name["Dr Amira Shah"].delivery.by_email
    assert not by_name["Dr Tom Whitfield"].delivery.by_email
    with app.app_context():
        (message,) = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "letter")
        ).all()
        assert message.recipient == "gynae@hospital.example"
        # Sent by the queue at once in tests: the outbox row keeps no copy of the PDF.
        assert message.status.label == "Sent" and message.attachment is None
        assert message.attachment_name == with_report.file_name
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(
                    AuditEvent.action == "letter.create",
                    AuditEvent.patient_id == world.patient.patient_id,
                )
            )
            == 2
        )
    (mail,) = [m for m in sent_messages(app) if m.to == "gynae@hospital.example"]
    (attached,) = mail.attachments
    assert (attached.file_name, attached.content) == (with_report.file_name, with_report.pdf)
    assert name not in mail.subject and name not in mail.body
    page = text_of(
        client.get(f"{letters_url(world.patient.patient_id)}/{with_report.id}").get_data(
            as_text=True
        )
    )
    assert "To print:" in page and "Sent" in page
    listing = text_of(client.get(letters_url(world.patient.patient_id)).get_data(as_text=True))
    assert "Dr Amira Shah: secure email (sent)" in listing
    assert "Dr Tom Whitfield: to print and post" in listing


def test_the_referral_placeholder_must_be_completed(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """A referral starts with a part only the clinician can write; sent as it is, the
    form says so and no letter is made."""
    rid = add(app, world.clinic_a, "Dr Tom Whitfield")
    response = compose(client, world.patient.patient_id, kind="referral", recipients=[rid])
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Complete or remove the part in square brackets." in page
    assert TO_COMPLETE in unescape(page)
    assert stored_letters(app, world.patient.patient_id) == []


def test_no_recipient_or_an_archived_or_foreign_one_is_refused(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """No recipient chosen, an archived one, or one of another clinic: refused in plain
    words, nothing kept, nothing in the outbox."""
    add(app, world.clinic_a, "Dr Here")
    archived = add(app, world.clinic_a, "Dr Gone")
    foreign = add(app, world.clinic_b, "Dr Elsewhere", email="else@where.example")
    with app.app_context():
        db.session.get(Recipient, archived).archived_at = db.func.now()
        db.session.commit()
    assert "Choose at least one recipient." in compose(client, world.patient.patient_id).get_data(
        as_text=True
    )
    for rid in (archived, foreign):
        response = compose(client, world.patient.patient_id, recipients=[rid])
        assert response.status_code == 400
        assert "no longer in the address book" in response.get_data(as_text=True)
    assert stored_letters(app, world.patient.patient_id) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_referral_promises_no_course_while_it_is_awaited(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """A referral often follows a red flag, when the programme should not simply go on:
    the prefilled referral asks the recipient about continuing it rather than saying the
    clinic will."""
    add(app, world.clinic_a, "Dr Tom Whitfield")
    page = client.get(f"{letters_url(world.patient.patient_id)}/new?kind=referral")
    values = form_values(page.get_data(as_text=True))
    ask = str(values["ask"])
    assert "will continue" not in ask.lower()
    assert "whether the dilator programme should continue" in ask


def test_a_discharge_letter_states_no_completion_the_clinician_did_not_confirm(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """A discharge is not always a programme finished, and the record cannot say which: the
    prefilled discharge letter (here mid-programme, at stage 2) claims neither completion
    nor guidance the patient was given; it asks the clinician for the reason, and refuses
    to go until they give it."""
    rid = add(app, world.clinic_a, "Dr Tom Whitfield")
    page = client.get(f"{letters_url(world.patient.patient_id)}/new?kind=discharge")
    values = form_values(page.get_data(as_text=True))
    prefilled = " ".join(str(values[k]) for k in ("opening", "reason", "ask")).lower()
    for claim in ("complete", "has written guidance"):
        assert claim not in prefilled.replace(TO_COMPLETE_DISCHARGE.lower(), "")
    assert TO_COMPLETE_DISCHARGE in str(values["reason"])
    response = compose(client, world.patient.patient_id, kind="discharge", recipients=[rid])
    assert response.status_code == 400
    assert "Complete or remove the part in square brackets." in response.get_data(as_text=True)
    reason = str(values["reason"]).replace(TO_COMPLETE_DISCHARGE, "Moved out of the area.")
    response = compose(
        client, world.patient.patient_id, kind="discharge", recipients=[rid], reason=reason
    )
    assert response.status_code == 302
    (letter,) = stored_letters(app, world.patient.patient_id)
    assert "Reason for discharge: Moved out of the area." in letter.reason


@pytest.mark.parametrize(
    "junk",
    ["abc", str(2**31), str(2**70), "-1", "1.5", "\u00b2", "1" * 4301],
    ids=lambda junk: junk if len(junk) < 30 else f"{len(junk)} digits",
)
def test_a_recipient_id_that_is_no_id_is_refused_in_plain_words(
    app: Flask, client, world: World, course: int, as_clinician, junk: str
) -> None:
    """A recipient id that is not a number, or one past what an id column holds, is
    refused next to the field in plain words (never a database overflow and a 500)."""
    rid = add(app, world.clinic_a, "Dr Here", email="here@surgery.example")
    response = compose(client, world.patient.patient_id, recipients=[str(rid), junk])
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose recipients from the address book." in page
    assert "Choose at least one recipient." not in page
    assert stored_letters(app, world.patient.patient_id) == []


def test_an_address_that_became_a_patients_is_never_sent_to(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """A recipient whose address is now a patient's sign-in: the letter is refused."""
    rid = add(app, world.clinic_a, "Dr Moved", email="moved@hospital.example")
    with app.app_context():
        db.session.get(User, world.other_patient.id).email = "moved@hospital.example"
        db.session.commit()
    response = compose(client, world.patient.patient_id, recipients=[rid])
    assert response.status_code == 400
    assert "never sent to a patient" in response.get_data(as_text=True)
    assert stored_letters(app, world.patient.patient_id) == []


def test_another_patients_or_clinics_letter_is_not_found(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """A letter's URL under another patient, or opened by another clinic's clinician,
    answers 404."""
    rid = add(app, world.clinic_a, "Dr Tom Whitfield")
    assert compose(client, world.patient.patient_id, recipients=[rid]).status_code == 302
    (letter,) = stored_letters(app, world.patient.patient_id)
    other = world.other_patient.patient_id
    for suffix in ("", "/download"):
        assert client.get(f"{letters_url(other)}/{letter.id}{suffix}").status_code == 404
    act_as(client, world.other_clinician.id)
    for suffix in ("", "/download"):
        url = f"{letters_url(world.patient.patient_id)}/{letter.id}{suffix}"
        assert client.get(url).status_code == 404


def test_a_stored_letter_cannot_be_changed_or_deleted(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """The record of what was sent stands: the ORM refuses to change or delete it."""
    rid = add(app, world.clinic_a, "Dr Tom Whitfield")
    assert compose(client, world.patient.patient_id, recipients=[rid]).status_code == 302
    with app.app_context(), pytest.raises(LetterIsFinal), unit_of_work():
        letter = db.session.scalars(select(Letter)).one()
        letter.ask = "Changed."
        db.session.flush()
    with app.app_context(), pytest.raises(LetterIsFinal), unit_of_work():
        db.session.delete(db.session.scalars(select(Letter)).one())
        db.session.flush()


def test_the_letters_list_costs_the_same_queries_for_one_or_many(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """One letter or four, each to two recipients: the chart's list sends the same number
    of statements."""
    first = add(app, world.clinic_a, "Dr A", email="a@surgery.example")
    second = add(app, world.clinic_a, "Dr B")
    url = letters_url(world.patient.patient_id)
    with app.app_context():
        engine = db.engine

    def statements() -> int:
        with count_queries(engine) as seen:
            assert client.get(url).status_code == 200
        return len(seen)

    assert compose(client, world.patient.patient_id, recipients=[first, second]).status_code == 302
    one = statements()
    for _ in range(3):
        compose(client, world.patient.patient_id, recipients=[first, second])
    assert len(stored_letters(app, world.patient.patient_id)) == 4
    assert statements() == one


@pytest.mark.worker
def test_the_worker_delivers_the_letter_with_its_pdf_to_the_mail_server(
    app: Flask,
    client,
    world: World,
    course: int,
    as_clinician,
    sink,
    queue_url: str,
    database_url: str,
    tmp_path,
) -> None:
    """Through the real worker process and a real SMTP server: the recipient's message
    has a neutral subject and body and the letter attached byte for byte; the outbox row
    no longer holds the PDF; the letter's page says the copy was sent."""
    rid = add(app, world.clinic_a, "Dr Amira Shah", email="gynae@hospital.example")
    env = worker_environment(database_url, queue_url, sink.port, tmp_path)
    with running_worker(env, tmp_path):
        response = compose(client, world.patient.patient_id, recipients=[rid], with_report="y")
        assert response.status_code == 302
        wait_for(lambda: len(sink.received) >= 1, 60, "the letter at the SMTP server")
        wait_for(lambda: all(r.status.label == "Sent" for r in outbox_rows(app)), 30, "marked sent")
    (letter,) = stored_letters(app, world.patient.patient_id)
    (message,) = list(sink.received)
    assert message["To"] == "gynae@hospital.example"
    assert message["Subject"] == f"A letter from the clinic (reference L-{letter.id})"
    (part,) = list(message.iter_attachments())
    assert part.get_filename() == letter.file_name
    assert part.get_content_type() == "application/pdf"
    assert part.get_content() == letter.pdf
    body = message.get_body(("plain",)).get_content()
    with app.app_context():
        name = db.session.get(Patient, world.patient.patient_id).full_name
    assert name not in body and name not in message["Subject"]
    with app.app_context():
        (row,) = db.session.scalars(select(OutboxMessage)).all()
        assert row.attachment is None and row.body == ""
    page = text_of(
        client.get(f"{letters_url(world.patient.patient_id)}/{letter.id}").get_data(as_text=True)
    )
    # (The address may wrap: the page marks where, which reads here as spaces.)
    assert re.search(r"Secure email to gynae.*?example Sent \d{2} \w{3} \d{4}", page)


def test_the_same_form_sent_twice_makes_one_letter_and_one_message_each(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """A double submit (the same form, same one-time key, posted twice): one letter, one
    outbox message per recipient; the second answer redirects to the first letter."""
    first = add(app, world.clinic_a, "Dr A", email="a@surgery.example")
    second = add(app, world.clinic_a, "Dr B", email="b@hospital.example")
    url = letters_url(world.patient.patient_id)
    values: dict[str, object] = form_values(
        client.get(f"{url}/new?kind=update").get_data(as_text=True)
    )
    values.pop("with_report", None)
    values["recipients"] = [first, second]
    assert values["key"]
    once = client.post(f"{url}/new", data=values)
    again = client.post(f"{url}/new", data=values)
    (letter,) = stored_letters(app, world.patient.patient_id)
    assert once.status_code == again.status_code == 302
    assert once.headers["Location"] == again.headers["Location"] == f"{url}/{letter.id}"
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage)).all()
        assert sorted(r.recipient for r in rows) == ["a@surgery.example", "b@hospital.example"]
    # A form without its key (out of date) is refused in plain words, nothing made.
    values.pop("key")
    stale = client.post(f"{url}/new", data=values)
    assert stale.status_code == 400
    assert "This form is out of date" in stale.get_data(as_text=True)
    assert len(stored_letters(app, world.patient.patient_id)) == 1


def test_a_changed_address_or_an_archived_recipient_withdraws_the_unsent_copies(
    app: Flask, client, world: World, course: int, as_clinician
) -> None:
    """When a recipient's email is changed, their letter messages still waiting or failed
    are cancelled (body and PDF emptied): the worker and an administrator's "send again"
    cannot use the old address; the letter's page says the copy was not sent and why.
    Other edits change nothing; archiving another recipient withdraws theirs."""
    first = add(app, world.clinic_a, "Dr A", email="a@surgery.example")
    second = add(app, world.clinic_a, "Dr B", email="b@hospital.example")
    url = letters_url(world.patient.patient_id)
    assert compose(client, world.patient.patient_id, recipients=[first, second]).status_code == 302
    assert compose(client, world.patient.patient_id, recipients=[first]).status_code == 302
    letter = stored_letters(app, world.patient.patient_id)[0]
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        for row in rows:  # not yet sent (the test's queue may have sent them)
            row.status, row.body, row.attachment = MessageStatus.PENDING, "Body", b"%PDF"
            row.sent_at = None
        (failed, *_) = rows
        assert failed.recipient == "a@surgery.example"
        failed.status = MessageStatus.FAILED
        failed.last_error = "550 mailbox unavailable"
        failed_id = failed.id
        db.session.commit()

    def statuses() -> dict[tuple[str, int], MessageStatus]:
        with app.app_context():
            return {
                (r.recipient, r.id): r.status for r in db.session.scalars(select(OutboxMessage))
            }

    values = form_values(client.get(f"/recipients/{first}/edit").get_data(as_text=True))
    values["service"] = "Practice nurse team"
    assert client.post(f"/recipients/{first}/edit", data=values).status_code == 302
    assert MessageStatus.CANCELLED not in statuses().values()

    values["email"] = "a.new@surgery.example"
    assert client.post(f"/recipients/{first}/edit", data=values).status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        to_a = [r for r in rows if r.recipient == "a@surgery.example"]
        assert len(to_a) == 2
        assert all(r.status is MessageStatus.CANCELLED for r in to_a)
        assert all(r.body == "" and r.attachment is None for r in to_a)
        (to_b,) = [r for r in rows if r.recipient == "b@hospital.example"]
        assert to_b.status is MessageStatus.PENDING
    page = text_of(client.get(f"{url}/{letter.id}").get_data(as_text=True))
    assert "Not sent Reason: withdrawn because the recipient's email address was changed." in page
    act_as(client, world.admin.id)
    assert client.post(f"/admin/outbox/{failed_id}/retry").status_code in (302, 400)
    assert statuses()[("a@surgery.example", failed_id)] is MessageStatus.CANCELLED

    act_as(client, world.clinician.id)
    assert client.post(f"/recipients/{second}/archive").status_code == 302
    assert set(statuses().values()) == {MessageStatus.CANCELLED}
    page = text_of(client.get(f"{url}/{letter.id}").get_data(as_text=True))
    assert "Reason: withdrawn because the recipient was archived." in page


@pytest.mark.worker
def test_the_worker_refuses_a_letter_to_an_address_that_became_a_patients(
    app: Flask,
    client,
    world: World,
    course: int,
    as_clinician,
    sink,
    queue_url: str,
    database_url: str,
    tmp_path,
) -> None:
    """A letter queued to an address that, before the worker sends it, became a patient's
    sign-in or the new address of a patient's pending email change: the real worker marks
    each copy failed with a plain reason, and nothing reaches the real SMTP server; an
    administrator's "send again" is refused again."""
    first = add(app, world.clinic_a, "Dr Moved", email="moved@hospital.example")
    second = add(app, world.clinic_a, "Dr Pending", email="pending@hospital.example")
    response = compose(client, world.patient.patient_id, recipients=[first, second])
    assert response.status_code == 302
    with app.app_context():
        assert {r.status for r in db.session.scalars(select(OutboxMessage))} == {
            MessageStatus.PENDING
        }
        db.session.get(User, world.other_patient.id).email = "moved@hospital.example"
        invitation, _token = Invitation.issue(
            db.session.get(User, world.patient.id),
            None,
            valid_days=1,
            purpose=EMAIL_CHANGE,
            new_email="pending@hospital.example",
        )
        db.session.add(invitation)
        db.session.commit()
    env = worker_environment(database_url, queue_url, sink.port, tmp_path)
    with running_worker(env, tmp_path):
        wait_for(lambda: all(r.status.failed for r in outbox_rows(app)), 60, "both copies failed")
    assert sink.received == []
    rows = outbox_rows(app)
    assert {r.last_error for r in rows} == {PATIENT_ADDRESS_NOW}
    (letter,) = stored_letters(app, world.patient.patient_id)
    page = text_of(
        client.get(f"{letters_url(world.patient.patient_id)}/{letter.id}").get_data(as_text=True)
    )
    assert page.count(f"Failed Reason: {PATIENT_ADDRESS_NOW}.") == 2
    with running_worker(env, tmp_path):
        act_as(client, world.admin.id)
        assert client.post(f"/admin/outbox/{rows[0].id}/retry").status_code == 302
        wait_for(lambda: outbox_rows(app)[0].status.failed, 60, "refused again")
    assert sink.received == []


@pytest.mark.parametrize(
    ("title", "scale", "shown"),
    [
        ("Pain numeric rating scale (0\u201310)", "0 to 10", ""),
        ("Pain score 0-10", "0 to 10", ""),
        ("Female Sexual Function Index", "2 to 36", " (2 to 36)"),
        ("Pain (0\u201310)", "0 to 20", " (0 to 20)"),
        ("Pain numeric rating scale", "", ""),
    ],
)
def test_a_measures_range_is_said_once(title: str, scale: str, shown: str) -> None:
    """The letter adds a measure's range after its title only when the title does not
    already state that range."""
    assert _scale_note(title, scale) == shown
