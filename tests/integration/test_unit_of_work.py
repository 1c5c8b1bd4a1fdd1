"""The unit of work (clinic/core/uow.py): a request, a command or a job commits once, at
the end, when it finished without error, and keeps nothing otherwise; what must outlive a
failure is kept by `persist_despite_failure` alone.

Most cases run through a test-only blueprint on an app of their own, whose views write a
clinic row and then end each way a view can end: returning, raising, refusing, with a
form that fails its checks, with an error status. The sign-in cases use the real pages.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import click
import pytest
from flask import Blueprint, Flask, render_template_string
from flask.cli import with_appcontext
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from wtforms import StringField
from wtforms.validators import InputRequired

from clinic import create_app
from clinic.access import public
from clinic.auth.services import record_failed_sign_in
from clinic.core import uow
from clinic.core.forms import ClinicForm, flash_refusal, show_refusal
from clinic.core.refusals import Refusal
from clinic.extensions import db
from clinic.models import AuditEvent, Clinic, User
from tests.support.apps import config_for_tests
from tests.support.factories import PASSWORD
from tests.support.two_factor import enrol, wrong_code_for
from tests.support.world import World

TRIAL = "Unit of work trial"
TRIAL_BP = Blueprint("uow_trial", __name__, url_prefix="/uow-trial")


class TrialForm(ClinicForm):
    """One required field, to send empty."""

    name = StringField("Name", validators=[InputRequired()])


def _write_a_clinic() -> None:
    db.session.add(Clinic(name=TRIAL))
    db.session.flush()  # sent to the database: only the unit of work can take it back


@TRIAL_BP.post("/returns")
@public
def returns() -> str:
    """Writes, then answers normally."""
    _write_a_clinic()
    return "saved"


@TRIAL_BP.post("/raises")
@public
def raises() -> str:
    """Writes, then fails."""
    _write_a_clinic()
    raise RuntimeError("the view failed after writing")


@TRIAL_BP.post("/refuses")
@public
def refuses() -> str:
    """Writes, then a service refuses: the form is shown again with the refusal."""
    form = TrialForm(meta={"csrf": False})
    _write_a_clinic()
    show_refusal(form, Refusal("Not like that.", field="name"))
    return render_template_string("{{ form.name.errors[0] }}", form=form)


@TRIAL_BP.post("/refuses-by-message")
@public
def refuses_by_message() -> tuple[str, int]:
    """Writes, then a refusal is said in a flashed message."""
    _write_a_clinic()
    flash_refusal(Refusal("Not like that."))
    return "", 303


@TRIAL_BP.post("/invalid-form")
@public
def invalid_form() -> str:
    """Writes, then checks a form sent without its required field."""
    _write_a_clinic()
    form = TrialForm(meta={"csrf": False})
    return "valid" if form.validate_on_submit() else "invalid"


@TRIAL_BP.post("/error-status")
@public
def error_status() -> tuple[str, int]:
    """Writes, then answers with an error status."""
    _write_a_clinic()
    return "conflict", 409


@TRIAL_BP.post("/keeps-a-failure")
@public
def keeps_a_failure() -> str:
    """Writes (holding SQLite's write lock), then a failed sign-in must be kept."""
    _write_a_clinic()
    record_failed_sign_in("nobody-at-all@test.example")
    show_refusal(TrialForm(meta={"csrf": False}), Refusal("Those details did not match."))
    return "refused"


@TRIAL_BP.post("/after-commit")
@public
def sends_after_commit() -> str:
    """Writes, and hands over something to do once it is saved."""
    _write_a_clinic()
    uow.after_commit(lambda: SENT.append("sent"))
    return "saved"


SENT: list[str] = []


@pytest.fixture
def trial_app(app: Flask, database_url: str) -> Iterator[Flask]:
    """An app on the test database with the trial views (`app` empties the tables after)."""
    trial = create_app(config_for_tests(database_url, WTF_CSRF_ENABLED=False))
    trial.register_blueprint(TRIAL_BP)
    uow.init_app(trial)  # the trial views were added after create_app wrapped the others
    SENT.clear()
    yield trial
    with trial.app_context():
        db.engine.dispose()


def trial_clinics(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).where(Clinic.name == TRIAL))


def test_every_route_runs_in_the_request_unit_of_work(app: Flask) -> None:
    """`create_app` wraps every view it registers, so no route can save half a change
    (a view added after it would not be: this names any such route)."""
    outside = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if not getattr(view, "in_unit_of_work", False)
    ]
    assert outside == []


def test_a_view_that_returns_commits_what_it_wrote(trial_app: Flask) -> None:
    """The control case: a view that ends normally has its write committed."""
    assert trial_app.test_client().post("/uow-trial/returns").status_code == 200
    assert trial_clinics(trial_app) == 1


def test_a_view_that_writes_then_raises_keeps_nothing(trial_app: Flask) -> None:
    """An exception after a write (already sent to the database) rolls it back."""
    with pytest.raises(RuntimeError):  # TESTING propagates the error
        trial_app.test_client().post("/uow-trial/raises")
    assert trial_clinics(trial_app) == 0


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/uow-trial/refuses", 200),
        ("/uow-trial/refuses-by-message", 303),
        ("/uow-trial/invalid-form", 200),
        ("/uow-trial/error-status", 409),
    ],
)
def test_a_view_that_ends_in_a_refusal_keeps_nothing(
    trial_app: Flask, path: str, status: int
) -> None:
    """What a view wrote before a refusal (shown on the form or in a message), before a
    sent form failed its checks, or before answering with an error status, is rolled
    back, though the view itself never rolls back."""
    response = trial_app.test_client().post(path)
    assert response.status_code == status
    assert trial_clinics(trial_app) == 0


def test_a_failing_commit_answers_503_and_keeps_nothing(trial_app: Flask) -> None:
    """The COMMIT itself fails (the connection drops): the error reaches the error
    handlers, so the answer is the calm 503 page, and nothing is kept."""
    with trial_app.app_context():
        engine = db.engine

    def drop(_conn: object) -> None:
        raise OperationalError("COMMIT", None, Exception("server closed the connection"))

    event.listen(engine, "commit", drop)
    try:
        response = trial_app.test_client().post("/uow-trial/returns")
    finally:
        event.remove(engine, "commit", drop)
    assert response.status_code == 503
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert trial_clinics(trial_app) == 0


def test_what_leaves_the_system_waits_for_the_commit(trial_app: Flask) -> None:
    """`after_commit` runs once the change is saved, and never when it is not."""
    with trial_app.app_context():
        engine = db.engine

    def drop(_conn: object) -> None:
        raise OperationalError("COMMIT", None, Exception("server closed the connection"))

    event.listen(engine, "commit", drop)
    try:
        assert trial_app.test_client().post("/uow-trial/after-commit").status_code == 503
    finally:
        event.remove(engine, "commit", drop)
    assert SENT == []
    assert trial_app.test_client().post("/uow-trial/after-commit").status_code == 200
    assert SENT == ["sent"]


def test_a_failure_kept_despite_the_refusal_does_not_wait_on_the_request(
    trial_app: Flask,
) -> None:
    """A view that wrote (on SQLite, holding the write lock) and then meets a failed
    sign-in: the failure's audit event is kept, what the view wrote is not, and keeping
    it does not wait for the request's own lock (the busy timeout is 5 seconds)."""
    started = time.monotonic()
    response = trial_app.test_client().post("/uow-trial/keeps-a-failure")
    assert response.status_code == 200
    assert time.monotonic() - started < 2
    assert trial_clinics(trial_app) == 0
    with trial_app.app_context():
        kept = db.session.scalars(select(AuditEvent.action)).all()
    assert kept == ["auth.sign_in_failed"]


def backoff_of(app: Flask, user_id: int) -> int:
    with app.app_context():
        return db.session.get(User, user_id).failed_sign_ins


def actions(app: Flask, user_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_id == user_id, AuditEvent.object_type == "user")
                .order_by(AuditEvent.id)
            )
        )


def test_a_wrong_password_counts_though_the_sign_in_is_refused(
    app: Flask, client, world: World
) -> None:
    """The sign-in page refuses a wrong password (its request keeps nothing), yet the
    failure counts towards the account's back-off and is in the audit trail."""
    response = client.post("/login", data={"email": world.clinician.email, "password": "nope"})
    assert response.status_code == 200
    assert "did not match an active account" in response.get_data(as_text=True)
    assert backoff_of(app, world.clinician.id) == 1
    assert actions(app, world.clinician.id) == ["auth.sign_in_failed"]


def test_a_wrong_code_counts_though_the_sign_in_is_refused(
    app: Flask, client, world: World
) -> None:
    """At the second step, a wrong code counts towards the back-off and is audited, and
    nobody is signed in."""
    secret, _ = enrol(app, world.clinician.id)
    password_step = client.post(
        "/login", data={"email": world.clinician.email, "password": PASSWORD}
    )
    assert password_step.headers["Location"].endswith("/login/code")
    response = client.post("/login/code", data={"code": wrong_code_for(secret)})
    assert response.status_code == 200
    assert "That code did not work" in response.get_data(as_text=True)
    assert backoff_of(app, world.clinician.id) == 1
    assert actions(app, world.clinician.id)[-1] == "auth.sign_in_failed"
    with app.app_context():
        failed = db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "auth.sign_in_failed")
        ).all()
    assert json.loads(failed[-1]) == {"step": "second_factor"}
    assert client.get("/dashboard/").status_code == 302  # not signed in


# Commands and jobs --------------------------------------------------------------------


@click.command("uow-trial")
@with_appcontext
@uow.transactional
@click.option("--fail", is_flag=True)
def trial_command(fail: bool) -> None:
    """Writes, then fails when asked to."""
    _write_a_clinic()
    if fail:
        raise click.ClickException("the command failed after writing")
    uow.after_commit(lambda: click.echo("saved"))


def test_a_command_that_fails_writes_nothing(app: Flask) -> None:
    """A command is one unit of work: failing after a write keeps nothing; succeeding
    commits once, and says so only then."""
    runner = app.test_cli_runner()
    failed = runner.invoke(trial_command, ["--fail"])
    assert failed.exit_code == 1
    assert "the command failed" in failed.output
    assert trial_clinics(app) == 0

    succeeded = runner.invoke(trial_command, [])
    assert succeeded.exit_code == 0, succeeded.output
    assert succeeded.output == "saved\n"
    assert trial_clinics(app) == 1


def test_a_unit_of_work_inside_another_joins_it(app: Flask) -> None:
    """A job calling a function that is itself a unit of work commits once, at the end:
    a failure after the inner unit keeps nothing of it."""

    @uow.transactional
    def inner() -> None:
        _write_a_clinic()

    with app.app_context(), pytest.raises(RuntimeError), uow.unit_of_work():
        inner()
        raise RuntimeError("the job failed after the inner unit")
    assert trial_clinics(app) == 0


def test_nothing_follows_a_discarded_unit(app: Flask) -> None:
    """What is handed to `after_commit` after the unit was discarded (a refusal, then more
    work) never runs: the unit rolls back, so nothing it announced happened."""
    ran: list[str] = []
    with app.app_context(), uow.unit_of_work():
        uow.discard()
        uow.after_commit(lambda: ran.append("sent"))
    assert ran == []


def test_nothing_follows_a_unit_whose_inner_unit_failed(app: Flask) -> None:
    """An inner unit that fails dooms the outer one, which the caller may still let end
    normally (it caught the error): what was handed to `after_commit` before or after
    does not run, and nothing is written."""
    ran: list[str] = []
    with app.app_context(), uow.unit_of_work():
        uow.after_commit(lambda: ran.append("before"))
        _write_a_clinic()
        with pytest.raises(RuntimeError), uow.unit_of_work():
            raise RuntimeError("the inner unit failed")
        uow.after_commit(lambda: ran.append("after"))
    assert ran == []
    assert trial_clinics(app) == 0


def test_actions_named_alike_run_once_per_unit_and_not_after_a_rollback(app: Flask) -> None:
    """`after_commit(..., once_as=name)`: however many writes ask for it (three messages
    posted), the action runs once when the unit commits. A unit that rolled back leaves no
    trace of the name: the next unit's request runs (nothing is silently skipped)."""
    ran: list[str] = []
    with app.app_context():
        with pytest.raises(RuntimeError), uow.unit_of_work():
            uow.after_commit(lambda: ran.append("lost"), once_as="deliver")
            raise RuntimeError("the unit failed")
        with uow.unit_of_work():
            for n in range(3):
                uow.after_commit(lambda n=n: ran.append(f"deliver {n}"), once_as="deliver")
            uow.after_commit(lambda: ran.append("other"))
    assert ran == ["deliver 0", "other"]
