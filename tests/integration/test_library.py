"""The clinic's protocol-template library: create, add stages, plan rules through the form,
edit with optimistic locking, copy, retire and restore, the seeded defaults, clinic scoping,
roles, and a constant query count on the list."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from clinic.domain.indications import Indication
from clinic.domain.protocols import StagePlan, plan_problems
from clinic.extensions import db
from clinic.library import services
from clinic.library.defaults import seed_clinic_library
from clinic.models import Clinic, DilatorSet, DilatorSize, ProtocolTemplate, TemplateStage
from tests.support.auth import act_as
from tests.support.forms import form_values
from tests.support.queries import queries_for
from tests.support.world import World

STALE = (
    "Someone else changed this template while you were editing. Your changes were not "
    "saved: reload the page to see their version."
)


# ---------------------------------------------------------------------------------------
# Helpers


def seed(app: Flask, clinic_id: int) -> dict[str, int]:
    """Give a clinic the default catalogue and templates; its size ids by label."""
    with app.app_context():
        seed_clinic_library(db.session.get(Clinic, clinic_id))
        db.session.commit()
        return {
            size.label: size.id
            for size in db.session.scalars(
                select(DilatorSize).join(DilatorSet).where(DilatorSet.clinic_id == clinic_id)
            )
        }


@pytest.fixture
def sizes(app: Flask, world: World) -> dict[str, int]:
    """Clinic A's dilator sizes by label, after seeding its default library."""
    return seed(app, world.clinic_a)


def stage(size_id: int | str, **overrides: Any) -> dict[str, Any]:
    """One stage as the form posts it (checkboxes: present when ticked)."""
    return {
        "dilator_size_id": str(size_id),
        "minutes": "10",
        "sessions": "1",
        "period": "day",
        "min_days": "14",
        "target_depth_cm": "",
        "technique_notes": "Plenty of lubricant; breathe slowly.",
        "pain_ceiling": "3",
        "last_n_sessions": "6",
        "min_adherence_pct": "80",
        "red_flag_pain": "7",
        "limits_reason": "",
        **overrides,
    }


def plan_form(
    stages: list[dict[str, Any]], action: str = "save", **overrides: Any
) -> dict[str, str]:
    """The whole template form as POST data, stages flattened to stages-<i>-<field>."""
    data: dict[str, str] = {
        "name": "Test plan",
        "indication": "vaginismus",
        "route": "vaginal",
        "description": "A plan for the tests.",
        "action": action,
    }
    for i, values in enumerate(stages):
        for name, value in values.items():
            if value is True:
                data[f"stages-{i}-{name}"] = "y"
            elif value is not False:
                data[f"stages-{i}-{name}"] = str(value)
    data.update(overrides)
    return data


def text(response: Any) -> str:
    """A page's HTML with entities decoded, so messages read as written."""
    return html.unescape(response.get_data(as_text=True))


def error_next_to(page: str, field_id: str) -> str:
    """The error message shown under the field with this id ("" when none)."""
    match = re.search(rf'id="{re.escape(field_id)}-error"[^>]*>(.*?)</small>', page, re.S)
    return match.group(1) if match else ""


def value_of(page: str, name: str) -> str | None:
    """The value an input of the page holds (None when there is no such input)."""
    for tag in re.findall(r"<input[^>]*>", page):
        if f'name="{name}"' in tag:
            found = re.search(r'value="([^"]*)"', tag)
            return found.group(1) if found else ""
    return None


def template_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ProtocolTemplate))


def template_id_named(app: Flask, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(ProtocolTemplate.id).where(ProtocolTemplate.name == name))


def stage_rows(app: Flask, template_id: int) -> list[tuple[int, int, int, int]]:
    """(id, position, size id, minutes) of a template's stages, in order."""
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                select(
                    TemplateStage.id,
                    TemplateStage.position,
                    TemplateStage.dilator_size_id,
                    TemplateStage.minutes,
                )
                .where(TemplateStage.template_id == template_id)
                .order_by(TemplateStage.position)
            )
        ]


def lock_version(app: Flask, template_id: int) -> int:
    with app.app_context():
        return db.session.get(ProtocolTemplate, template_id).lock_version


def make_template(app: Flask, clinic_id: int, sizes: dict[str, int], name: str) -> int:
    """A two-stage vaginal template written directly (for tests that need many)."""
    with app.app_context():
        template = ProtocolTemplate(
            clinic_id=clinic_id,
            name=name,
            indication=Indication.DYSPAREUNIA,
            route="vaginal",
            stages=[
                TemplateStage(
                    position=n,
                    dilator_size_id=sizes[label],
                    minutes=10,
                    sessions=1,
                    period="day",
                    min_days=14,
                )
                for n, label in enumerate(["Size 1", "Size 2"], start=1)
            ],
        )
        db.session.add(template)
        db.session.commit()
        return template.id


# ---------------------------------------------------------------------------------------
# Creating a template


def test_clinician_creates_a_template_with_two_stages(
    app: Flask, client, world: World, sizes: dict[str, int], as_clinician
) -> None:
    """A valid form with two stages creates the template in the clinician's clinic, stages
    at positions 1 and 2 in the order given, and shows the plan."""
    data = plan_form(
        [
            stage(sizes["Size 1"], target_depth_cm="8.5"),
            stage(sizes["Size 2"], sessions="3", period="week", min_days="21"),
        ],
        name="Two-step plan",
    )
    response = client.post("/templates/new", data=data)
    assert response.status_code == 302
    template_id = template_id_named(app, "Two-step plan")
    assert response.headers["Location"] == f"/templates/{template_id}"
    with app.app_context():
        template = db.session.get(ProtocolTemplate, template_id)
        assert template.clinic_id == world.clinic_a
        assert template.indication is Indication.VAGINISMUS
        assert [(s.position, s.dilator_size_id) for s in template.stages] == [
            (1, sizes["Size 1"]),
            (2, sizes["Size 2"]),
        ]
        assert template.stages[0].target_depth_cm == 8.5
        assert template.stages[1].period.value == "week"
    page = text(client.get(response.headers["Location"]))
    assert "was saved" in page
    assert "Two-step plan" in page and "Size 1 (13 mm)" in page and "3 times a week" in page


def test_new_template_form_saves_on_enter(
    client, world: World, sizes: dict[str, int], as_clinician
) -> None:
    """The new-template page offers one stage with the usual starting values, and its
    first submit button (the one Enter presses) saves rather than adding a stage."""
    page = text(client.get("/templates/new"))
    buttons = re.findall(r'<button type="submit" name="action" value="(\w+)"', page)
    assert buttons[0] == "save" and buttons[-1] == "save" and "add_stage" in buttons
    assert 'name="stages-0-minutes"' in page and 'name="stages-1-minutes"' not in page
    assert value_of(page, "stages-0-pain_ceiling") == "3"
    assert "13 mm · Size 1 — Graduated vaginal set" in page  # the catalogue is on offer


def test_add_a_stage_shows_one_more_and_saves_nothing(
    app: Flask, client, world: World, sizes: dict[str, int], as_clinician
) -> None:
    """ "Add a stage" returns the form with one more stage (a copy of the last one to edit),
    keeps what was typed, shows no error even for incomplete input, and saves nothing."""
    before = template_count(app)
    data = plan_form([stage(sizes["Size 1"], minutes="12")], action="add_stage", name="")
    response = client.post("/templates/new", data=data)
    page = text(response)
    assert response.status_code == 200
    assert template_count(app) == before
    assert value_of(page, "stages-1-minutes") == "12"
    assert 'name="stages-2-minutes"' not in page
    assert "Error:" not in page and "error-summary" not in page


def test_adding_past_the_most_stages_is_refused_politely(
    app: Flask, client, world: World, sizes: dict[str, int], as_clinician
) -> None:
    """A plan already at 20 stages gets a message instead of a 21st stage (or an error)."""
    data = plan_form([stage(sizes["Size 1"])] * 20, action="add_stage")
    response = client.post("/templates/new", data=data)
    page = text(response)
    assert response.status_code == 200
    assert "A template has at most 20 stages" in page
    assert 'name="stages-20-minutes"' not in page


# ---------------------------------------------------------------------------------------
# Plan rules and junk input


@pytest.mark.parametrize(
    ("route", "stages", "field_id", "message"),
    [
        (
            "vaginal",
            [("Size 3", {}), ("Size 1", {})],
            "stages-1-dilator_size_id",
            "Stage 2: the dilator (13 mm) is smaller than stage 1's (21 mm). Sizes never go down",
        ),
        (
            "vaginal",
            [("Size 1", {}), ("Size 3", {})],
            "stages-1-limits_reason",
            # Issue 16: one message for every way a stage goes beyond the usual limits.
            "Stage 2 goes beyond the usual limits: a step of 8 mm (this clinic's maximum is "
            "5 mm). Confirm it by giving the reason.",
        ),
        (
            "anal",
            [("Anal 1", {}), ("Size 1", {})],
            "stages-1-dilator_size_id",
            "Stage 2: this dilator is made for vaginal use and cannot be used in an anal protocol.",
        ),
        (
            "vaginal",
            [("Size 1", {"is_maintenance": True}), ("Size 2", {})],
            "stages-0-is_maintenance",
            "Stage 1: a maintenance phase has no end, so only the last stage can be one.",
        ),
        (
            "vaginal",
            [("Size 1", {"pain_ceiling": "5", "red_flag_pain": "5"})],
            "stages-0-red_flag_pain",
            "Stage 1: the red-flag pain level must be above the pain ceiling for progressing "
            "(5/10).",
        ),
        (
            "vaginal",
            [("Size 1", {"sessions": "5", "period": "day"})],
            "stages-0-sessions",
            "Stage 1: at most 4 sessions per day.",
        ),
    ],
    ids=[
        "size-goes-down",
        "jump-without-reason",
        "vaginal-size-in-anal",
        "maintenance-not-last",
        "red-flag-not-above-ceiling",
        "too-many-per-day",
    ],
)
def test_plan_rules_are_explained_next_to_the_field(
    app: Flask,
    client,
    world: World,
    sizes: dict[str, int],
    route: str,
    stages: list[tuple[str, dict[str, Any]]],
    field_id: str,
    message: str,
    as_clinician,
) -> None:
    """Each plan rule refuses the save with its plain message under the stage field it
    concerns, listed in the summary too; nothing is saved and the input is kept."""
    before = template_count(app)
    data = plan_form(
        [stage(sizes[label], **extra) for label, extra in stages],
        route=route,
        name="Kept name",
    )
    response = client.post("/templates/new", data=data)
    page = text(response)
    assert response.status_code == 200
    assert message in error_next_to(page, field_id)
    assert f'href="#{field_id}"' in page  # the summary links to the field
    assert template_count(app) == before
    assert 'value="Kept name"' in page
    assert f'<option selected value="{sizes[stages[-1][0]]}">' in page


def test_a_big_step_is_accepted_with_a_reason(
    app: Flask, client, world: World, sizes: dict[str, int], as_clinician
) -> None:
    """A step over the clinic's maximum is saved once the clinician gives the reason."""
    data = plan_form(
        [
            stage(sizes["Size 1"]),
            stage(sizes["Size 3"], limits_reason="Size 2 tolerated in clinic already."),
        ],
        name="With a jump",
    )
    assert client.post("/templates/new", data=data).status_code == 302
    template_id = template_id_named(app, "With a jump")
    with app.app_context():
        reason = db.session.get(ProtocolTemplate, template_id).stages[1].limits_reason
    assert reason == "Size 2 tolerated in clinic already."
    assert "Size 2 tolerated in clinic already." in text(client.get(f"/templates/{template_id}"))


def test_the_step_limit_is_the_clinics_own(
    app: Flask, client, world: World, sizes: dict[str, int]
) -> None:
    """A clinic whose maximum step is 10 mm saves an 8 mm step without a reason."""
    with app.app_context():
        db.session.get(Clinic, world.clinic_a).max_step_mm = 10
        db.session.commit()
    act_as(client, world.clinician.id)
    data = plan_form([stage(sizes["Size 1"]), stage(sizes["Size 3"])], name="Wide steps")
    assert client.post("/templates/new", data=data).status_code == 302


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Give the template a name."),
        ("name", "x" * 121, "Use at most 120 characters."),
        ("description", "x" * 2001, "Use at most 2000 characters."),
        ("indication", "astrology", "Not a valid choice"),
        ("route", "oral", "Not a valid choice"),
        ("stages-0-minutes", "-5", "Enter a whole number from 1 to 60."),
        ("stages-0-minutes", "ten", "Enter a whole number, for example 7."),
        ("stages-0-minutes", "", "Enter a whole number from 1 to 60."),
        ("stages-0-sessions", "1e3", "Enter a whole number, for example 7."),
        ("stages-0-min_days", "99999999999999999999999", "Enter a whole number from 0 to 365."),
        ("stages-0-pain_ceiling", "-1", "Enter a whole number from 0 to 10"),
        ("stages-0-red_flag_pain", "0", "Enter a whole number from 1 to 10"),
        ("stages-0-min_adherence_pct", "150", "Enter a whole number from 0 to 100."),
        ("stages-0-target_depth_cm", "deep", "Enter a number, for example 12.5."),
        ("stages-0-target_depth_cm", "nan", "Enter a number, for example 12.5."),
        ("stages-0-target_depth_cm", "-3", "Enter a depth from 1 to 25 cm"),
        ("stages-0-period", "month", "Not a valid choice"),
        ("stages-0-dilator_size_id", "", "Choose a dilator."),
        ("stages-0-dilator_size_id", "abc", "Choose a dilator from the list."),
        ("stages-0-dilator_size_id", "999999", "Choose a dilator from the list."),
        ("stages-0-technique_notes", "breathe\x00", "Remove the invisible control characters"),
        ("stages-0-limits_reason", "x" * 301, "Use at most 300 characters."),
    ],
)
def test_junk_input_is_explained_and_kept(
    app: Flask,
    client,
    world: World,
    sizes: dict[str, int],
    field: str,
    value: str,
    message: str,
    as_clinician,
) -> None:
    """Whatever is typed (or forged), the answer is the form again with a plain message
    next to the field, never a server error, and nothing is saved."""
    before = template_count(app)
    data = plan_form([stage(sizes["Size 1"])], name="Junk test")
    data[field] = value
    response = client.post("/templates/new", data=data)
    page = text(response)
    assert response.status_code == 200
    assert message in error_next_to(page, field)
    assert template_count(app) == before
    if field != "name":
        assert 'value="Junk test"' in page


def test_another_clinics_dilator_is_refused(
    app: Flask, client, world: World, sizes: dict[str, int]
) -> None:
    """A size id from another clinic's catalogue (forged into the form) is refused like
    an unknown size and nothing is saved."""
    other_sizes = seed(app, world.clinic_b)
    act_as(client, world.clinician.id)
    before = template_count(app)
    data = plan_form([stage(sizes["Size 1"]), stage(other_sizes["Size 2"])])
    response = client.post("/templates/new", data=data)
    assert response.status_code == 200
    assert error_next_to(text(response), "stages-1-dilator_size_id")
    assert template_count(app) == before


def test_stages_marked_for_removal_are_dropped(
    app: Flask, client, world: World, sizes: dict[str, int], as_clinician
) -> None:
    """A stage with "Remove this stage" ticked is not saved; the others keep their order
    and are numbered 1..n."""
    data = plan_form(
        [
            stage(sizes["Size 1"], minutes="5"),
            stage(sizes["Size 2"], minutes="6", remove=True),
            stage(sizes["Size 2"], minutes="7"),
        ],
        name="Pruned",
    )
    assert client.post("/templates/new", data=data).status_code == 302
    rows = stage_rows(app, template_id_named(app, "Pruned"))
    assert [(position, minutes) for _, position, _, minutes in rows] == [(1, 5), (2, 7)]


def test_removing_every_stage_is_refused(
    app: Flask, client, world: World, sizes: dict[str, int], as_clinician
) -> None:
    """A plan needs at least one stage: ticking "remove" on all of them is explained."""
    before = template_count(app)
    data = plan_form([stage(sizes["Size 1"], remove=True), stage(sizes["Size 2"], remove=True)])
    page = text(client.post("/templates/new", data=data))
    assert "Error: Keep at least one stage." in page
    assert template_count(app) == before


# ---------------------------------------------------------------------------------------
# Editing, with optimistic locking


def test_edit_replaces_the_details_and_stages(
    app: Flask, client, world: World, sizes: dict[str, int], as_clinician
) -> None:
    """Saving an edit replaces the stages with the kept ones (positions 1..n) and moves the
    template's version on."""
    template_id = make_template(app, world.clinic_a, sizes, "Before")
    page = text(client.get(f"/templates/{template_id}/edit"))
    assert value_of(page, "lock_version") == "1"
    assert 'value="Before"' in page and 'name="stages-1-minutes"' in page
    data = plan_form(
        [stage(sizes["Size 2"], minutes="15"), stage(sizes["Size 3"]), stage(sizes["Size 4"])],
        name="After",
        lock_version="1",
    )
    response = client.post(f"/templates/{template_id}/edit", data=data)
    assert response.headers["Location"] == f"/templates/{template_id}"
    rows = stage_rows(app, template_id)
    assert [(p, s, m) for _, p, s, m in rows] == [
        (1, sizes["Size 2"], 15),
        (2, sizes["Size 3"], 10),
        (3, sizes["Size 4"], 10),
    ]
    assert lock_version(app, template_id) == 2
    assert "Your changes to “After” were saved." in text(client.get(response.headers["Location"]))


def test_edit_from_a_stale_copy_is_refused_and_keeps_the_input(
    app: Flask, client, world: World, sizes: dict[str, int], as_clinician
) -> None:
    """An edit based on an older version (someone saved in between, even only the stages)
    is refused with a clear message; what the clinician typed is still in the form and the
    template is unchanged."""
    template_id = make_template(app, world.clinic_a, sizes, "Shared")
    colleague_edit = plan_form(
        [stage(sizes["Size 1"], minutes="20"), stage(sizes["Size 2"])],
        name="Shared",
        lock_version="1",
    )
    assert client.post(f"/templates/{template_id}/edit", data=colleague_edit).status_code == 302
    assert lock_version(app, template_id) == 2  # a stages-only change still moves the version
    saved = stage_rows(app, template_id)

    my_edit = plan_form(
        [stage(sizes["Size 1"], minutes="33")], name="My new name", lock_version="1"
    )
    response = client.post(f"/templates/{template_id}/edit", data=my_edit)
    page = text(response)
    assert response.status_code == 409
    assert STALE in page
    assert 'value="My new name"' in page and value_of(page, "stages-0-minutes") == "33"
    assert value_of(page, "lock_version") == "1"
    assert stage_rows(app, template_id) == saved
    with app.app_context():
        assert db.session.get(ProtocolTemplate, template_id).name == "Shared"


def test_every_default_template_saves_unchanged_through_the_edit_form(
    app: Flask, client, world: World, sizes: dict[str, int], as_clinician
) -> None:
    """The edit page shows a template exactly as stored: submitting it untouched passes
    every rule and leaves the stages as they were (new rows, same prescription)."""
    with app.app_context():
        templates = {
            t.id: [s.stage_values() for s in t.stages]
            for t in db.session.scalars(
                select(ProtocolTemplate).where(ProtocolTemplate.clinic_id == world.clinic_a)
            )
        }
    for template_id, stages_before in templates.items():
        values = form_values(client.get(f"/templates/{template_id}/edit").get_data(as_text=True))
        response = client.post(f"/templates/{template_id}/edit", data={**values, "action": "save"})
        assert response.status_code == 302, template_id
        with app.app_context():
            template = db.session.get(ProtocolTemplate, template_id)
            assert [s.stage_values() for s in template.stages] == stages_before
            assert template.lock_version == 2


@pytest.mark.parametrize("forged", ["", "abc", "-1"])
def test_edit_without_a_usable_lock_version_is_refused(
    app: Flask, client, world: World, sizes: dict[str, int], forged: str, as_clinician
) -> None:
    """A missing or tampered lock_version never passes for the current one."""
    template_id = make_template(app, world.clinic_a, sizes, "Guarded")
    data = plan_form([stage(sizes["Size 1"])], name="Changed", lock_version=forged)
    response = client.post(f"/templates/{template_id}/edit", data=data)
    assert response.status_code == 409
    assert STALE in text(response)


def test_a_save_racing_another_is_refused_at_commit(
    app: Flask,
    client,
    world: World,
    sizes: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    as_clinician,
) -> None:
    """If another save lands between the version check and the write, the database's
    version check (StaleDataError) refuses it with the same message and nothing is kept."""
    template_id = make_template(app, world.clinic_a, sizes, "Raced")
    real_update = services.update_template

    def update_after_a_colleague(template, details, based_on_version) -> None:
        # Another writer moves the version on behind the ORM's back (in this transaction,
        # so it is rolled back with ours): the in-memory copy still says version 1.
        table = ProtocolTemplate.__table__
        db.session.execute(
            update(table)
            .where(table.c.id == template.id)
            .values(lock_version=table.c.lock_version + 1)
        )
        real_update(template, details, based_on_version)

    monkeypatch.setattr("clinic.library.views.update_template", update_after_a_colleague)
    data = plan_form([stage(sizes["Size 1"], minutes="41")], name="Mine", lock_version="1")
    response = client.post(f"/templates/{template_id}/edit", data=data)
    page = text(response)
    assert response.status_code == 409
    assert STALE in page and 'value="Mine"' in page
    with app.app_context():
        template = db.session.get(ProtocolTemplate, template_id)
        assert template.name == "Raced" and template.lock_version == 1
    assert [m for *_, m in stage_rows(app, template_id)] == [10, 10]


def test_edit_keeps_a_retired_size_the_template_uses(
    app: Flask, client, world: World, sizes: dict[str, int]
) -> None:
    """A size retired from the catalogue stays selectable in a template that uses it, and
    is not offered for new templates."""
    template_id = make_template(app, world.clinic_a, sizes, "Old kit")
    with app.app_context():
        db.session.get(DilatorSize, sizes["Size 2"]).retired_at = services.utcnow()
        db.session.commit()
    act_as(client, world.clinician.id)
    page = text(client.get(f"/templates/{template_id}/edit"))
    assert "17 mm · Size 2 — Graduated vaginal set (retired)" in page
    assert "Size 2 (17 mm)" not in text(client.get("/templates/new"))


# ---------------------------------------------------------------------------------------
# Copy, retire, restore


def test_copy_is_independent_of_the_original(
    app: Flask, client, world: World, sizes: dict[str, int], as_clinician
) -> None:
    """Copying makes "Copy of <name>" with its own stage rows and opens it for editing;
    editing the copy leaves the original's stages alone, and the other way round."""
    original_id = make_template(app, world.clinic_a, sizes, "Original")
    response = client.post(f"/templates/{original_id}/copy")
    copy_id = template_id_named(app, "Copy of Original")
    assert response.headers["Location"] == f"/templates/{copy_id}/edit"
    assert "This is a copy of “Original”" in text(client.get(response.headers["Location"]))
    original_rows, copy_rows = stage_rows(app, original_id), stage_rows(app, copy_id)
    assert [r[1:] for r in copy_rows] == [r[1:] for r in original_rows]
    assert not {r[0] for r in copy_rows} & {r[0] for r in original_rows}

    client.post(
        f"/templates/{copy_id}/edit",
        data=plan_form([stage(sizes["Size 3"], minutes="25")], name="Copy", lock_version="1"),
    )
    assert stage_rows(app, original_id) == original_rows
    client.post(
        f"/templates/{original_id}/edit",
        data=plan_form([stage(sizes["Size 5"], minutes="9")], name="Orig", lock_version="1"),
    )
    assert [r[2:] for r in stage_rows(app, copy_id)] == [(sizes["Size 3"], 25)]
    assert [r[2:] for r in stage_rows(app, original_id)] == [(sizes["Size 5"], 9)]


def test_retire_and_restore(
    app: Flask, client, world: World, sizes: dict[str, int], as_clinician
) -> None:
    """Retiring keeps the template but moves it to the "Retired" section of the library, in
    words; restoring puts it back in use."""
    template_id = make_template(app, world.clinic_a, sizes, "Seasonal plan")
    response = client.post(f"/templates/{template_id}/retire")
    assert response.headers["Location"] == f"/templates/{template_id}"
    page = text(client.get(response.headers["Location"]))
    assert "was retired" in page and "Restore" in page
    index = text(client.get("/templates/"))
    retired_part = index.split('id="retired-heading"', 1)[1]
    assert "Seasonal plan" in retired_part and "Retired on" in retired_part
    assert "Seasonal plan" not in index.split('id="retired-heading"', 1)[0]
    assert "was already retired" in text(
        client.get(client.post(f"/templates/{template_id}/retire").headers["Location"])
    )

    client.post(f"/templates/{template_id}/restore")
    with app.app_context():
        assert db.session.get(ProtocolTemplate, template_id).retired_at is None
    index = text(client.get("/templates/"))
    assert 'id="retired-heading"' not in index and "Seasonal plan" in index


# ---------------------------------------------------------------------------------------
# Reading: the library and one template


def test_seeded_defaults_cover_each_indication_but_anal_fissure(
    app: Flask, client, world: World, sizes: dict[str, int]
) -> None:
    """A new clinic's library has one template per indication of the clinical reference,
    except anal fissure (surgeon-directed), and each of them obeys the plan rules."""
    with app.app_context():
        templates = db.session.scalars(
            select(ProtocolTemplate).where(ProtocolTemplate.clinic_id == world.clinic_a)
        ).all()
        assert sorted(t.indication for t in templates) == sorted(
            [
                Indication.VAGINISMUS,
                Indication.DYSPAREUNIA,
                Indication.PELVIC_RADIOTHERAPY,
                Indication.VAGINOPLASTY,
                Indication.ANAL_STENOSIS,
                Indication.LEVATOR_ANI,
                Indication.CHRONIC_PELVIC_PAIN,
                Indication.VAGINAL_AGENESIS,
                Indication.MENOPAUSE_GSM,
                Indication.PERINEAL_SCARRING,
                Indication.LICHEN_SCLEROSUS,
            ]
        )
        max_step = db.session.get(Clinic, world.clinic_a).max_step_mm
        for template in templates:
            plans = [
                StagePlan(
                    s.stage_values(),
                    s.dilator_size.diameter_mm,
                    s.dilator_size.dilator_set.intended_use,
                    s.dilator_size.dilator_set.flared_base,
                )
                for s in template.stages
            ]
            assert plan_problems(plans, template.route, max_step) == [], template.name
            # Every default carries its evidence and a date to check it again.
            assert template.sources.strip() and template.review_on is not None, template.name
    act_as(client, world.clinician.id)
    page = text(client.get("/templates/"))
    for template in templates:
        assert template.name in page and template.indication.label in page
    assert "13 to 38 mm" in page  # the vaginismus plan's size range


def test_template_page_reads_as_a_plan(
    app: Flask, client, world: World, sizes: dict[str, int], as_clinician
) -> None:
    """The plan table says each stage's dilator, schedule, minimum time (or "Maintenance
    (no end)"), progression rule and red flag in words, with technique notes."""
    template_id = template_id_named(app, "After vaginoplasty: intensive then maintenance")
    page = text(client.get(f"/templates/{template_id}"))
    assert '<th scope="col">Dilator</th>' in page
    assert '<td class="nowrap">25 mm</td>' in page and "3 times a day" in page and "14 days" in page
    assert "Maintenance (no end)" in page
    nbsp = "\N{NO-BREAK SPACE}"  # each sign held to its number
    assert f"pain ≤{nbsp}3 over last 6 sessions, adherence ≥{nbsp}80%" in page
    assert f"pain ≥{nbsp}7" in page
    assert "Insert to your measured depth." in page
    assert "Anal fissure" not in page


def test_anal_fissure_template_shows_the_surgeon_note(
    app: Flask, client, world: World, sizes: dict[str, int], as_clinician
) -> None:
    """A template for anal fissure carries a visible note that a protocol from it must be
    directed by the treating surgeon, with the procedure date. (Wording now covers every
    surgeon-directed indication.)"""
    data = plan_form(
        [stage(sizes["Anal 1"], minutes="5"), stage(sizes["Anal 2"], minutes="5")],
        name="Fissure, surgeon-directed",
        indication="anal_fissure",
        route="anal",
    )
    response = client.post("/templates/new", data=data)
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "Directed by the treating surgeon only." in page
    assert "records the date of the procedure" in page
    edit_page = text(client.get(response.headers["Location"] + "/edit"))
    assert "Directed by the treating surgeon only." in edit_page
    assert "Surgeon-directed only" in text(client.get("/templates/"))


def test_library_query_count_is_constant(
    app: Flask, client, world: World, sizes: dict[str, int], as_clinician
) -> None:
    """The library page costs the same number of queries with 12 templates as with 20
    (stages and their sizes are loaded in bulk), retired ones included."""
    retired = make_template(app, world.clinic_a, sizes, "Retired early")
    client.post(f"/templates/{retired}/retire")
    assert template_count(app) == 12  # 11 defaults in use, 1 retired
    with_six = queries_for(app, client, "/templates/")
    for n in range(8):
        make_template(app, world.clinic_a, sizes, f"Extra {n:02d}")
    with_twenty = queries_for(app, client, "/templates/")
    assert with_six == with_twenty
    page = text(client.get("/templates/"))
    assert page.count('<th scope="row">') == 20
    assert with_twenty <= 6


# ---------------------------------------------------------------------------------------
# Access: clinic scoping and roles

SCOPED_ROUTES = [
    ("GET", "/templates/{id}"),
    ("GET", "/templates/{id}/edit"),
    ("POST", "/templates/{id}/edit"),
    ("POST", "/templates/{id}/copy"),
    ("POST", "/templates/{id}/retire"),
    ("POST", "/templates/{id}/restore"),
]


@pytest.mark.parametrize(("method", "url"), SCOPED_ROUTES)
def test_another_clinics_template_is_not_found(
    app: Flask, client, world: World, sizes: dict[str, int], method: str, url: str
) -> None:
    """A clinician of another clinic gets 404 for every route that names a template, reading
    or writing, and nothing changes."""
    template_id = make_template(app, world.clinic_a, sizes, "Clinic A only")
    act_as(client, world.other_clinician.id)
    before = template_count(app)
    address = url.format(id=template_id)
    if method == "GET":
        response = client.get(address)
    else:
        response = client.post(
            address, data=plan_form([stage(sizes["Size 1"])], name="Hijack", lock_version="1")
        )
    assert response.status_code == 404
    assert template_count(app) == before
    with app.app_context():
        template = db.session.get(ProtocolTemplate, template_id)
        assert template.name == "Clinic A only" and template.retired_at is None


@pytest.mark.parametrize("who", ["patient", "admin"])
@pytest.mark.parametrize(
    ("method", "url"),
    [("GET", "/templates/"), ("GET", "/templates/new"), ("POST", "/templates/new"), *SCOPED_ROUTES],
)
def test_only_clinicians_use_the_library(
    app: Flask, client, world: World, sizes: dict[str, int], who: str, method: str, url: str
) -> None:
    """Patients and administrators are refused (403) on every library route."""
    template_id = make_template(app, world.clinic_a, sizes, "Clinicians only")
    act_as(client, getattr(world, who).id)
    address = url.format(id=template_id)
    response = client.get(address) if method == "GET" else client.post(address, data={})
    assert response.status_code == 403
