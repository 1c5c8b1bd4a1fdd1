"""The commands: `create-admin`, `seed-demo`, `refresh-summaries` and `report`."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import undefer

from clinic.auth.services import authenticate
from clinic.core.clock import clinic_today
from clinic.demo import DEMO_PASSWORD
from clinic.domain.flags import FlagKind
from clinic.domain.indications import Indication
from clinic.domain.progression import Suggestion
from clinic.domain.protocols import ProtocolStatus, in_force_on
from clinic.extensions import db
from clinic.models import (
    CareFlag,
    Clinic,
    DiaryEntry,
    Patient,
    PatientSummary,
    Protocol,
    RedFlag,
    Report,
    Role,
    User,
)
from clinic.protocols import integrity
from clinic.protocols.queries import timeline, version
from clinic.reporting.progress import default_period
from tests.support.diaries import ZONE, add_entries
from tests.support.factories import make_patient
from tests.support.protocols import start_plan
from tests.support.world import World


def run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def test_create_admin_starts_a_clinic(app: Flask) -> None:
    """The command creates the clinic and an admin who can sign in."""
    result = run(
        app,
        "create-admin",
        "--clinic",
        "Harbour Physio",
        "--email",
        "Boss@Harbour.example",
        "--password",
        "a long enough passphrase",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "boss@harbour.example"))
        assert admin.role is Role.ADMIN and admin.clinic.name == "Harbour Physio"
        assert authenticate("boss@harbour.example", "a long enough passphrase") == [admin]


def test_create_admin_prompts_for_the_password(app: Flask) -> None:
    """Without --password the command asks for it twice, hidden."""
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--clinic", "Prompted", "--email", "p@prompted.example"],
        input="a long enough passphrase\na long enough passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "a long enough passphrase" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--password", "short"], "Use at least 12 characters"),
        (["--password", "password1234"], "too common"),
        (["--email", "not-an-email"], "Give an email address"),
        (["--clinic", "Clinic A"], "already exists"),
    ],
)
def test_create_admin_refuses_bad_input(app: Flask, world: World, args: list, message: str) -> None:
    """Weak passwords, bad emails and existing clinics are refused with a reason."""
    base = {
        "--clinic": "New Clinic",
        "--email": "new@clinic.example",
        "--password": "a long enough passphrase",
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = run(app, "create-admin", *[x for pair in base.items() for x in pair])
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Clinic)) == 2


def test_seed_demo_fills_an_empty_database(app: Flask) -> None:
    """Demo data has both clinics and every documented login working."""
    result = run(app, "seed-demo")
    assert result.exit_code == 0, result.output
    expected = {
        "admin@northside.example": Role.ADMIN,
        "physio@northside.example": Role.CLINICIAN,
        "physio2@northside.example": Role.CLINICIAN,
        "avery.quinn@example.org": Role.PATIENT,
        "sam.rivera@example.org": Role.PATIENT,
        "admin@riverside.example": Role.ADMIN,
        "physio@riverside.example": Role.CLINICIAN,
        "jordan.blake@example.org": Role.PATIENT,
    }
    with app.app_context():
        for email, role in expected.items():
            [user] = authenticate(email, DEMO_PASSWORD)
            assert user.role is role, email
        northside = db.session.scalar(
            select(Clinic).where(Clinic.name == "Northside Pelvic Health")
        )
        patients = db.session.scalars(
            select(Patient).where(Patient.clinic_id == northside.id)
        ).all()
        assert len(patients) >= 6
        assert len({p.indication for p in patients}) >= 6
        assert len({p.pronouns for p in patients}) >= 3  # not everyone is a woman
        avery = next(p for p in patients if p.full_name == "Avery Quinn")
        assert avery.indication.value == "vaginoplasty" and avery.user is not None


def test_seed_demo_refuses_a_non_empty_database(app: Flask, world: World) -> None:
    """Demo data never mixes with real data; --if-empty makes that a quiet no-op."""
    refused = run(app, "seed-demo")
    assert refused.exit_code != 0 and "not empty" in refused.output
    quiet = run(app, "seed-demo", "--if-empty")
    assert quiet.exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Clinic)) == 2


def test_demo_protocols_are_realistic_and_intact(app: Flask) -> None:
    """Every demo patient has a protocol with a genuine history: Avery Quinn is in the
    maintenance phase after vaginoplasty with a revised plan, Sam Rivera is midway through
    graded exposure, Priya Natarajan is paused; every record's fingerprints verify (on
    this database engine, whatever it returns for stored numbers). The surgeon-directed
    programs record the surgeon and a procedure before the start; Morgan Ellis started
    after the clinic's interval following radiotherapy; the new templates are in use."""
    assert run(app, "seed-demo").exit_code == 0
    with app.app_context():
        protocols = {p.patient.full_name: p for p in db.session.scalars(select(Protocol))}
        assert len(protocols) == 11
        assert all(integrity.verify(p) for p in protocols.values())
        for name in ("Avery Quinn", "Lee Chen"):
            started = protocols[name].events[0].effective_on
            assert protocols[name].surgeon_direction
            assert protocols[name].procedure_on is not None
            assert protocols[name].procedure_on <= started
        morgan = protocols["Morgan Ellis"]
        ended = morgan.patient.radiotherapy_ended_on
        assert ended is not None
        weeks = morgan.patient.clinic.radiotherapy_weeks
        assert morgan.events[0].effective_on >= ended + timedelta(weeks=weeks)
        assert morgan.patient.name_to_use == ""  # greeted with a plain "Hello"
        assert protocols["Daniel Okafor"].indication is Indication.CHRONIC_PELVIC_PAIN
        assert protocols["Rhiannon Price-Davies"].indication is Indication.VAGINAL_AGENESIS
        today = clinic_today("Europe/London")
        avery = in_force_on(timeline(protocols["Avery Quinn"]), today)
        avery_stages = version(protocols["Avery Quinn"], avery.version).stages
        assert avery_stages[avery.stage - 1].is_maintenance and avery.version == 2
        sam = in_force_on(timeline(protocols["Sam Rivera"]), today)
        assert 1 < sam.stage < len(protocols["Sam Rivera"].versions[-1].stages)
        assert protocols["Priya Natarajan"].status is ProtocolStatus.PAUSED
        assert protocols["Alex Moreau"].status is ProtocolStatus.COMPLETED


def test_demo_diaries_have_history_and_a_red_flag_in_each_clinic(app: Flask) -> None:
    """The portal patients have weeks of entries (sessions and skips with reasons), each
    clinic has at least one red flag to show, one patient is ready to move up, and one
    used a larger size than prescribed and one waits for review before resuming (issue
    16)."""
    assert run(app, "seed-demo").exit_code == 0
    with app.app_context():
        entries = db.session.scalars(select(DiaryEntry)).all()
        by_patient = {e.patient_id for e in entries}
        assert len(by_patient) == 4 and len(entries) > 100
        assert any(e.skipped and e.skip_reason for e in entries)
        flagged_clinics = {f.clinic_id for f in db.session.scalars(select(RedFlag))}
        assert flagged_clinics == {c.id for c in db.session.scalars(select(Clinic))}
        ready = db.session.scalars(
            select(Patient.full_name)
            .join(PatientSummary, PatientSummary.patient_id == Patient.id)
            .where(PatientSummary.suggestion == Suggestion.ADVANCE)
        ).all()
        assert ready == ["Morgan Ellis"]
        larger = db.session.scalars(
            select(Patient.full_name)
            .join(CareFlag, CareFlag.patient_id == Patient.id)
            .where(CareFlag.kind == FlagKind.LARGER_SIZE)
        ).all()
        assert larger == ["Jordan Blake"]
        to_review = db.session.scalars(
            select(Patient.full_name)
            .join(CareFlag, CareFlag.patient_id == Patient.id)
            .where(CareFlag.kind == FlagKind.RESUME_REVIEW)
        ).all()
        assert to_review == ["Priya Natarajan"]


def test_demo_red_flags_are_raised_when_their_sessions_were_saved(app: Flask) -> None:
    """A demo flag is raised when its entry was saved (days ago), not when the demo was
    seeded: otherwise every demo patient's Today read "You reported something today"
    about a session of days before."""
    assert run(app, "seed-demo").exit_code == 0
    with app.app_context():
        flags = db.session.scalars(select(RedFlag)).all()
        assert flags
        for flag in flags:
            entry = db.session.get_one(DiaryEntry, flag.entry_id)
            assert flag.raised_at == entry.created_at


def test_refresh_summaries_brings_every_clinic_up_to_today(app: Flask, world: World) -> None:
    """The scheduled command recomputes each clinic's summaries and marks the day."""
    with app.app_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        patient.review_on = clinic_today(patient.clinic.timezone)
        db.session.commit()
    result = run(app, "refresh-summaries")
    assert result.exit_code == 0 and "2 clinic(s)" in result.output
    with app.app_context():
        for clinic in db.session.scalars(select(Clinic)):
            assert clinic.summaries_on == clinic_today(clinic.timezone)
        summary = db.session.get(PatientSummary, world.patient.patient_id)
        assert summary.open_flag_kinds == "review_due"


# --- report ------------------------------------------------------------------------------


@pytest.fixture
def on_plan(app: Flask, world: World) -> int:
    """PATIENT on a plan started 20 days ago, with a few sessions logged."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    add_entries(app, protocol_id, world.patient, [10, 8, 3])
    return protocol_id


def identifier_of(app: Flask, patient_id: int) -> str:
    with app.app_context():
        return db.session.get(Patient, patient_id).clinic_identifier


def stored_reports(app: Flask) -> list[Report]:
    with app.app_context():
        reports = db.session.scalars(select(Report).options(undefer(Report.pdf))).all()
        db.session.expunge_all()
        return list(reports)


def test_report_by_portal_email_writes_the_kept_pdf(
    app: Flask, world: World, on_plan: int, tmp_path: Path
) -> None:
    """Found by portal email (any case, stray spaces), over the web form's default period:
    the report is kept with the record like the web's (no author, assessment or plan) and
    the file written is byte for byte the kept one, whose SHA-256 is printed."""
    out = tmp_path / "report.pdf"
    who = f"  {world.patient.email.upper()} "
    result = run(app, "report", "--patient", who, "--out", str(out))
    assert result.exit_code == 0, result.output
    [report] = stored_reports(app)
    assert out.read_bytes() == report.pdf
    assert hashlib.sha256(out.read_bytes()).hexdigest() == report.sha256
    assert f"SHA-256: {report.sha256}" in result.output and str(out) in result.output
    assert report.kind == "progress" and report.patient_id == world.patient.patient_id
    assert report.author_id is None and report.assessment == "" and report.plan == ""
    with app.app_context():
        protocol = db.session.get(Protocol, on_plan)
        expected = default_period(protocol, clinic_today(ZONE))
    assert (report.period_from, report.period_to) == expected
    assert out.stat().st_mode & 0o077 == 0  # a health record: readable by its owner only
    assert PdfReader(io.BytesIO(out.read_bytes())).pages  # a PDF that opens


def test_report_by_identifier_over_a_chosen_period(
    app: Flask, world: World, on_plan: int, tmp_path: Path
) -> None:
    """Found by clinic identifier; --from and --to set the period."""
    today = clinic_today(ZONE)
    first, last = today - timedelta(days=14), today - timedelta(days=2)
    out = tmp_path / "chosen.pdf"
    result = run(
        app,
        "report",
        "--patient",
        identifier_of(app, world.patient.patient_id),
        "--out",
        str(out),
        "--from",
        first.isoformat(),
        "--to",
        last.isoformat(),
    )
    assert result.exit_code == 0, result.output
    [report] = stored_reports(app)
    assert (report.period_from, report.period_to) == (first, last)
    assert out.read_bytes() == report.pdf


def test_an_identifier_in_two_clinics_needs_the_clinic(
    app: Flask, world: World, on_plan: int, tmp_path: Path
) -> None:
    """When two clinics each have a patient with the identifier, the command asks for
    --clinic and says nothing else about either patient or which clinics they are at;
    with --clinic it reports on that clinic's patient."""
    identifier = identifier_of(app, world.patient.patient_id)
    with app.app_context():
        make_patient(
            db.session.get(Clinic, world.clinic_b),
            full_name="Blake Twin",
            clinic_identifier=identifier,
        )
        db.session.commit()
    out = tmp_path / "twin.pdf"
    refused = run(app, "report", "--patient", identifier, "--out", str(out))
    assert refused.exit_code != 0
    assert "More than one clinic has a patient with this email or identifier" in refused.output
    assert "--clinic" in refused.output
    for private in ("Blake Twin", world.patient.name, "Clinic A", "Clinic B"):
        assert private not in refused.output
    assert not out.exists() and stored_reports(app) == []

    chosen = run(app, "report", "--patient", identifier, "--clinic", "Clinic A", "--out", str(out))
    assert chosen.exit_code == 0, chosen.output
    [report] = stored_reports(app)
    assert report.patient_id == world.patient.patient_id


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--patient", "nobody@nowhere.example"], "no patient in any clinic"),
        (["--patient", "MRN-UNKNOWN"], "no patient in any clinic"),
        (["--clinic", "No Such Clinic"], "no clinic is named 'No Such Clinic'"),
        (["--from", "2026-02-30"], "does not match the format"),
        (["--to", "yesterday"], "does not match the format"),
        (["--from", 5, "--to", 10], "--to must be on or after --from"),
        (["--to", -1], "cannot end in the future"),
        (["--from", 30], "the program started on"),
        (["--to", 30], "the program started on"),
    ],
)
def test_report_refuses_what_it_cannot_do(
    app: Flask, world: World, on_plan: int, tmp_path: Path, args: list, message: str
) -> None:
    """Unknown patients and clinics, malformed dates and periods outside the program are
    refused with a reason; nothing is kept and no file is written."""
    today = clinic_today(ZONE)
    # Whole numbers in `args` are days ago (negative: the future).
    args = [(today - timedelta(days=a)).isoformat() if isinstance(a, int) else a for a in args]
    base = {"--patient": world.patient.email, "--out": str(tmp_path / "refused.pdf")}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = run(app, "report", *[x for pair in base.items() for x in pair])
    assert result.exit_code != 0
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "refused.pdf").exists() and stored_reports(app) == []


def test_report_for_a_patient_without_a_protocol(app: Flask, world: World, tmp_path: Path) -> None:
    """A patient who has no protocol yet has nothing to report, and the command says so."""
    out = tmp_path / "none.pdf"
    identifier = identifier_of(app, world.offline_patient_id)
    result = run(app, "report", "--patient", identifier, "--out", str(out))
    assert result.exit_code != 0 and "has no protocol yet" in result.output
    assert not out.exists() and stored_reports(app) == []
