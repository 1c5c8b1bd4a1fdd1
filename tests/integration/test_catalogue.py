"""The dilator catalogue: clinicians keep their clinic's sets and sizes, sizes that plans
use are retired instead of deleted and keep their diameter, and nothing crosses clinics."""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import func, select

from clinic.catalogue.services import CatalogueError, SizeDetails, add_size
from clinic.domain.indications import Indication
from clinic.domain.protocols import IntendedUse, Period, ProtocolStatus, Route
from clinic.extensions import db
from clinic.library.defaults import VAGINAL_SET, seed_clinic_library
from clinic.models import (
    Clinic,
    DilatorSet,
    DilatorSize,
    Protocol,
    ProtocolStage,
    ProtocolTemplate,
    ProtocolVersion,
    TemplateStage,
)
from clinic.models.types import utcnow
from tests.support.auth import act_as
from tests.support.queries import count_queries
from tests.support.world import World

# ---------------------------------------------------------------------------------------
# Helpers


@dataclass(frozen=True)
class SetIds:
    """A set as tests use it: its id and its sizes' ids by label."""

    id: int
    sizes: dict[str, int]


def make_set(
    app: Flask,
    clinic_id: int,
    name: str = "Graduated set",
    sizes: tuple[tuple[str, float, int | None], ...] = (("Size 1", 13, 90), ("Size 2", 17, 100)),
    intended_use: IntendedUse = IntendedUse.VAGINAL,
    flared_base: bool = False,
) -> SetIds:
    """A dilator set with sizes, committed."""
    with app.app_context():
        dilator_set = DilatorSet(
            clinic_id=clinic_id,
            name=name,
            material="Silicone",
            intended_use=intended_use,
            flared_base=flared_base,
        )
        db.session.add(dilator_set)
        rows = [
            DilatorSize(
                dilator_set=dilator_set, label=label, diameter_mm=mm, insertable_length_mm=length
            )
            for label, mm, length in sizes
        ]
        db.session.add_all(rows)
        db.session.commit()
        return SetIds(dilator_set.id, {row.label: row.id for row in rows})


STAGE = {"minutes": 10, "sessions": 1, "period": Period.DAY, "min_days": 14}


def use_in_template(app: Flask, clinic_id: int, size_id: int) -> None:
    """A library template whose only stage prescribes the size."""
    with app.app_context():
        db.session.add(
            ProtocolTemplate(
                clinic_id=clinic_id,
                name="Template",
                indication=Indication.VAGINISMUS,
                route=Route.VAGINAL,
                stages=[TemplateStage(position=1, dilator_size_id=size_id, **STAGE)],
            )
        )
        db.session.commit()


def use_in_protocol(app: Flask, clinic_id: int, patient_id: int, size_id: int) -> None:
    """A patient's protocol whose first version prescribes the size."""
    with app.app_context():
        protocol = Protocol(
            clinic_id=clinic_id,
            patient_id=patient_id,
            name="Protocol",
            indication=Indication.VAGINISMUS,
            route=Route.VAGINAL,
            status=ProtocolStatus.ACTIVE,
        )
        protocol.versions.append(
            ProtocolVersion(
                number=1,
                content_hash="0" * 64,
                stages=[ProtocolStage(position=1, dilator_size_id=size_id, **STAGE)],
            )
        )
        db.session.add(protocol)
        db.session.commit()


def size_row(app: Flask, size_id: int) -> DilatorSize | None:
    """The size as stored (detached), or None once deleted."""
    with app.app_context():
        size = db.session.get(DilatorSize, size_id)
        if size is not None:
            db.session.expunge(size)
        return size


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def page(client, url: str) -> str:
    """The page's text with HTML entities decoded (apostrophes, quotes)."""
    return html_lib.unescape(client.get(url).get_data(as_text=True))


def follow(client, response) -> str:
    assert response.status_code == 302, response.status_code
    return page(client, response.headers["Location"])


VALID_SET = {
    "name": "Rigid vaginoplasty set",
    "material": "Medical-grade plastic",
    "intended_use": "vaginal",
    "notes": "Depth marks every centimetre.",
}
VALID_SIZE = {"label": "27.5 mm", "diameter_mm": "27.5", "insertable_length_mm": "190"}


# ---------------------------------------------------------------------------------------
# Sets and sizes


def test_clinician_creates_a_set_and_adds_sizes(
    app: Flask, client, world: World, as_clinician
) -> None:
    """A new set belongs to the clinician's clinic and leads straight to adding sizes; the
    catalogue then lists its sizes smallest first with diameter, length and status."""
    response = client.post("/catalogue/sets/new", data=VALID_SET)
    assert response.status_code == 302
    with app.app_context():
        created = db.session.scalar(select(DilatorSet).where(DilatorSet.name == VALID_SET["name"]))
        assert created.clinic_id == world.clinic_a
        assert created.intended_use is IntendedUse.VAGINAL
        set_id = created.id
    assert response.headers["Location"] == f"/catalogue/sets/{set_id}/sizes/new"
    assert "Rigid vaginoplasty set was added" in page(client, response.headers["Location"])

    client.post(f"/catalogue/sets/{set_id}/sizes/new", data=VALID_SIZE)
    response = client.post(
        f"/catalogue/sets/{set_id}/sizes/new",
        data={"label": "25 mm", "diameter_mm": "25", "insertable_length_mm": ""},
    )
    assert response.headers["Location"] == f"/catalogue/#set-{set_id}"
    html = follow(client, response)
    assert "25 mm was added to Rigid vaginoplasty set" in html
    assert "Medical-grade plastic" in html and "Depth marks every centimetre." in html
    assert html.index(">25 mm<") < html.index(">27.5 mm<")  # smallest first
    assert "<td>25.0</td>" in html and "<td>27.5</td>" in html and "<td>190</td>" in html
    assert "Not recorded" in html  # the length left empty
    assert html.count("<td>Active</td>") == 2


def test_diameter_is_rounded_to_one_decimal(app: Flask, client, world: World) -> None:
    """Diameters are kept to a tenth of a millimetre, halves rounded up."""
    ids = make_set(app, world.clinic_a)
    act_as(client, world.clinician.id)
    for label, typed, stored in [("A", "27.54", 27.5), ("B", "27.25", 27.3), ("C", " 30 ", 30)]:
        data = {"label": label, "diameter_mm": typed, "insertable_length_mm": ""}
        assert client.post(f"/catalogue/sets/{ids.id}/sizes/new", data=data).status_code == 302
        with app.app_context():
            size = db.session.scalar(select(DilatorSize).where(DilatorSize.label == label))
            assert size.diameter_mm == stored


def test_clinician_edits_a_set(app: Flask, client, world: World) -> None:
    """The edit form starts from the stored values and saves the changes."""
    ids = make_set(app, world.clinic_a, name="Old name")
    act_as(client, world.clinician.id)
    form = page(client, f"/catalogue/sets/{ids.id}/edit")
    assert 'value="Old name"' in form and '<option selected value="vaginal">' in form
    response = client.post(
        f"/catalogue/sets/{ids.id}/edit", data={**VALID_SET, "name": "New name", "notes": ""}
    )
    assert "New name was updated" in follow(client, response)
    with app.app_context():
        edited = db.session.get(DilatorSet, ids.id)
        assert (edited.name, edited.material, edited.notes) == (
            "New name",
            "Medical-grade plastic",
            "",
        )


def test_clinician_edits_an_unused_size(app: Flask, client, world: World) -> None:
    """A size no plan uses can change label, diameter and length."""
    ids = make_set(app, world.clinic_a)
    size_id = ids.sizes["Size 1"]
    act_as(client, world.clinician.id)
    form = page(client, f"/catalogue/sizes/{size_id}/edit")
    assert 'value="Size 1"' in form and 'value="13"' in form and 'value="90"' in form
    assert "cannot change" not in form
    response = client.post(
        f"/catalogue/sizes/{size_id}/edit",
        data={"label": "Size 1a", "diameter_mm": "14.5", "insertable_length_mm": "95"},
    )
    assert "Size 1a was updated" in follow(client, response)
    size = size_row(app, size_id)
    assert (size.label, size.diameter_mm, size.insertable_length_mm) == ("Size 1a", 14.5, 95)


# ---------------------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Enter the set's name or brand."),
        ("name", "   ", "Enter the set's name or brand."),
        ("name", "x" * 121, "Use at most 120 characters."),
        ("name", "Set\x07", "Remove the invisible control characters from this text."),
        ("notes", "Line\x00", "Remove the invisible control characters from this text."),
        ("material", "x" * 121, "Use at most 120 characters."),
        ("intended_use", "", "Choose what the set is made for."),
        ("intended_use", "oral", "Not a valid choice"),
        ("notes", "x" * 2001, "Use at most 2000 characters."),
    ],
)
@pytest.mark.parametrize("editing", [False, True])
def test_set_form_explains_each_problem_and_keeps_input(
    app: Flask, client, world: World, field: str, value: str, message: str, editing: bool
) -> None:
    """Each rule of the set form answers with a plain message next to the field, keeps
    what was typed in the other fields, and saves nothing."""
    ids = make_set(app, world.clinic_a, name="Stored name")
    act_as(client, world.clinician.id)
    url = f"/catalogue/sets/{ids.id}/edit" if editing else "/catalogue/sets/new"
    response = client.post(url, data={**VALID_SET, field: value})
    html = html_lib.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert f"Error: {message}" in html
    assert f'id="{field}" ' in html and 'aria-invalid="true"' in html
    if field != "notes":
        assert "Depth marks every centimetre." in html
    if field != "material":
        assert 'value="Medical-grade plastic"' in html
    assert count(app, DilatorSet) == 1
    with app.app_context():
        assert db.session.get(DilatorSet, ids.id).name == "Stored name"


@pytest.mark.parametrize("use", ["anal", "either"])
def test_a_set_for_anal_use_must_record_a_flared_base(
    app: Flask, client, world: World, use: str, as_clinician
) -> None:
    """A set for anal use (or either) is refused, in plain words and with everything typed
    kept, until the flared base is ticked; then it is saved with it and the catalogue says
    so in words."""
    refused = client.post("/catalogue/sets/new", data={**VALID_SET, "intended_use": use})
    html = html_lib.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 200
    assert "Error: A set for anal use must have a flared base." in html
    assert 'value="Medical-grade plastic"' in html and "Depth marks every centimetre." in html
    assert count(app, DilatorSet) == 0
    saved = client.post(
        "/catalogue/sets/new", data={**VALID_SET, "intended_use": use, "flared_base": "y"}
    )
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(DilatorSet)).flared_base is True
    assert "Yes, every size" in page(client, "/catalogue/")


def test_an_anal_plan_from_a_set_without_a_flared_base_is_refused(
    app: Flask, client, world: World, as_clinician
) -> None:
    """An anal template whose sizes come from a set not recorded as having a flared base
    is refused next to the dilator, saying how to fix it; recording the base on the set
    lets the same plan through."""
    ids = make_set(
        app,
        world.clinic_a,
        name="Unchecked anal set",
        sizes=(("Anal 1", 10, 70), ("Anal 2", 14, 80)),
        intended_use=IntendedUse.ANAL,
    )
    data = {
        "name": "Anal plan",
        "indication": "levator_ani",
        "route": "anal",
        "description": "",
        "action": "save",
    }
    for n, label in enumerate(("Anal 1", "Anal 2")):
        data |= {
            f"stages-{n}-dilator_size_id": str(ids.sizes[label]),
            f"stages-{n}-minutes": "10",
            f"stages-{n}-sessions": "3",
            f"stages-{n}-period": "week",
            f"stages-{n}-min_days": "21",
            f"stages-{n}-pain_ceiling": "3",
            f"stages-{n}-last_n_sessions": "3",
            f"stages-{n}-min_adherence_pct": "70",
            f"stages-{n}-red_flag_pain": "7",
        }
    refused = client.post("/templates/new", data=data)
    html = html_lib.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 200
    assert "Stage 1: a dilator used anally must have a flared base" in html
    assert "record the flared base on the set in the catalogue" in html
    assert 'value="Anal plan"' in html
    with app.app_context():
        db.session.get(DilatorSet, ids.id).flared_base = True
        db.session.commit()
    assert client.post("/templates/new", data=data).status_code == 302


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("label", "", "Enter a label, for example Size 3."),
        ("label", "  ", "Enter a label, for example Size 3."),
        ("label", "x" * 41, "Use at most 40 characters."),
        ("label", "Size 1", "This set already has a size labelled “Size 1”. Choose another label."),
        ("label", "size 1", "This set already has a size labelled “size 1”"),
        ("diameter_mm", "", "Enter the diameter in millimetres."),
        ("diameter_mm", "wide", "Enter the diameter as a number of millimetres, for example 27.5."),
        ("diameter_mm", "27,5", "Enter the diameter as a number of millimetres"),
        ("diameter_mm", "0.9", "Enter a diameter from 1 to 80 mm, for example 27.5."),
        ("diameter_mm", "0", "Enter a diameter from 1 to 80 mm"),
        ("diameter_mm", "-5", "Enter a diameter from 1 to 80 mm"),
        ("diameter_mm", "80.1", "Enter a diameter from 1 to 80 mm"),
        ("diameter_mm", "nan", "Enter the diameter as a number of millimetres"),
        ("diameter_mm", "inf", "Enter the diameter as a number of millimetres"),
        ("diameter_mm", "1e400", "Enter the diameter as a number of millimetres"),
        ("insertable_length_mm", "9", "Enter a length from 10 to 400 mm, or leave it empty."),
        ("insertable_length_mm", "401", "Enter a length from 10 to 400 mm"),
        ("insertable_length_mm", "99999999999999999999", "Enter a length from 10 to 400 mm"),
        ("insertable_length_mm", "120.5", "Enter a whole number, for example 7."),
        ("insertable_length_mm", "long", "Enter a whole number, for example 7."),
    ],
)
@pytest.mark.parametrize("editing", [False, True])
def test_size_form_explains_each_problem_and_keeps_input(
    app: Flask, client, world: World, field: str, value: str, message: str, editing: bool
) -> None:
    """Each rule of the size form (including a label the set already has, in any case)
    answers with a plain message next to the field, keeps what was typed, and saves
    nothing."""
    ids = make_set(app, world.clinic_a, sizes=(("Size 1", 13, 90), ("Size 2", 17, 100)))
    act_as(client, world.clinician.id)
    url = (
        f"/catalogue/sizes/{ids.sizes['Size 2']}/edit"
        if editing
        else f"/catalogue/sets/{ids.id}/sizes/new"
    )
    response = client.post(url, data={**VALID_SIZE, field: value})
    html = html_lib.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert f"Error: {message}" in html
    assert 'aria-invalid="true"' in html
    if value.strip():
        assert f'value="{value}"' in html  # kept as typed
    if field != "label":
        assert 'value="27.5 mm"' in html
    assert count(app, DilatorSize) == 2
    size = size_row(app, ids.sizes["Size 2"])
    assert (size.label, size.diameter_mm, size.insertable_length_mm) == ("Size 2", 17, 100)


def test_missing_fields_and_junk_never_cause_a_server_error(
    app: Flask, client, world: World
) -> None:
    """Posts with fields left out, repeated or full of junk are answered with the form
    and its messages, never an error page."""
    ids = make_set(app, world.clinic_a)
    act_as(client, world.clinician.id)
    urls = [
        "/catalogue/sets/new",
        f"/catalogue/sets/{ids.id}/edit",
        f"/catalogue/sets/{ids.id}/sizes/new",
        f"/catalogue/sizes/{ids.sizes['Size 1']}/edit",
    ]
    junk = [
        {},
        {"name": ["a", "b"], "label": ["a", "b"], "diameter_mm": ["1", "x"]},
        {"intended_use": "\x01", "diameter_mm": "\x01", "insertable_length_mm": "1e3"},
        {"label": "ok", "diameter_mm": "1_0", "insertable_length_mm": "0x20"},
        {"name": "🦷" * 200, "label": "🦷" * 41, "diameter_mm": "٣"},
    ]
    for url in urls:
        for data in junk:
            response = client.post(url, data=data)
            assert response.status_code in (200, 302), (url, data, response.status_code)
        # PostgreSQL cannot store a NUL: it is refused, by the form or before it.
        response = client.post(url, data={"name": "a\x00", "label": "a\x00"})
        assert response.status_code in (200, 400), (url, response.status_code)
        if response.status_code == 200:
            assert "Remove the invisible control characters" in response.get_data(as_text=True)


def test_label_is_unique_within_a_set_only(app: Flask, client, world: World) -> None:
    """A label already used in one set is refused there, allowed in another set, and a
    size keeps its own label when edited."""
    first = make_set(app, world.clinic_a, name="First")
    second = make_set(app, world.clinic_a, name="Second", sizes=())
    act_as(client, world.clinician.id)
    data = {"label": "Size 1", "diameter_mm": "13", "insertable_length_mm": ""}
    refused = client.post(f"/catalogue/sets/{first.id}/sizes/new", data=data)
    assert "already has a size labelled" in refused.get_data(as_text=True)
    assert client.post(f"/catalogue/sets/{second.id}/sizes/new", data=data).status_code == 302
    same_label = {"label": "Size 1", "diameter_mm": "13.5", "insertable_length_mm": "90"}
    edit = client.post(f"/catalogue/sizes/{first.sizes['Size 1']}/edit", data=same_label)
    assert edit.status_code == 302


def test_database_label_clash_becomes_a_plain_error(app: Flask, world: World) -> None:
    """Should two saves race past the form's check, the unique constraint's refusal comes
    back as the same plain message (not a server error) and the session stays usable."""
    ids = make_set(app, world.clinic_a)
    with app.app_context():
        dilator_set = db.session.get(DilatorSet, ids.id)
        with pytest.raises(CatalogueError) as refused:
            add_size(dilator_set, SizeDetails("Size 1", 20.0, None))
        assert refused.value.field == "label"
        assert "already has a size labelled" in str(refused.value)
        add_size(dilator_set, SizeDetails("Size 9", 20.0, None))
        db.session.commit()
    assert count(app, DilatorSize) == 3


# ---------------------------------------------------------------------------------------
# Sizes that plans use


@pytest.mark.parametrize("user", ["template", "protocol"])
def test_diameter_of_a_size_in_use_cannot_change(
    app: Flask, client, world: World, user: str
) -> None:
    """Once a template or a protocol prescribes a size, a new diameter is refused with a
    message pointing to adding a new size; the label and length may still change, and the
    same diameter typed differently is not a change."""
    ids = make_set(app, world.clinic_a)
    size_id = ids.sizes["Size 2"]
    if user == "template":
        use_in_template(app, world.clinic_a, size_id)
    else:
        use_in_protocol(app, world.clinic_a, world.patient.patient_id, size_id)
    act_as(client, world.clinician.id)
    assert "its diameter cannot change" in page(client, f"/catalogue/sizes/{size_id}/edit")

    refused = client.post(
        f"/catalogue/sizes/{size_id}/edit",
        data={"label": "Size 2", "diameter_mm": "18", "insertable_length_mm": "100"},
    )
    html = html_lib.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 200
    assert "Error: A template or protocol prescribes this size" in html
    assert "add a new size instead" in html
    assert 'value="18"' in html
    assert size_row(app, size_id).diameter_mm == 17

    allowed = client.post(
        f"/catalogue/sizes/{size_id}/edit",
        data={"label": "Size 2 (blue)", "diameter_mm": "17.0", "insertable_length_mm": "105"},
    )
    assert allowed.status_code == 302
    size = size_row(app, size_id)
    assert (size.label, size.diameter_mm, size.insertable_length_mm) == ("Size 2 (blue)", 17, 105)


def test_remove_deletes_an_unused_size(app: Flask, client, world: World) -> None:
    """A size no plan uses is deleted outright."""
    ids = make_set(app, world.clinic_a)
    act_as(client, world.clinician.id)
    assert "Delete" in page(client, "/catalogue/")
    response = client.post(f"/catalogue/sizes/{ids.sizes['Size 1']}/remove")
    assert "Size 1 was deleted." in follow(client, response)
    assert size_row(app, ids.sizes["Size 1"]) is None
    assert size_row(app, ids.sizes["Size 2"]) is not None


def test_remove_retires_a_size_the_library_uses(app: Flask, client, world: World) -> None:
    """A size of the seeded library that a template prescribes is retired, not deleted:
    the catalogue says "Retired" in words and offers to restore it."""
    with app.app_context():
        seed_clinic_library(db.session.get(Clinic, world.clinic_a))
        db.session.commit()
        size_id = db.session.scalar(
            select(DilatorSize.id)
            .join(DilatorSet)
            .where(DilatorSet.name == VAGINAL_SET, DilatorSize.label == "Size 3")
        )
    act_as(client, world.clinician.id)
    response = client.post(f"/catalogue/sizes/{size_id}/remove")
    html = follow(client, response)
    assert "Size 3 was retired, not deleted, because protocols or templates use it." in html
    assert "<td>Retired</td>" in html
    assert f'action="/catalogue/sizes/{size_id}/restore"' in html
    assert f'action="/catalogue/sizes/{size_id}/remove"' not in html  # nothing more to do
    retired = size_row(app, size_id)
    assert retired is not None and retired.retired_at is not None

    again = client.post(f"/catalogue/sizes/{size_id}/remove")
    assert "Size 3 is already retired" in follow(client, again)
    assert size_row(app, size_id).retired_at == retired.retired_at


def test_remove_retires_a_size_a_protocol_uses(app: Flask, client, world: World) -> None:
    """A size in a patient's protocol is retired, not deleted, even with no template."""
    ids = make_set(app, world.clinic_a)
    use_in_protocol(app, world.clinic_a, world.patient.patient_id, ids.sizes["Size 1"])
    act_as(client, world.clinician.id)
    response = client.post(f"/catalogue/sizes/{ids.sizes['Size 1']}/remove")
    assert "retired, not deleted" in follow(client, response)
    assert size_row(app, ids.sizes["Size 1"]).retired_at is not None


def test_remove_retires_when_a_plan_took_the_size_meanwhile(
    app: Flask, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should a plan start using the size between the check and the delete, the database's
    foreign key refuses the delete and the size is retired instead: no error page."""
    ids = make_set(app, world.clinic_a)
    use_in_template(app, world.clinic_a, ids.sizes["Size 1"])
    monkeypatch.setattr("clinic.catalogue.services.size_in_use", lambda _size_id: False)
    act_as(client, world.clinician.id)
    response = client.post(f"/catalogue/sizes/{ids.sizes['Size 1']}/remove")
    assert "retired, not deleted" in follow(client, response)
    assert size_row(app, ids.sizes["Size 1"]).retired_at is not None


def test_restore_offers_a_retired_size_again(app: Flask, client, world: World) -> None:
    """Restoring clears the retirement; restoring an active size changes nothing."""
    ids = make_set(app, world.clinic_a)
    size_id = ids.sizes["Size 1"]
    use_in_template(app, world.clinic_a, size_id)
    act_as(client, world.clinician.id)
    client.post(f"/catalogue/sizes/{size_id}/remove")
    response = client.post(f"/catalogue/sizes/{size_id}/restore")
    html = follow(client, response)
    assert "Size 1 was restored" in html
    assert "<td>Retired</td>" not in html
    assert size_row(app, size_id).retired_at is None
    again = client.post(f"/catalogue/sizes/{size_id}/restore")
    assert "Size 1 is not retired; nothing changed." in follow(client, again)


def test_catalogue_page_is_accessible_and_says_status_in_words(
    app: Flask, client, world: World
) -> None:
    """Each set's table has a caption, column and row headers, sits in a labelled
    scrollable region, and says Active/Retired and whether plans use a size in words."""
    ids = make_set(app, world.clinic_a)
    use_in_template(app, world.clinic_a, ids.sizes["Size 2"])
    act_as(client, world.clinician.id)
    client.post(f"/catalogue/sizes/{ids.sizes['Size 2']}/remove")
    html = page(client, "/catalogue/")
    assert (
        f'<div class="table-wrap" role="region" aria-labelledby="set-{ids.id}-caption" '
        'tabindex="0">'
    ) in html
    assert f'<caption id="set-{ids.id}-caption">Sizes of Graduated set' in html
    assert '<th scope="col">Status</th>' in html and '<th scope="row">Size 1</th>' in html
    assert "<td>Active</td>" in html and "<td>Retired</td>" in html
    assert "<td>Yes</td>" in html and "<td>No</td>" in html
    assert html.count('name="csrf_token"') >= 3  # sign out + one form per size button


def test_empty_catalogue_invites_a_first_set(client, world: World, as_clinician) -> None:
    """With no sets the page says so and links to adding one."""
    html = page(client, "/catalogue/")
    assert "No dilator sets yet." in html and 'href="/catalogue/sets/new"' in html


# ---------------------------------------------------------------------------------------
# Access


def catalogue_routes(ids: SetIds) -> list[tuple[str, str]]:
    """Every catalogue route naming an object, with its method."""
    size_id = ids.sizes["Size 1"]
    return [
        ("GET", f"/catalogue/sets/{ids.id}/edit"),
        ("POST", f"/catalogue/sets/{ids.id}/edit"),
        ("GET", f"/catalogue/sets/{ids.id}/sizes/new"),
        ("POST", f"/catalogue/sets/{ids.id}/sizes/new"),
        ("GET", f"/catalogue/sizes/{size_id}/edit"),
        ("POST", f"/catalogue/sizes/{size_id}/edit"),
        ("POST", f"/catalogue/sizes/{size_id}/remove"),
        ("POST", f"/catalogue/sizes/{size_id}/restore"),
    ]


def test_other_clinics_sets_and_sizes_are_not_found(app: Flask, client, world: World) -> None:
    """A clinician of another clinic gets 404 on every route naming a set or size, reads
    nothing and changes nothing, even with valid input."""
    ids = make_set(app, world.clinic_a)
    use_in_template(app, world.clinic_a, ids.sizes["Size 1"])
    act_as(client, world.other_clinician.id)
    data = {**VALID_SET, **VALID_SIZE}
    for method, url in catalogue_routes(ids):
        response = client.post(url, data=data) if method == "POST" else client.get(url)
        assert response.status_code == 404, (method, url)
    assert "Graduated set" not in page(client, "/catalogue/")
    with app.app_context():
        assert db.session.get(DilatorSet, ids.id).name == "Graduated set"
        assert count(app, DilatorSize) == 2
        assert db.session.get(DilatorSize, ids.sizes["Size 1"]).retired_at is None


def test_unknown_ids_are_not_found(client, world: World, as_clinician) -> None:
    """Ids that exist nowhere, even beyond what the database can store, get 404."""
    for missing in (999999, 2**40):
        assert client.get(f"/catalogue/sets/{missing}/edit").status_code == 404
        assert client.get(f"/catalogue/sizes/{missing}/edit").status_code == 404
        assert client.post(f"/catalogue/sizes/{missing}/remove").status_code == 404


@pytest.mark.parametrize("who", ["patient", "admin"])
def test_patients_and_admins_are_refused(app: Flask, client, world: World, who: str) -> None:
    """Only clinicians use the catalogue: a patient or an administrator of the same clinic
    gets 403 everywhere in it."""
    ids = make_set(app, world.clinic_a)
    act_as(client, getattr(world, who).id)
    routes = [
        ("GET", "/catalogue/"),
        ("GET", "/catalogue/sets/new"),
        ("POST", "/catalogue/sets/new"),
    ]
    for method, url in routes + catalogue_routes(ids):
        response = client.post(url, data=VALID_SET) if method == "POST" else client.get(url)
        assert response.status_code == 403, (method, url)
    assert count(app, DilatorSet) == 1


def test_signed_out_visitors_are_sent_to_sign_in(app: Flask, client, world: World) -> None:
    """The catalogue asks a signed-out visitor to sign in first."""
    response = client.get("/catalogue/")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_posts_without_csrf_token_are_refused(app: Flask, client, world: World) -> None:
    """Every state-changing request needs the form's CSRF token."""
    ids = make_set(app, world.clinic_a)
    act_as(client, world.clinician.id)
    for method, url in [("POST", "/catalogue/sets/new"), *catalogue_routes(ids)]:
        if method == "POST":
            assert client.post(url, data=VALID_SET, csrf=False).status_code == 400, url
    assert count(app, DilatorSet) == 1 and count(app, DilatorSize) == 2


def test_remove_and_restore_refuse_get(client, world: World, as_clinician) -> None:
    """Removing and restoring only happen through a POST."""
    assert client.get("/catalogue/sizes/1/remove").status_code == 405
    assert client.get("/catalogue/sizes/1/restore").status_code == 405


# ---------------------------------------------------------------------------------------
# Query count


def test_catalogue_query_count_is_constant(app: Flask, client, world: World) -> None:
    """The catalogue page costs the same number of queries at 1 set as at 10 sets of
    several sizes each, some of them used by plans and retired."""

    def queries_for_index() -> int:
        with app.app_context():
            engine = db.engine
        with count_queries(engine) as statements:
            assert client.get("/catalogue/").status_code == 200
        return len(statements)

    def add_set(n: int) -> None:
        ids = make_set(
            app,
            world.clinic_a,
            name=f"Set {n:02d}",
            sizes=(("S1", 10, 80), ("S2", 14.5, None), ("S3", 19, 100)),
        )
        use_in_template(app, world.clinic_a, ids.sizes["S2"])
        with app.app_context():
            db.session.get(DilatorSize, ids.sizes["S2"]).retired_at = utcnow()
            db.session.commit()

    act_as(client, world.clinician.id)
    add_set(1)
    at_one = queries_for_index()
    for n in range(2, 11):
        add_set(n)
    at_ten = queries_for_index()
    assert at_one == at_ten
    assert page(client, "/catalogue/").count("<td>Retired</td>") == 10
    assert at_ten <= 5  # the user, the sets, their sizes, the sizes in use (+ a savepoint)
