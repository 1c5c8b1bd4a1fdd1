"""Flask commands: `create-admin` to start a real clinic, `seed-demo` for demonstrations."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import func, select

from clinic.auth.hashing import hash_password
from clinic.demo import DEMO_PASSWORD, seed_demo
from clinic.domain.passwords import password_problems
from clinic.extensions import db
from clinic.library.defaults import seed_clinic_library
from clinic.models import Clinic, Role, User
from clinic.models.users import normalise_email
from clinic.monitoring.services import refresh_clinic


def register_commands(app: Flask) -> None:
    """Attach the commands to `flask --app wsgi ...`."""
    app.cli.add_command(create_admin)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(refresh_summaries)


@click.command("create-admin")
@with_appcontext
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
    db.session.commit()
    click.echo(f"Created clinic {clinic_name!r} with administrator {email}.")


@click.command("seed-demo")
@with_appcontext
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
    db.session.commit()
    click.echo(f"Demo data added. Every demo account's password is {DEMO_PASSWORD}.")


@click.command("refresh-summaries")
@with_appcontext
def refresh_summaries() -> None:
    """Recompute every clinic's dashboard summaries and flags for today (run daily, early
    in the morning; the dashboard also does it on its first visit of the day)."""
    clinics = db.session.scalars(select(Clinic).order_by(Clinic.id)).all()
    for clinic in clinics:
        refresh_clinic(clinic)
    db.session.commit()
    click.echo(f"Summaries refreshed for {len(clinics)} clinic(s).")
