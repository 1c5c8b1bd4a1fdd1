"""A clinic's own questionnaires: an administrator imports an instrument file (uploaded or
pasted), every problem is listed in words, the licence claim is recorded, a licensed
clinic adds only the wording to FSFI (which then scores exactly as the shipped rules),
versions are never overwritten, and imports can be retired.

The FSFI wording in these tests is synthetic ("Synthetic question q3"): the real wording is
never part of this repository."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from clinic.core.clock import clinic_today
from clinic.domain.measure_schedule import Cadence
from clinic.domain.questionnaires import LicenceStatus, score, shipped_instruments
from clinic.extensions import db
from clinic.measures import services
from clinic.measures.answers import start_or_resume, submit
from clinic.measures.instruments import available, current, version_of
from clinic.models import AuditEvent, ClinicInstrument, MeasureAssignment, Patient, User
from tests.support.auth import act_as
from tests.support.world import World

FOLDER = Path(__file__).resolve().parents[2] / "clinic" / "data" / "instruments"
URL = "/questionnaires/"
SHIPPED_FSFI = shipped_instruments()["fsfi"]


def shipped(name: str) -> dict[str, Any]:
    return json.loads((FOLDER / name).read_text("utf-8"), parse_float=Decimal)


def dumps(data: dict[str, Any]) -> str:
    """JSON text with the exact decimals written as numbers (never as strings)."""

    class Exact(json.JSONEncoder):
        def default(self, o: object) -> object:
            if isinstance(o, Decimal):
                return float(o)
            return super().default(o)

    return json.dumps(data, cls=Exact, indent=2)


def worded_fsfi(**changes: Any) -> dict[str, Any]:
    """FSFI's shipped scoring rules with synthetic wording added, as a licensed clinic
    would import them (never the real wording)."""
    data = copy.deepcopy(shipped("fsfi.scoring.json"))
    data["licence"] = {
        "status": "clinic-licensed",
        "note": "Licence agreement 2026-17 with the rights holder (synthetic, for tests).",
    }
    for item in data["items"]:
        item["text"] = f"Synthetic question {item['key']}"
        for option in item["options"]:
            option["label"] = f"Synthetic answer {option['value']}"
    data.update(changes)
    return data


def post_text(client, text: str, confirm: bool = True, **extra: Any):
    data = {"text": text, **extra}
    if confirm:
        data["licence_confirmed"] = "y"
    return client.post(URL, data=data)


def rows(app: Flask) -> list[ClinicInstrument]:
    with app.app_context():
        found = list(db.session.scalars(select(ClinicInstrument).order_by(ClinicInstrument.id)))
        db.session.expunge_all()
        return found


# Hand-worked FSFI answers (see tests/unit/test_questionnaires.py): total 26.4.
FSFI_EXAMPLE = dict(
    zip(
        [f"q{n}" for n in range(1, 20)],
        [4, 3, 4, 4, 3, 4, 5, 5, 4, 5, 3, 3, 4, 5, 4, 4, 2, 2, 3],
        strict=True,
    )
)
NO_ACTIVITY = {
    **FSFI_EXAMPLE,
    **{f"q{n}": 0 for n in [3, 4, 5, 6, 7, 8, 9, 10]},
}


# ---------------------------------------------------------------------------------------
# The happy path


def test_admin_imports_fsfi_wording_and_it_scores_exactly_like_the_shipped_rules(
    app: Flask, client, world: World, as_admin
) -> None:
    """A licensed clinic pastes FSFI with its wording: the import is kept with its licence
    and audited, FSFI becomes one patients can be asked, and every kind of response
    (complete, one blank pro-rated, too few answers, not sexually active) scores exactly
    as the shipped rules score it."""
    response = post_text(client, dumps(worded_fsfi()))
    assert response.status_code == 302
    page = client.get(URL).get_data(as_text=True)
    assert "Female Sexual Function Index (FSFI), version 1, was imported." in page
    [row] = rows(app)
    assert (row.clinic_id, row.key, row.version, row.licence_status, row.imported_by_id) == (
        world.clinic_a,
        "fsfi",
        "1",
        "clinic-licensed",
        world.admin.id,
    )
    with app.app_context():
        [event] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "instrument.import")
        ).all()
        assert (event.object_id, event.actor_id, event.clinic_id) == (
            row.id,
            world.admin.id,
            world.clinic_a,
        )
        assert json.loads(event.detail) == {
            "items": 19,
            "key": "fsfi",
            "licence": "clinic-licensed",
            "version": "1",
        }
        imported = current(world.clinic_a, "fsfi")
        assert imported.administrable
        assert imported.licence.status is LicenceStatus.CLINIC_LICENSED
        for answers in (
            FSFI_EXAMPLE,
            {**FSFI_EXAMPLE, "q2": None},
            {**FSFI_EXAMPLE, "q1": None, "q2": None},
            NO_ACTIVITY,
        ):
            assert score(imported, answers) == score(SHIPPED_FSFI, answers)
        assert str(score(imported, FSFI_EXAMPLE).total) == "26.4"
        # The other clinic still has only the scoring rules.
        assert not current(world.clinic_b, "fsfi").administrable
    # On the list: in use, licensed, patients can be asked.
    assert "Used under the clinic&#39;s licence" in page
    assert "Licence agreement 2026-17" in page


def test_an_uploaded_file_is_imported(app: Flask, client, world: World, as_admin) -> None:
    """The file input works as well as pasting (multipart upload)."""
    data = shipped("pain-nrs.json")
    data.update(version="2-northside", title="Pain (Northside wording)")
    response = client.post(
        URL,
        data={
            "file": (io.BytesIO(dumps(data).encode("utf-8")), "pain.json"),
            "licence_confirmed": "y",
        },
    )
    assert response.status_code == 302
    [row] = rows(app)
    assert (row.key, row.version, row.title) == (
        "pain-nrs",
        "2-northside",
        "Pain (Northside wording)",
    )
    with app.app_context():
        # The clinic's latest version is the one asked; the shipped one still reads old answers.
        assert current(world.clinic_a, "pain-nrs").version == "2-northside"
        assert version_of(world.clinic_a, "pain-nrs", "1") is shipped_instruments()["pain-nrs"]


def test_a_licensed_fsfi_can_be_assigned_answered_and_read_with_its_domains(
    app: Flask, client, world: World
) -> None:
    """Once imported, FSFI is offered to clinicians; the patient's answers are scored on
    submission, and the measures page shows the total against its range, the band and its
    meaning, the six domain scores, and "not valid" with its reason in words."""
    act_as(client, world.admin.id)
    assert post_text(client, dumps(worded_fsfi())).status_code == 302
    pid = world.patient.patient_id
    today = clinic_today("Europe/London")
    with app.app_context():
        patient = db.session.get(Patient, pid)
        clinician = db.session.get(User, world.clinician.id)
        ids = []
        for answers in (FSFI_EXAMPLE, NO_ACTIVITY):
            assignment = services.assign(
                patient, "fsfi", Cadence.ONCE, by=clinician, on=today, today=today
            )
            response = start_or_resume(patient, assignment, "once", today=today)
            submit(response, answers, now=datetime.combine(today, time(12), UTC))
            ids.append(response.id)
        db.session.commit()
    act_as(client, world.clinician.id)
    page = client.get(f"/patients/{pid}/measures").get_data(as_text=True)
    assert "26.4 / 36.0" in page
    assert "<strong>At or below the cut-off</strong>" in page
    for label in ("Desire", "Arousal", "Lubrication", "Orgasm", "Satisfaction", "Pain"):
        assert f'<th scope="col">{label}</th>' in page
    assert "<td>4.2</td>" in page and "<td>5.7</td>" in page  # desire, lubrication
    assert "Not valid: " in page and "no sexual activity" in page.lower()
    answers = client.get(f"/patients/{pid}/measures/responses/{ids[0]}").get_data(as_text=True)
    assert "Synthetic question q19" in answers and "Synthetic answer 3" in answers


# ---------------------------------------------------------------------------------------
# Refusals, each in plain words


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "Not valid JSON: Expecting property name enclosed in double quotes (line 1"),
        ("", "Choose a file to upload, or paste its text."),
        ("[]", "The instrument must be an object"),
    ],
)
def test_broken_files_are_refused_in_words(
    app: Flask, client, world: World, text: str, problem: str, as_admin
) -> None:
    """Broken JSON, nothing at all, or not an instrument: refused, nothing kept."""
    response = post_text(client, text)
    assert response.status_code == 400
    assert problem in response.get_data(as_text=True)
    assert rows(app) == []


def test_every_problem_is_listed_with_where_it_is(app: Flask, client, world: World) -> None:
    """Three mistakes in one file come back together, each naming the place, and the
    pasted text stays in the box to be fixed."""
    data = shipped("pain-nrs.json")
    data["version"] = "2"
    data["colour"] = "blue"
    data["items"][0]["options"][3]["value"] = 2
    del data["citation"]
    text = dumps(data)
    act_as(client, world.admin.id)
    response = post_text(client, text)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The file has 3 problems, listed below; nothing was imported." in page
    assert "The instrument: unknown field &#39;colour&#39;" in page
    assert "Item 1 (&#39;pain&#39;): the value 2 is given to 2 options." in page
    assert "The instrument: &#39;citation&#39; is missing." in page
    assert '"colour": "blue"' in page.replace("&#34;", '"')  # the text is kept
    assert rows(app) == []


def test_fsfi_with_changed_scoring_is_refused(app: Flask, client, world: World) -> None:
    """A licensed clinic adds the wording only: a changed validity rule or band is named."""
    data = worded_fsfi()
    data["validity"][0]["invalid_when_at_least"] = 10
    data["domains"][0]["label"] = "Interest"
    act_as(client, world.admin.id)
    response = post_text(client, dumps(data))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The validity rules differ from the shipped rules (only the wording may be added" in page
    assert "Domain &#39;desire&#39;: its label differs from the shipped rules" in page
    assert rows(app) == []


def test_fsfi_wording_needs_the_clinics_licence(app: Flask, client, world: World) -> None:
    """FSFI's terms are not established: wording imported as 'free' is refused, saying to
    record the clinic's licence."""
    data = worded_fsfi()
    data["licence"]["status"] = "free"
    act_as(client, world.admin.id)
    response = post_text(client, dumps(data))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "only a clinic holding a licence may add its wording" in page
    assert "set the licence status to &#39;clinic-licensed&#39;" in page


def test_a_scoring_only_file_is_refused(app: Flask, client, world: World) -> None:
    """A file without wording could never be asked of a patient."""
    data = shipped("marinoff.scoring.json")
    data["version"] = "2"
    act_as(client, world.admin.id)
    response = post_text(client, dumps(data))
    assert response.status_code == 400
    assert "Its questions have no wording (a scoring-only file)" in response.get_data(as_text=True)


def test_a_version_is_never_overwritten(app: Flask, client, world: World) -> None:
    """The same key and version twice is refused (answers refer to both); a new version is
    a new row and becomes the one asked; a shipped version cannot be imported over."""
    data = shipped("dilator-confidence.json")
    act_as(client, world.admin.id)
    shipped_copy = post_text(client, dumps(data))
    assert shipped_copy.status_code == 400
    assert "Version 1 of dilator-confidence ships with the application" in shipped_copy.get_data(
        as_text=True
    )
    data["version"] = "2"
    assert post_text(client, dumps(data)).status_code == 302
    again = post_text(client, dumps(data))
    assert again.status_code == 400
    assert "Version 2 of dilator-confidence was imported on" in again.get_data(as_text=True)
    data["version"] = "3"
    data["items"][0]["text"] = "Inserting your dilator"
    assert post_text(client, dumps(data)).status_code == 302
    assert [(r.version, r.retired_at) for r in rows(app)] == [("2", None), ("3", None)]
    with app.app_context():
        assert current(world.clinic_a, "dilator-confidence").version == "3"
        assert version_of(world.clinic_a, "dilator-confidence", "2").items[0].text == (
            "Putting your dilator in"
        )


def test_the_day_of_an_earlier_import_is_the_clinics_day(app: Flask, world: World) -> None:
    """Imported at 23:30 UTC on 1 July, which is 00:30 on 2 July in the clinic (London,
    summer time): importing the same version again names the clinic's day."""
    data = shipped("dilator-confidence.json")
    data["version"] = "2"
    with app.app_context():
        admin = db.session.get(User, world.admin.id)
        clinic = admin.clinic
        assert clinic.timezone == "Europe/London"
        services.import_instrument(
            clinic, dumps(data), admin, now=datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
        )
        with pytest.raises(services.ImportRefused) as refused:
            services.import_instrument(clinic, dumps(data), admin)
        db.session.rollback()
    assert any("was imported on 2 Jul 2026" in p for p in refused.value.problems)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"version": "v" * 21}, "The version is 21 characters long; use at most 20"),
        ({"title": "T" * 201}, "The title is 201 characters long; use at most 200"),
        ({"title": "Pain\u0000scale"}, "contains invisible control characters"),
    ],
)
def test_what_the_clinic_keeps_must_fit(
    app: Flask, client, world: World, change: dict[str, str], problem: str
) -> None:
    """Values copied into the instrument list must fit and hold no control characters
    (PostgreSQL cannot store NUL): refused in words, never a server error."""
    data = {**shipped("pain-nrs.json"), "version": "2", **change}
    act_as(client, world.admin.id)
    response = post_text(client, dumps(data))
    assert response.status_code == 400
    assert problem in response.get_data(as_text=True).replace("&#39;", "'")
    assert rows(app) == []


def test_a_translated_title_must_fit_too(app: Flask, client, world: World) -> None:
    """A translation's title is shown where the English one is, so it has the same limit."""
    data = {**shipped("pain-nrs.json"), "version": "2"}
    data["translations"][0]["title"] = "T" * 201
    act_as(client, world.admin.id)
    response = post_text(client, dumps(data))
    assert response.status_code == 400
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert "The 'es' title is 201 characters long; use at most 200" in page
    assert rows(app) == []


def test_the_licence_must_be_confirmed(app: Flask, client, world: World) -> None:
    """Without the confirmation nothing is imported, and the box says why."""
    data = {**shipped("pain-nrs.json"), "version": "2"}
    act_as(client, world.admin.id)
    response = post_text(client, dumps(data), confirm=False)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="licence_confirmed-error"' in page
    assert "Confirm that the clinic may use this instrument" in page
    assert rows(app) == []


def test_a_file_and_pasted_text_together_are_refused(app: Flask, client, world: World) -> None:
    """One source at a time, said next to the text box."""
    data = dumps({**shipped("pain-nrs.json"), "version": "2"})
    act_as(client, world.admin.id)
    response = client.post(
        URL,
        data={
            "file": (io.BytesIO(data.encode()), "pain.json"),
            "text": data,
            "licence_confirmed": "y",
        },
    )
    assert response.status_code == 400
    assert "Upload a file or paste its text, not both" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\xff\xfe{", "The file is not UTF-8 text"),
        (b" " * (services.MAX_DEFINITION_BYTES + 1), "The file is larger than 256 kB"),
    ],
)
def test_unreadable_or_large_files_are_refused(
    app: Flask, client, world: World, content: bytes, problem: str, as_admin
) -> None:
    """A file that is not UTF-8, or too large, is refused next to the file input."""
    response = client.post(
        URL,
        data={"file": (io.BytesIO(content), "x.json"), "licence_confirmed": "y"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="file-error"' in page and problem in page


# ---------------------------------------------------------------------------------------
# Retiring


def _retire(client, row_id: int):
    return client.post(f"{URL}{row_id}/retire", follow_redirects=True)


def test_retiring_a_version_brings_back_the_previous_one(app: Flask, client, world: World) -> None:
    """Retired: no longer asked, the shipped version is asked again, answers on it keep it,
    and the trail records who retired it."""
    data = {**shipped("pain-nrs.json"), "version": "2"}
    act_as(client, world.admin.id)
    post_text(client, dumps(data))
    [row] = rows(app)
    page = _retire(client, row.id).get_data(as_text=True)
    assert "version 2, was retired." in page
    [retired] = rows(app)
    assert retired.retired_at is not None
    with app.app_context():
        assert current(world.clinic_a, "pain-nrs").version == "1"
        assert version_of(world.clinic_a, "pain-nrs", "2") is not None
        assert (
            db.session.scalar(
                select(AuditEvent.object_id).where(AuditEvent.action == "instrument.retire")
            )
            == row.id
        )
    again = _retire(client, row.id).get_data(as_text=True)
    assert "This version was already retired." in again


def test_retiring_is_refused_while_patients_would_have_nothing_to_answer(
    app: Flask, client, world: World, as_admin
) -> None:
    """The licensed FSFI wording cannot be retired while a patient has FSFI assigned (they
    would be left with scoring rules only); once the assignment ends, it can."""
    post_text(client, dumps(worded_fsfi()))
    [row] = rows(app)
    with app.app_context():
        assignment = services.assign(
            db.session.get(Patient, world.patient.patient_id),
            "fsfi",
            Cadence.REPEATING,
            by=db.session.get(User, world.clinician.id),
            every_weeks=4,
        )
        db.session.commit()
        assignment_id = assignment.id
    page = _retire(client, row.id).get_data(as_text=True)
    assert "1 patient has Female Sexual Function Index (FSFI) assigned" in page
    assert rows(app)[0].retired_at is None
    with app.app_context():
        services.end_assignment(
            db.session.get(MeasureAssignment, assignment_id),
            db.session.get(User, world.clinician.id),
        )
        db.session.commit()
    _retire(client, row.id)
    assert rows(app)[0].retired_at is not None
    with app.app_context():
        assert not available(world.clinic_a)["fsfi"].administrable


def test_another_clinics_admin_cannot_retire(app: Flask, client, world: World) -> None:
    """Clinic B's administrator gets 404 for clinic A's import, and it stays."""
    act_as(client, world.admin.id)
    post_text(client, dumps({**shipped("pain-nrs.json"), "version": "2"}))
    [row] = rows(app)
    act_as(client, world.other_admin.id)
    assert client.post(f"{URL}{row.id}/retire").status_code == 404
    assert rows(app)[0].retired_at is None
    assert "Pain numeric rating scale" in client.get(URL).get_data(as_text=True)
    assert "version 2" not in client.get(URL).get_data(as_text=True)


# ---------------------------------------------------------------------------------------
# The list


def test_the_list_shows_every_questionnaire_with_its_licence(
    app: Flask, client, world: World
) -> None:
    """Clinicians and administrators see each instrument's version, licence and whether
    patients can be asked; only administrators see the import form and Retire."""
    act_as(client, world.clinician.id)
    page = client.get(URL).get_data(as_text=True)
    assert "Female Sexual Function Index (FSFI)" in page
    assert "No: scoring rules only, without the questions' wording" in page
    assert "Terms not established" in page and "Public domain" in page
    assert "Comes with the application" in page
    assert "Import a questionnaire" not in page
    act_as(client, world.admin.id)
    page = client.get(URL).get_data(as_text=True)
    assert "Import a questionnaire" in page
    assert 'enctype="multipart/form-data"' in page
    post_text(client, dumps({**shipped("pain-nrs.json"), "version": "2"}))
    page = client.get(URL).get_data(as_text=True)
    assert 'Retire<span class="visually-hidden"> Pain numeric rating scale' in page
    assert "In use" in page
    assert f"{clinic_today('Europe/London'):%d %b %Y}" in page


# ---------------------------------------------------------------------------------------
# Hostile files: each refused in words, never a server error


def _pain_text(old: str, new: str) -> str:
    """The shipped pain scale as a new version, with one piece of its JSON text replaced."""
    text = (FOLDER / "pain-nrs.json").read_text("utf-8").replace('"version": "1"', '"version": "2"')
    assert old in text
    return text.replace(old, new, 1)


HOSTILE = {
    "nested a thousand levels deep": (
        _pain_text('"recall_period": "past 7 days"', '"recall_period": ' + "[" * 1000 + "]" * 1000),
        "The file nests lists and objects more than 20 levels deep",
    ),
    "a range of 1e30": (
        _pain_text('"range": [0, 10]', '"range": [0, 1e30]'),
        "The total: range must be a number from -1000000 to 1000000, not 1E+30.",
    ),
    "a range of 1e999999": (
        _pain_text('"range": [0, 10]', '"range": [0, 1e999999]'),
        "The total: range must be a number from -1000000 to 1000000, not 1E+999999.",
    ),
    "an option value of 5,000 digits": (
        _pain_text('"value": 10,', '"value": ' + "9" * 5000 + ","),
        "Item 1 ('pain'), option 11: the value must be a whole number from -1000000 to"
        " 1000000, not a number 5000 digits long.",
    ),
    "a lone surrogate in the title": (
        _pain_text('"title": "Pain', '"title": "\\ud800Pain'),
        "The title contains \\ud800, which is half of a character (an unpaired surrogate)"
        " and cannot be stored: remove it.",
    ),
}


@pytest.mark.parametrize("how", ["paste", "upload"])
@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_hostile_files_are_refused_in_words(
    app: Flask, client, world: World, how: str, case: str
) -> None:
    """A file built to break the parser or the database (nesting deep enough to exhaust the
    stack, numbers too large for exact decimals or for int(), half of a UTF-16 pair that no
    database can store) is refused with a problem in words, pasted or uploaded, and
    nothing is kept."""
    text, problem = HOSTILE[case]
    act_as(client, world.admin.id)
    if how == "paste":
        response = post_text(client, text)
    else:
        response = client.post(
            URL,
            data={
                "file": (io.BytesIO(text.encode("utf-8")), "hostile.json"),
                "licence_confirmed": "y",
            },
        )
    assert response.status_code == 400
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert "nothing was imported" in page
    assert problem in page
    assert rows(app) == []
