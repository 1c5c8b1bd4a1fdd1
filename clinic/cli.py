"""Flask commands: `create-admin` to start a real clinic, `seed-demo` for demonstrations,
`seed-load` for synthetic load data to size a deployment (logic in clinic.loadgen),
`refresh-summaries` for the daily run, `report` for progress reports in batches,
`fhir-export` for a patient's record as a FHIR R4 bundle (clinic.fhir), `backup` and
`restore` for the SQLite database (logic in clinic/backup.py).

A command that changes the database is one unit of work (clinic.core.uow): `@transactional`
commits once when it succeeds, and a command that fails (any error, a usage error
included) saves nothing. It says what it did once that is saved (`after_commit`)."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from clinic import backup as backups
from clinic.audit.log import record as audit
from clinic.auth.hashing import hash_password
from clinic.core.clock import clinic_today
from clinic.core.templating import short_date
from clinic.core.uow import after_commit, transactional, unit_of_work
from clinic.demo import DEMO_PASSWORD, seed_demo
from clinic.domain.passwords import password_problems
from clinic.extensions import db
from clinic.fhir import patient_bundle
from clinic.fhirapi.cli import api_token_group
from clinic.library.defaults import seed_clinic_library
from clinic.loadgen import load as loadgen
from clinic.models import Clinic, Patient, Role, User
from clinic.models.users import normalise_email
from clinic.monitoring.services import refresh_clinic
from clinic.patients.queries import patients_known_as
from clinic.reporting.forms import MAX_PERIOD
from clinic.reporting.progress import (
    ReportError,
    create_progress_report,
    default_period,
    latest_protocol,
)


def register_commands(app: Flask) -> None:
    """Attach the commands to `flask --app clinic ...`."""
    app.cli.add_command(create_admin)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(seed_load_command)
    app.cli.add_command(refresh_summaries)
    app.cli.add_command(progress_report_command)
    app.cli.add_command(fhir_export_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(api_token_group)


@click.command("create-admin")
@with_appcontext
@transactional
@click.option("--clinic", "clinic_name", required=True, help="Name of the new clinic.")
@click.option("--email", required=True, help="The administrator's sign-in email.")
@click.option("--name", "full_name", default="Clinic administrator", show_default=True)
@click.password_option(
    "--password", prompt="Password", help="Prompted for (hidden) when not given."
)
def create_admin(clinic_name: str, email: str, full_name: str, password: str) -> None:
    """Create a clinic and its first administrator."""
    email = normalise_email(email)
    if "@" not in email:
        raise click.UsageError("Give an email address such as admin@clinic.example.")
    problems = password_problems(password, email)
    if problems:
        raise click.UsageError(" ".join(problems))
    clinic_name = clinic_name.strip()
    if db.session.scalar(select(Clinic.id).where(Clinic.name == clinic_name)) is not None:
        raise click.UsageError(f"A clinic named {clinic_name!r} already exists.")
    clinic = Clinic(name=clinic_name)
    db.session.add(clinic)
    seed_clinic_library(clinic)
    db.session.add(
        User(
            clinic=clinic,
            email=email,
            full_name=full_name.strip(),
            role=Role.ADMIN,
            password_hash=hash_password(password),
        )
    )
    after_commit(lambda: click.echo(f"Created clinic {clinic_name!r} with administrator {email}."))


@click.command("seed-demo")
@with_appcontext
@transactional
@click.option(
    "--if-empty",
    is_flag=True,
    help="Do nothing (and succeed) when the database already has data.",
)
def seed_demo_command(if_empty: bool) -> None:
    """Fill an empty database with demonstration clinics, staff and patients."""
    if db.session.scalar(select(func.count()).select_from(Clinic)):
        if if_empty:
            click.echo("The database already has data; demo data was not added.")
            return
        raise click.ClickException(
            "The database is not empty; seed-demo only fills an empty database."
        )
    seed_demo()
    after_commit(
        lambda: click.echo(f"Demo data added. Every demo account's password is {DEMO_PASSWORD}.")
    )


@click.command("seed-load")
@with_appcontext
@click.option("--clinics", type=click.IntRange(1, 999), required=True, help="Clinics to add.")
@click.option(
    "--patients",
    type=click.IntRange(1),
    required=True,
    help="Patients in all, spread evenly over the clinics.",
)
@click.option(
    "--years",
    type=click.FloatRange(0.1, 10),
    default=1.0,
    show_default=True,
    help="Programmes started within this many years.",
)
@click.option("--password", help="Password of every account made (default: a random one).")
@click.option("--seed", help="Makes the same data again (default: random, printed).")
@click.option(
    "--allow-production",
    is_flag=True,
    help="Load even though CLINIC_ENV is production (a staging copy, say).",
)
def seed_load_command(
    clinics: int,
    patients: int,
    years: float,
    password: str | None,
    seed: str | None,
    allow_production: bool,
) -> None:
    """Fill a database with synthetic clinics, staff and patients with a realistic history
    (fictional names, emails @seed-load.invalid), to size a deployment. Refuses a database
    holding anything else, an unmigrated one, and production without --allow-production."""
    if current_app.config["CLINIC_ENV"] == "production" and not allow_production:
        raise click.ClickException(
            "CLINIC_ENV is production: seed-load writes fictional patients. Give "
            "--allow-production if this really is a database for load testing."
        )
    if patients < clinics:
        raise click.UsageError("Give at least one patient per clinic.")
    problem = loadgen.refusal(backups.migration_heads())
    if problem:
        raise click.ClickException(problem)
    generated = password is None
    if password is None:
        password = secrets.token_urlsafe(12)
    elif password_problems(password, ""):
        raise click.UsageError(" ".join(password_problems(password, "")))
    if seed is None:
        seed = secrets.token_hex(4)
    if generated:
        # Before loading: clinics load one transaction each, so an interrupted run keeps
        # the clinics already loaded, whose accounts need this password.
        click.echo(f"Password of every account: {password}")
    result = loadgen.load(
        clinics=clinics,
        patients=patients,
        years=years,
        password_hash=hash_password(password),  # hashed once, for every account
        seed=seed,
        progress=lambda line: click.echo(line, err=True),
    )
    for each in result.clinics:
        click.echo(
            f"clinic: {each.name} | clinician: {each.clinician_email} | "
            f"patient: {each.patient_email}"
        )
    counts = ", ".join(f"{n:,} {what}" for what, n in result.counts.items())
    click.echo(f"Loaded {counts} in {result.seconds:.1f} s (seed {seed}).")


@click.command("refresh-summaries")
@with_appcontext
@transactional
def refresh_summaries() -> None:
    """Recompute every clinic's dashboard summaries and flags for today, at once (the
    scheduler does it daily, see clinic.schedule; the dashboard's first visit of the day
    does it when the scheduler has not)."""
    clinics = db.session.scalars(select(Clinic).order_by(Clinic.id)).all()
    for clinic in clinics:
        refresh_clinic(clinic)
    after_commit(lambda: click.echo(f"Summaries refreshed for {len(clinics)} clinic(s)."))


DAY = click.DateTime(formats=["%Y-%m-%d"])
# The options of the commands that write one patient's record to a file (`report`,
# `fhir-export`): who, and which clinic when more than one has a match.
PATIENT_OPTION = click.option(
    "--patient",
    "login_or_identifier",
    required=True,
    help="The patient's portal email or clinic identifier.",
)
CLINIC_OPTION = click.option(
    "--clinic",
    "clinic_name",
    help="The clinic's name, when more than one clinic has a patient with that email or "
    "identifier.",
)


def out_option(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--out: where the command writes its file (a `kind` file, replaced if it exists)."""
    return click.option(
        "--out",
        required=True,
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        help=f"Where to write the {kind} (replaced if it exists).",
    )


@click.command("report")
@with_appcontext
@PATIENT_OPTION
@out_option("PDF")
@click.option("--from", "period_from", type=DAY, help="First day (YYYY-MM-DD).")
@click.option("--to", "period_to", type=DAY, help="Last day (YYYY-MM-DD); default today.")
@CLINIC_OPTION
def progress_report_command(
    login_or_identifier: str,
    out: Path,
    period_from: datetime | None,
    period_to: datetime | None,
    clinic_name: str | None,
) -> None:
    """Generate a patient's progress report, keep it with their record (as the web page
    does, with no author, assessment or plan) and write its PDF to --out.

    Without --from and --to the period is the web form's default: the last 12 weeks, or
    since the program started.
    """
    _check_folder(out)
    patient = _one_patient(login_or_identifier, clinic_name)
    protocol = latest_protocol(patient)
    if protocol is None:
        raise click.ClickException(
            "This patient has no protocol yet, so there is nothing to report."
        )
    start = protocol.events[0].effective_on
    today = clinic_today(patient.clinic.timezone)
    if start > today:
        raise click.ClickException(
            f"The program starts on {short_date(start)}: there is nothing to report yet."
        )
    last = period_to.date() if period_to else today
    first = period_from.date() if period_from else default_period(protocol, last)[0]
    _check_period(first, last, start, today)
    # Print templates are Jinja pages: they expect a request (the layout's context
    # processors, url_for), and links in them should point at the public address.
    # The report is kept (its own unit of work) before its file is written: a file that
    # cannot be written does not undo it (the message says so).
    with (
        current_app.test_request_context(
            base_url=current_app.config.get("CLINIC_BASE_URL") or None
        ),
        unit_of_work(),
    ):
        try:
            record = create_progress_report(
                patient, first, last, author=None, assessment="", plan=""
            )
        except ReportError as exc:
            raise click.ClickException(str(exc)) from exc
    _write_private(out, record.pdf, "The report was kept with the record but")
    click.echo(
        f"Progress report for {patient.clinic_identifier} ({patient.clinic.name}), "
        f"{first.isoformat()} to {last.isoformat()}, kept as report {record.id}."
    )
    click.echo(f"Written to {out.resolve()} ({record.size_bytes:,} bytes).")
    click.echo(f"SHA-256: {record.sha256}")


def _one_patient(login_or_identifier: str, clinic_name: str | None) -> Patient:
    """The one patient the operator named, or a usage error saying how to name them."""
    if clinic_name is not None and (
        db.session.scalar(select(Clinic.id).where(Clinic.name == clinic_name.strip())) is None
    ):
        raise click.BadParameter(
            f"no clinic is named {clinic_name.strip()!r}.", param_hint="--clinic"
        )
    matches = patients_known_as(login_or_identifier, clinic_name)
    if not matches:
        where = f"at {clinic_name.strip()!r}" if clinic_name else "in any clinic"
        raise click.BadParameter(
            f"no patient {where} has the portal email or clinic identifier "
            f"{login_or_identifier.strip()!r}.",
            param_hint="--patient",
        )
    if len({p.clinic_id for p in matches}) > 1:
        # Say no more than that: which clinics a person is a patient of is their data.
        # Exit status 1 (not a usage error): the command was right, the name not enough.
        raise click.ClickException(
            "More than one clinic has a patient with this email or identifier. "
            "Add --clinic NAME (the clinic's name as in its settings) to choose."
        )
    if len(matches) > 1:
        raise click.ClickException(
            "Two patients of this clinic match (one by portal email, one by clinic "
            "identifier). Give the clinic identifier of the one you mean."
        )
    return matches[0]


@click.command("fhir-export")
@with_appcontext
@PATIENT_OPTION
@out_option("JSON")
@CLINIC_OPTION
@click.option(
    "--base-url",
    help="The public address the bundle's URLs start with (default: CLINIC_BASE_URL).",
)
def fhir_export_command(
    login_or_identifier: str, out: Path, clinic_name: str | None, base_url: str | None
) -> None:
    """Write a patient's record as a FHIR R4 Bundle (type collection) to --out: the
    patient, the programme, the diary, flags, measures, reports and who recorded what
    (README.md, "FHIR R4"). The export is recorded in the audit trail."""
    _check_folder(out)
    base = (base_url or current_app.config.get("CLINIC_BASE_URL") or "").strip().rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise click.BadParameter(
            "give the public address (https://diary.example.org), or set CLINIC_BASE_URL.",
            param_hint="--base-url",
        )
    patient = _one_patient(login_or_identifier, clinic_name)
    bundle = patient_bundle(patient, base)
    content = json.dumps(bundle, indent=2, ensure_ascii=False).encode()
    # Recorded before the file is written: a record that left the system is never missing
    # from the trail (a file that then cannot be written is said so).
    with unit_of_work():
        audit(
            "patient.fhir_export",
            patient_id=patient.id,
            object_type="patient",
            object_id=patient.id,
            clinic_id=patient.clinic_id,
            detail={"via": "command", "resources": len(bundle["entry"])},
        )
    _write_private(out, content, "The export was recorded in the audit trail but")
    click.echo(
        f"FHIR record of {patient.clinic_identifier} ({patient.clinic.name}): "
        f"{len(bundle['entry'])} resources."
    )
    click.echo(f"Written to {out.resolve()} ({len(content):,} bytes).")


def _check_folder(out: Path) -> None:
    """The file's folder must exist (a usage error before anything is read)."""
    if not out.parent.is_dir():
        raise click.BadParameter(
            f"the folder {str(out.parent)!r} does not exist.", param_hint="--out"
        )


def _check_period(first: date, last: date, program_start: date, today: date) -> None:
    """The web form's rules for the period, as usage errors."""
    if last > today:
        raise click.BadParameter(
            f"the period cannot end in the future (today is {today.isoformat()}).",
            param_hint="--to",
        )
    if last < program_start:
        raise click.BadParameter(
            f"the program started on {program_start.isoformat()}: end the period on that "
            "day or later.",
            param_hint="--to",
        )
    if last < first:
        raise click.BadParameter("--to must be on or after --from.", param_hint="--to")
    if first < program_start:
        raise click.BadParameter(
            f"the program started on {program_start.isoformat()}: start the period on "
            "that day or later.",
            param_hint="--from",
        )
    if last - first >= MAX_PERIOD:
        raise click.BadParameter("choose a period of at most two years.", param_hint="--from")


def _write_private(path: Path, content: bytes, so_far: str) -> None:
    """Write `content` readable by its owner only (it is a health record); `so_far` begins
    the message when it cannot be written (what was done regardless)."""
    try:
        # Not through a symbolic link; and owner-only even when the file existed already
        # (the mode given to open applies only to a file it creates).
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
    except OSError as exc:
        raise click.ClickException(
            f"{so_far} could not be written to {path}: {exc.strerror}."
        ) from exc


BACKUP_FILE = click.Path(dir_okay=False, path_type=Path)


@click.command("backup")
@with_appcontext
@click.argument("file", type=BACKUP_FILE)
@click.option("--force", is_flag=True, help="Replace FILE if it already exists.")
def backup_command(file: Path, force: bool) -> None:
    """Copy the SQLite database to FILE while the application keeps running (readable by
    its owner only). On PostgreSQL, print the pg_dump command to use instead."""
    url = db.engine.url
    if not backups.is_sqlite(url):
        click.echo(backups.postgresql_instructions(url, str(file), restoring=False))
        raise click.exceptions.Exit(1)  # nothing was backed up: scripts must notice
    try:
        result = backups.backup(db.engine, file, force=force)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Backed up to {result.path.resolve()} ({result.size_bytes:,} bytes, schema "
        f"revision {result.revision or 'none'})."
    )
    click.echo(f"SHA-256: {result.sha256}")


@click.command("restore")
@with_appcontext
@click.argument("file", type=BACKUP_FILE)
def restore_command(file: Path) -> None:
    """Restore a backup made by `backup` into the application's database, which must be
    empty (stop the application first). On PostgreSQL, print the pg_restore command."""
    url = db.engine.url
    if not backups.is_sqlite(url):
        click.echo(backups.postgresql_instructions(url, str(file), restoring=True))
        raise click.exceptions.Exit(1)
    try:
        revision = backups.restore(db.engine, file, backups.migration_heads())
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored {file} (schema revision {revision}) into {url.database}.")
