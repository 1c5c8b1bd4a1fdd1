"""The MDT pack: a contents page and one page per ticked patient, with the figures of the
last four weeks from the same rules as the timeline, the flags of those weeks with how
each was handled and the latest decision; only the clinic's own patients, at most 40,
for clinicians only, at a fixed number of queries."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from clinic.core.clock import clinic_today
from clinic.domain.adherence import adherence_between
from clinic.domain.diary import FlagReason
from clinic.domain.flags import FlagKind
from clinic.domain.progression import Suggestion
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.models import CareFlag, Clinic, DiaryEntry, Patient, Protocol, RedFlag, User
from clinic.monitoring.evidence import ScoredSession, schedule_of
from clinic.protocols.services import record_event
from tests.support.auth import act_as
from tests.support.diaries import ZONE, add_entries, refresh, report_red_flag
from tests.support.factories import make_user
from tests.support.mdt import make_pack
from tests.support.protocols import start_plan
from tests.support.queries import count_queries
from tests.support.reports import UNBROKEN_WORD, widest_run_fits_the_page
from tests.support.world import World

URL = "/mdt/"


@dataclass(frozen=True)
class Caseload:
    """Clinic A's three patients: PATIENT (the clinician's own, with a red flag and pain
    easing over four weeks), OTHER_PATIENT (a colleague's, a few easy sessions) and one
    with no program and no portal."""

    own: int
    own_protocol: int
    colleague: int
    offline: int


@pytest.fixture
def caseload(app: Flask, world: World) -> Caseload:
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        patient.responsible_clinician_id = world.clinician.id
        colleagues_patient = db.session.get(Patient, world.other_patient.patient_id)
        colleagues_patient.responsible_clinician_id = world.colleague.id
        db.session.commit()
    own = start_plan(app, world.patient.patient_id, world.clinician.id, started_days_ago=30)
    add_entries(app, own, world.patient, [20, 18, 16], pain=(5, 4))
    add_entries(app, own, world.patient, range(1, 11), pain=(3, 2))
    report_red_flag(app, world.patient, own)  # today, pain 3 and 2, with sharp pain
    other = start_plan(app, world.other_patient.patient_id, world.colleague.id)
    add_entries(app, other, world.other_patient, range(2, 6), pain=(2, 1))
    refresh(app, world.clinic_a)
    return Caseload(
        world.patient.patient_id, own, world.other_patient.patient_id, world.offline_patient_id
    )


@dataclass(frozen=True)
class Patientish:
    name: str
    identifier: str


def people(app: Flask, *patient_ids: int) -> list[Patientish]:
    with app.app_context():
        return [
            Patientish(p.full_name, p.clinic_identifier)
            for p in (db.session.get(Patient, i) for i in patient_ids)
        ]


def today():
    return clinic_today(ZONE)


# A moment as the pack prints it: "30 Nov 2026 12:00".
WHEN = r"\d\d \w{3} \d{4} \d\d:\d\d"


def days_ago(days: int) -> datetime:
    """Noon (UTC) `days` days ago."""
    return datetime.combine(today() - timedelta(days=days), time(12), UTC)


def add_red_flag(
    app: Flask,
    person,
    protocol_id: int,
    ago: int,
    reason: FlagReason,
    *,
    acknowledged_by: int | None = None,
    note: str = "",
) -> None:
    """A session `ago` days ago that raised a red flag, acknowledged by `acknowledged_by`
    the next day with `note` (or left open)."""
    add_entries(app, protocol_id, person, [ago], pain=(8, 6))
    with app.app_context():
        entry = db.session.scalars(
            select(DiaryEntry)
            .where(DiaryEntry.patient_id == person.patient_id)
            .order_by(DiaryEntry.id.desc())
        ).first()
        db.session.add(
            RedFlag(
                clinic_id=entry.clinic_id,
                patient_id=entry.patient_id,
                entry_id=entry.id,
                reason=reason,
                pain=8 if reason is FlagReason.HIGH_PAIN else None,
                raised_at=days_ago(ago),
                acknowledged_at=days_ago(ago - 1) if acknowledged_by else None,
                acknowledged_by_id=acknowledged_by,
                acknowledgement=note,
                escalated_level=2,
            )
        )
        db.session.commit()


def add_care_flag(
    app: Flask,
    clinic_id: int,
    patient_id: int,
    kind: FlagKind,
    ago: int,
    detail: str,
    *,
    acknowledged_by: int | None = None,
    note: str = "",
    handled: bool = False,
) -> None:
    """A rule flag raised `ago` days ago; handled the next day (by `acknowledged_by`, or
    by the system when none) with `note`, or left open."""
    with app.app_context():
        db.session.add(
            CareFlag(
                clinic_id=clinic_id,
                patient_id=patient_id,
                kind=kind,
                key=f"test:{kind}:{ago}:{detail[:20]}",
                detail=detail,
                raised_at=days_ago(ago),
                acknowledged_at=days_ago(ago - 1) if handled or acknowledged_by else None,
                acknowledged_by_id=acknowledged_by,
                acknowledgement=note,
            )
        )
        db.session.commit()


def record_decision(
    app: Flask,
    protocol_id: int,
    kind: EventKind,
    by: int,
    ago: int,
    reason: str,
    suggested: Suggestion | None = None,
) -> None:
    """The clinician `by` records `kind`, effective `ago` days ago, as the page does."""
    with app.app_context():
        protocol = db.session.get(Protocol, protocol_id)
        record_event(
            protocol,
            kind,
            db.session.get(User, by),
            expected_lock=str(protocol.lock_version),
            effective_on=today() - timedelta(days=ago),
            today=today(),
            reason=reason,
            suggested=suggested,
        )
        db.session.commit()


def post(client, patient_ids, meeting_on=None, **extra):
    """Ask for a pack and download it (or the form's refusal)."""
    return make_pack(client, patient_ids, meeting_on or today(), **extra)


def text_of(reader: PdfReader, page: int) -> str:
    return " ".join(reader.pages[page].extract_text().split())


def test_pack_has_a_contents_page_and_a_page_per_patient(
    app: Flask, client, world: World, caseload: Caseload, as_clinician
) -> None:
    """The download is a private PDF attachment with a neutral name; its contents page
    lists every patient with the page their summary is on, and each page carries the
    patient's name and identifier. The PDF is tagged and titled."""
    meeting = today() + timedelta(days=3)
    response = post(client, [caseload.own, caseload.colleague, caseload.offline], meeting)

    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f"attachment; filename=mdt-pack-{meeting.isoformat()}.pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    assert len(reader.pages) == 1 + 3
    assert reader.metadata.title == f"MDT pack, meeting on {meeting.day} {meeting:%b %Y}"
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]

    contents = reader.pages[0].extract_text()
    assert "Contents" in contents
    for person in people(app, caseload.own, caseload.colleague, caseload.offline):
        line = re.search(
            rf"^{re.escape(person.name)} \({re.escape(person.identifier)}\).*?(\d+)\s*$",
            contents,
            re.MULTILINE,
        )
        assert line, f"{person.name} is not listed with a page number"
        page = int(line.group(1))
        text = text_of(reader, page - 1)
        assert person.name in text and person.identifier in text
    # Most urgent first: the red flag puts the clinician's own patient on page 2.
    assert people(app, caseload.own)[0].name in text_of(reader, 1)


def test_figures_match_the_rules_and_the_wording_is_neutral(
    app: Flask, client, world: World, caseload: Caseload
) -> None:
    """Sessions completed of prescribed over the 28 days are the adherence rule's figures
    for the same data; mean pain compares the first two weeks (5.0) with the last two
    (3.0); the open red flag and the suggestion with its reasons are shown."""
    with app.app_context():
        protocol = db.session.get(Protocol, caseload.own_protocol)
        clinic = db.session.get(Clinic, world.clinic_a)
        first, last = today() - timedelta(days=27), today()
        entries = db.session.scalars(
            select(DiaryEntry).where(DiaryEntry.protocol_id == protocol.id)
        ).all()
        expected = adherence_between(
            schedule_of(protocol),
            [ScoredSession.of(e) for e in entries],
            first,
            last,
            clinic.completion_pct,
        )
    act_as(client, world.clinician.id)
    reader = PdfReader(io.BytesIO(post(client, [caseload.own]).get_data()))
    assert len(reader.pages) == 2
    text = text_of(reader, 1)
    assert (
        f"Adherence, last 28 days: {expected.percent:.0f}% "
        f"({expected.completed} of {expected.prescribed} sessions)."
    ) in text
    assert "5.0/10 in the first two weeks, 3.0/10 in the last two" in text
    assert "Red flag: Sharp pain" in text and "not yet reviewed" in text
    assert "Suggested next step: Review" in text
    assert "Not met: " in text
    assert "stage 1 of" in text and "Size 1 (13 mm)" in text
    everything = " ".join(text_of(reader, i) for i in range(len(reader.pages))).lower()
    assert "complian" not in everything


def test_patients_without_a_program_or_a_diary_get_a_plain_page(
    app: Flask, client, world: World, caseload: Caseload, as_clinician
) -> None:
    """No program: said so, with no figures, no suggestion and no chart."""
    reader = PdfReader(io.BytesIO(post(client, [caseload.offline]).get_data()))
    text = text_of(reader, 1)
    assert "Stage: no program running." in text
    assert "Suggested next step None: no program is running." in text
    assert "No sessions with pain scores in the last four weeks." in text


def test_form_ticks_my_running_programs_and_lists_most_urgent_first(
    app: Flask, client, world: World, caseload: Caseload, as_clinician
) -> None:
    """By default the list is my active patients, and those with a program are ticked;
    the whole clinic can be listed, a colleague's patients unticked."""
    html = client.get(URL).get_data(as_text=True)
    assert re.search(rf'id="patient-{caseload.own}"[^>]*checked', html)
    assert f'id="patient-{caseload.colleague}"' not in html

    html = client.get(URL + "?who=all").get_data(as_text=True)
    assert re.search(rf'id="patient-{caseload.own}"[^>]*checked', html)
    assert re.search(rf'id="patient-{caseload.colleague}"[^>]*>', html)
    assert not re.search(rf'id="patient-{caseload.colleague}"[^>]*checked', html)
    assert not re.search(rf'id="patient-{caseload.offline}"[^>]*checked', html)
    # Most urgent first: the red-flagged patient before the others.
    assert html.index(f'id="patient-{caseload.own}"') < html.index(
        f'id="patient-{caseload.colleague}"'
    )
    world_b = people(app, world.other_clinic_patient.patient_id)[0]
    assert world_b.name not in html


@pytest.mark.parametrize(
    ("ids", "meeting_days", "message"),
    [
        ("none", 0, "Tick at least one patient."),
        ("junk", 0, "Tick patients from the list only."),
        ("superscript", 0, "Tick patients from the list only."),
        ("4301 digits", 0, "Tick patients from the list only."),
        ("too_many", 0, "Tick at most 40 patients for one pack (you ticked 41)."),
        ("own", 200, "Choose a meeting date from"),
        ("own", -30, "Choose a meeting date from"),
    ],
)
def test_invalid_requests_are_refused_with_a_reason(
    app: Flask, client, world: World, caseload: Caseload, ids, meeting_days, message
) -> None:
    """Nothing is made without a patient, with junk for an id, with more than 40 patients
    or for a meeting date far from today; the form says why."""
    chosen = {
        "none": [],
        "junk": ["abc"],
        "superscript": ["\u00b2"],
        "4301 digits": ["1" * 4301],
        "too_many": list(range(1, 42)),
        "own": [caseload.own],
    }[ids]
    act_as(client, world.clinician.id)
    response = post(client, chosen, today() + timedelta(days=meeting_days))
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert message in response.get_data(as_text=True)


def test_another_clinics_patient_is_refused_and_nothing_is_rendered(
    app: Flask, client, world: World, caseload: Caseload, as_clinician
) -> None:
    """An id of another clinic's patient (or of no one) among the ticked ones: the whole
    request is refused, and nothing about that patient appears."""
    other = people(app, world.other_clinic_patient.patient_id)[0]
    for stranger in (world.other_clinic_patient.patient_id, 999_999):
        response = post(client, [caseload.own, stranger])
        assert response.status_code == 400
        assert response.mimetype == "text/html"
        html = response.get_data(as_text=True)
        assert "1 of the chosen patients is not a patient of this clinic" in html
        assert other.name not in html and other.identifier not in html


@pytest.mark.parametrize("who", ["anonymous", "patient", "admin", "other_clinic_admin"])
def test_only_clinicians_may_make_a_pack(
    app: Flask, client, world: World, caseload: Caseload, who: str
) -> None:
    """Signed-out visitors are sent to sign in; patients and admins are refused."""
    person = {
        "anonymous": None,
        "patient": world.patient,
        "admin": world.admin,
        "other_clinic_admin": world.other_admin,
    }[who]
    if person is not None:
        act_as(client, person.id)
    for response in (client.get(URL), post(client, [caseload.own])):
        if person is None:
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code == 403
        assert response.mimetype != "application/pdf"


def test_query_count_does_not_grow_with_the_patients(
    app: Flask, client, world: World, caseload: Caseload, as_clinician
) -> None:
    """Asking for, making and downloading a pack for three patients reads with as many
    queries as for one; only the job's progress grows, one short update per patient.
    The two added patients' flags were handled, and the last one's completed program
    decided, by people named nowhere else in the pack: who handled and who decided are
    read with the flags and decisions, never one query per patient."""
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        locums = [make_user(clinic).id for _ in range(3)]
        db.session.commit()
    other = start_plan(app, world.other_patient.patient_id, world.colleague.id)
    add_red_flag(
        app,
        world.other_patient,
        other,
        3,
        FlagReason.SHARP_PAIN,
        acknowledged_by=locums[0],
        note="Called back.",
    )
    add_care_flag(
        app,
        world.clinic_a,
        caseload.colleague,
        FlagKind.NOT_LOGGING,
        4,
        "No entry.",
        acknowledged_by=locums[1],
        note="On holiday.",
    )
    finished = start_plan(app, caseload.offline, world.colleague.id, started_days_ago=30)
    record_decision(app, finished, EventKind.COMPLETE, locums[2], 2, "Discharged.")
    with app.app_context():
        engine = db.engine

    token = client.fetch_csrf_token()  # outside the count: it visits another page

    def queries(ids: list[int]) -> tuple[int, int]:
        with count_queries(engine) as statements:
            assert post(client, ids, csrf_token=token).status_code == 200
        progress = [s for s in statements if s.startswith("UPDATE job_runs SET done=")]
        return len(statements) - len(progress), len(progress)

    one = queries([caseload.own])
    print("DBG", one)
    three = queries([caseload.own, caseload.colleague, caseload.offline])
    print("DBG", three)
    assert one[0] == three[0]
    assert (one[1], three[1]) == (1, 3)


def test_flags_of_the_four_weeks_show_how_each_was_handled(
    app: Flask, client, world: World, caseload: Caseload, as_clinician
) -> None:
    """The page lists the red flags and rule flags of the last 28 days with how each was
    handled (by whom, when, the note; the system's own closing note), and those still
    open however old; flags handled before the 28 days are left out."""
    patient, own = world.patient, caseload.own_protocol
    add_red_flag(
        app,
        patient,
        own,
        6,
        FlagReason.HIGH_PAIN,
        acknowledged_by=world.colleague.id,
        note="Phoned; settled with rest.",
    )
    add_red_flag(app, patient, own, 29, FlagReason.BLEEDING)  # old, still open
    add_red_flag(
        app,
        patient,
        own,
        29,
        FlagReason.DEVICE_STUCK,
        acknowledged_by=world.clinician.id,
        note="Old episode, long settled.",
    )
    clinic = world.clinic_a
    add_care_flag(
        app,
        clinic,
        caseload.own,
        FlagKind.NOT_LOGGING,
        10,
        "No entry for 5 days.",
        acknowledged_by=world.clinician.id,
        note="Away on holiday; back next week.",
    )
    add_care_flag(
        app,
        clinic,
        caseload.own,
        FlagKind.READY,
        12,
        "Stage 1: every condition met.",
        note="Closed by the system: the evidence no longer suggests moving up.",
        handled=True,
    )
    add_care_flag(
        app,
        clinic,
        caseload.own,
        FlagKind.REVIEW_DUE,
        40,
        "Review due on a long-past day.",
        acknowledged_by=world.clinician.id,
        note="Seen in clinic.",
    )

    reader = PdfReader(io.BytesIO(post(client, [caseload.own]).get_data()))
    text = " ".join(text_of(reader, i) for i in range(1, len(reader.pages)))

    # Open: today's sharp pain (the fixture's), the old bleeding and whatever the rules
    # raised; handled: the three of the last 28 days.
    with app.app_context():
        still_open = sum(
            len(
                db.session.scalars(
                    select(model).where(
                        model.patient_id == caseload.own, model.acknowledged_at.is_(None)
                    )
                ).all()
            )
            for model in (RedFlag, CareFlag)
        )
    assert f"Flags, last 28 days: {still_open} open, 3 handled" in text
    assert "Red flag: Sharp pain, session of" in text
    bleeding = (
        f"Red flag: Bleeding beyond spotting, session of {(today() - timedelta(days=29)).day}"
    )
    assert bleeding in text and "not yet reviewed" in text
    assert re.search(
        rf"Red flag: High pain \(8/10\), session of [^;]+; acknowledged by "
        rf"{re.escape(world.colleague.name)} on {WHEN}: Phoned; settled with rest\.",
        text,
    )
    assert re.search(
        rf"Not logging \(needs attention\): No entry for 5 days; raised {WHEN}; acknowledged by "
        rf"{re.escape(world.clinician.name)} on {WHEN}: Away on holiday; back next week\.",
        text,
    )
    assert re.search(
        rf"Ready to advance \(for information\): Stage 1: every condition met; raised {WHEN}; "
        rf"handled on {WHEN}: Closed by the system: the evidence no longer suggests moving up\.",
        text,
    )
    for old in ("Could not be removed", "Old episode", "Review due on a long-past day"):
        assert old not in text
    # The contents counts the open red flags.
    assert "open red flag \N{MULTIPLICATION SIGN}2" in text_of(reader, 0)


def test_latest_decision_is_shown_with_date_author_and_reason(
    app: Flask, client, world: World, caseload: Caseload, as_clinician
) -> None:
    """Each page gives the latest decision recorded (kind, stage, effective day, who, the
    suggestion it answered, the reason); a patient whose program was completed shows that,
    and one who never had a program says so."""
    record_decision(
        app,
        caseload.own_protocol,
        EventKind.HOLD,
        world.colleague.id,
        2,
        "Pain 4/10 at this size: two more weeks.",
        Suggestion.ADVANCE,
    )
    with app.app_context():
        finished = db.session.scalar(
            select(Protocol.id).where(Protocol.patient_id == caseload.colleague)
        )
    record_decision(
        app, finished, EventKind.COMPLETE, world.clinician.id, 1, "Goals met; discharged."
    )
    reader = PdfReader(io.BytesIO(post(client, [caseload.own, caseload.colleague]).get_data()))
    pages = {i: text_of(reader, i) for i in range(1, len(reader.pages))}
    own_name, colleague_name = (p.name for p in people(app, caseload.own, caseload.colleague))
    own = " ".join(t for t in pages.values() if own_name in t)
    other = " ".join(t for t in pages.values() if colleague_name in t)

    held_on = today() - timedelta(days=2)
    assert (
        f"Latest decision Held at stage, stage 1, from {held_on.day} {held_on:%b %Y}; "
        f"recorded by {world.colleague.name} on "
    ) in own
    assert (
        "The system had suggested: advance. Reason: Pain 4/10 at this size: two more weeks." in own
    )
    assert "Latest decision Completed, stage 1, from " in other
    assert f"recorded by {world.clinician.name}" in other
    assert "(no longer running)" in other and "Reason: Goals met; discharged." in other

    offline = PdfReader(io.BytesIO(post(client, [caseload.offline]).get_data()))
    assert "Latest decision None: no program has been started." in text_of(offline, 1)


def test_a_long_unbroken_reason_wraps_on_the_page(
    app: Flask, client, world: World, caseload: Caseload, as_clinician
) -> None:
    """The latest decision's reason holding a 200-character word with no break in it is
    printed whole, wrapped onto lines that fit the page, rather than running off its
    right edge."""
    record_decision(
        app, caseload.own_protocol, EventKind.HOLD, world.clinician.id, 1, UNBROKEN_WORD
    )
    pdf = post(client, [caseload.own]).get_data()
    longest, fits = widest_run_fits_the_page(pdf)
    assert longest <= fits, f"{longest} characters on one line; the page holds {fits}"


def test_adherence_figures_each_name_their_window(
    app: Flask, client, world: World, caseload: Caseload, as_clinician
) -> None:
    """Every adherence figure on a page says which days it covers: the pack's last 28
    days, and the suggestion's days at this stage; never a bare "adherence 60%" beside
    another figure, never a fraction of a session."""
    reader = PdfReader(io.BytesIO(post(client, [caseload.own]).get_data()))
    text = " ".join(text_of(reader, i) for i in range(1, len(reader.pages)))
    figures = re.findall(r"[Aa]dherence([^%]*?)\d+%", text)
    assert figures, text
    for named in figures:
        assert "last 28 days" in named or "at this stage" in named, named
    assert "Adherence, last 28 days: " in text
    assert re.search(r"adherence at this stage, last \d+ days?: \d+% \([≥<] \d+%\)", text)
    assert not re.search(r"\d+\.\d+ sessions", text)


def test_a_patient_without_a_diary_has_no_figures_of_sessions(
    app: Flask, client, world: World, caseload: Caseload, as_clinician
) -> None:
    """A patient on a program who does not use the portal: adherence and pain are not
    known (no diary), never "0%" nor "no sessions", which would read as sessions missed."""
    start_plan(app, caseload.offline, world.clinician.id, started_days_ago=30)
    reader = PdfReader(io.BytesIO(post(client, [caseload.offline]).get_data()))
    text = " ".join(text_of(reader, i) for i in range(1, len(reader.pages)))
    assert (
        "Adherence, last 28 days: not known: the patient does not use the portal, so there is"
        " no diary of the sessions done." in text
    )
    assert "mean): not known: no diary." in text
    assert "no sessions in the first two weeks" not in text and "0%" not in text
