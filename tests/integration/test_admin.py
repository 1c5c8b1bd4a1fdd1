"""Administrators manage their clinic's staff and details, and nothing beyond."""

from __future__ import annotations

import re
from html import unescape
from io import BytesIO

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from clinic.domain.flags import FlagKind
from clinic.extensions import db
from clinic.models import CareFlag, Clinic, PatientSummary, User
from tests.support.auth import act_as
from tests.support.diaries import add_entries, refresh
from tests.support.protocols import start_plan
from tests.support.reports import ReportRenderer
from tests.support.world import World

SETTINGS = {
    "name": "Kept Name",
    "address": "",
    "phone": "0300 000 000",
    "email": "",
    "timezone": "Europe/London",
    "invitation_valid_days": "7",
    "max_step_mm": "5",
    "radiotherapy_weeks": "4",
    "depth_drop_cm": "1.0",
    "completion_pct": "80",
    "not_logging_days": "5",
    "reminder_nudge_days": "4",
    "paper_size": "a4",
    "staff_idle_minutes": "15",
    "patient_idle_minutes": "30",
    # Alerts and opening hours (clinic.alerts).
    "working_days": ["1", "2", "3", "4", "5"],
    "opens_at": "08:00",
    "closes_at": "18:00",
    "response_hours": "4",
    "escalate_after_working_hours": "4",
    "escalate_again_after_hours": "24",
    "duty_email": "",
    "sender_name": "Kept Name",
    "out_of_hours_text": "Call the out-of-hours service.",
}

ALERT_FIELDS = {
    "working_days",
    "opens_at",
    "closes_at",
    "response_hours",
    "escalate_after_working_hours",
    "escalate_again_after_hours",
    "duty_email",
    "sender_name",
    "out_of_hours_text",
}


def test_staff_list_shows_only_this_clinics_staff(client, world: World, as_admin) -> None:
    """The list shows the clinic's clinicians and admins, no patients, no other clinic."""
    html = client.get("/admin/staff").get_data(as_text=True)
    assert world.clinician.email in html and world.colleague.email in html
    assert world.patient.email not in html
    assert world.other_clinician.email not in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"full_name": "", "email": "a@test.example"}, "Enter their name."),
        ({"full_name": "   ", "email": "a@test.example"}, "Enter their name."),
        ({"full_name": "A", "email": "nope"}, "Enter an email address like name@example.org."),
        ({"full_name": "A", "email": "a@test.example", "role": "patient"}, "Not a valid choice"),
    ],
)
def test_staff_invitation_is_validated(
    client, world: World, data: dict, message: str, as_admin
) -> None:
    """Missing or wrong details are explained in plain words."""
    response = client.post("/admin/staff/new", data={"role": "clinician", **data})
    assert message in response.get_data(as_text=True)


def test_duplicate_staff_email_is_refused(client, world: World, as_admin) -> None:
    """An email that already has an account at this clinic (any case) is refused."""
    response = client.post(
        "/admin/staff/new",
        data={"full_name": "Dup", "email": world.colleague.email.upper(), "role": "clinician"},
    )
    assert "An account at this clinic already uses this email address." in response.get_data(
        as_text=True
    )


def test_other_clinics_accounts_are_not_revealed(client, world: World, as_admin) -> None:
    """Inviting an address that has an account at another clinic (here a patient's)
    simply works: the form never tells one clinic who has an account elsewhere."""
    response = client.post(
        "/admin/staff/new",
        data={
            "full_name": "Same Person",
            "email": world.other_clinic_patient.email,
            "role": "clinician",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "/invitation/" in response.get_data(as_text=True)


def test_deactivate_and_reactivate(app: Flask, client, world: World, as_admin) -> None:
    """Deactivating blocks sign-in at once; reactivating restores it."""
    response = client.post(f"/admin/staff/{world.colleague.id}/deactivate")
    assert "was deactivated" in client.get(response.headers["Location"]).get_data(as_text=True)
    refused = app.test_client().post(
        "/login", data={"email": world.colleague.email, "password": "correct horse battery staple"}
    )
    assert refused.status_code == 200
    client.post(f"/admin/staff/{world.colleague.id}/reactivate")
    allowed = app.test_client().post(
        "/login", data={"email": world.colleague.email, "password": "correct horse battery staple"}
    )
    assert allowed.headers["Location"] == "/dashboard/"


def test_admin_cannot_deactivate_themselves(app: Flask, client, world: World, as_admin) -> None:
    """An admin cannot lock themselves (and possibly the clinic) out."""
    response = client.post(f"/admin/staff/{world.admin.id}/deactivate")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You cannot deactivate your own account." in page
    with app.app_context():
        assert db.session.get(User, world.admin.id).active


def test_patient_logins_are_not_staff(client, world: World, as_admin) -> None:
    """A patient's login id in a staff URL is not found, so admins cannot deactivate it."""
    assert client.post(f"/admin/staff/{world.patient.id}/deactivate").status_code == 404


def test_reinvite_only_for_unclaimed_accounts(client, world: World, as_admin) -> None:
    """A colleague who already set a password gets no new invitation link."""
    response = client.post(f"/admin/staff/{world.colleague.id}/invitation")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "has already set a password" in page


def test_clinic_settings_are_saved(app: Flask, client, world: World, as_admin) -> None:
    """Contact details and settings are saved for the admin's own clinic only."""
    response = client.post(
        "/admin/clinic",
        data={
            "name": "Clinic A Renamed",
            "address": "1 High Street\nTown",
            "phone": "0200 000 000",
            "email": "desk@a.example",
            "timezone": "Europe/Dublin",
            "invitation_valid_days": "3",
            "max_step_mm": "4.5",
            "radiotherapy_weeks": "6",
            "depth_drop_cm": "1.5",
            "completion_pct": "70",
            "not_logging_days": "10",
            "reminder_nudge_days": "6",
            "paper_size": "a4",
            "staff_idle_minutes": "10",
            "patient_idle_minutes": "45",
            **{k: v for k, v in SETTINGS.items() if k in ALERT_FIELDS},
        },
    )
    assert response.status_code == 302
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        assert (clinic.name, clinic.timezone, clinic.invitation_valid_days) == (
            "Clinic A Renamed",
            "Europe/Dublin",
            3,
        )
        assert clinic.max_step_mm == 4.5
        assert clinic.radiotherapy_weeks == 6
        assert clinic.depth_drop_cm == 1.5
        assert (clinic.completion_pct, clinic.not_logging_days) == (70, 10)
        assert clinic.reminder_nudge_days == 6
        assert (clinic.staff_idle_minutes, clinic.patient_idle_minutes) == (10, 45)
        assert db.session.get(Clinic, world.clinic_b).name == "Clinic B"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Enter the clinic&#39;s name."),
        ("name", "   ", "Enter the clinic&#39;s name."),
        ("name", "Clinic B", "Another clinic already uses this name."),
        ("timezone", "Mars/Olympus", "Choose the clinic&#39;s time zone from the list."),
        ("timezone", "  ", "Choose the clinic&#39;s time zone from the list."),
        ("timezone", "", "Choose the clinic&#39;s time zone from the list."),
        ("timezone", "europe/london", "Choose the clinic&#39;s time zone from the list."),
        ("invitation_valid_days", "0", "Enter a number of days from 1 to 30."),
        ("invitation_valid_days", "seven", "Enter a whole number, for example 7."),
        ("email", "desk", "Enter an address like clinic@example.org, or leave it empty."),
        ("max_step_mm", "0", "Enter a step from 0.5 to 20 mm."),
        ("max_step_mm", "five", "Enter a number, for example 12.5."),
        ("radiotherapy_weeks", "", "Enter a whole number of weeks from 2 to 8."),
        ("radiotherapy_weeks", "1", "Enter a whole number of weeks from 2 to 8."),
        ("radiotherapy_weeks", "9", "Enter a whole number of weeks from 2 to 8."),
        ("depth_drop_cm", "", "Enter a depth from 0.5 to 5 cm."),
        ("depth_drop_cm", "0.4", "Enter a depth from 0.5 to 5 cm."),
        ("depth_drop_cm", "6", "Enter a depth from 0.5 to 5 cm."),
        ("completion_pct", "", "Enter a whole number from 50 to 100."),
        ("completion_pct", "49", "Enter a whole number from 50 to 100."),
        ("completion_pct", "101", "Enter a whole number from 50 to 100."),
        ("completion_pct", "eighty", "Enter a whole number, for example 7."),
        ("completion_pct", "80.5", "Enter a whole number, for example 7."),
        ("not_logging_days", "", "Enter a whole number of days from 2 to 60."),
        ("not_logging_days", "1", "Enter a whole number of days from 2 to 60."),
        ("not_logging_days", "61", "Enter a whole number of days from 2 to 60."),
        ("not_logging_days", "a week", "Enter a whole number, for example 7."),
        ("reminder_nudge_days", "1", "Enter a whole number of days from 2 to 14."),
        ("reminder_nudge_days", "15", "Enter a whole number of days from 2 to 14."),
        ("staff_idle_minutes", "4", "Enter a whole number of minutes from 5 to 60."),
        ("staff_idle_minutes", "61", "Enter a whole number of minutes from 5 to 60."),
        ("patient_idle_minutes", "", "Enter a whole number of minutes from 5 to 120."),
        ("patient_idle_minutes", "121", "Enter a whole number of minutes from 5 to 120."),
    ],
)
def test_clinic_settings_are_validated(
    app: Flask, client, world: World, field: str, value: str, message: str, as_admin
) -> None:
    """Each bad value is explained next to its field; nothing is saved, and what was
    typed, the bad value included, is still in the form."""
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        before = (clinic.name, clinic.timezone, clinic.completion_pct, clinic.not_logging_days)
    response = client.post("/admin/clinic", data={**SETTINGS, field: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert f'id="{field}-error"' in html
    assert "0300 000 000" in html
    # (A list cannot show a value it does not offer: the time zone is chosen again.)
    if value.strip() and field != "timezone":
        assert f'value="{value}"' in html or f">{value}<" in html
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        after = (clinic.name, clinic.timezone, clinic.completion_pct, clinic.not_logging_days)
        assert after == before


@pytest.mark.parametrize("value", ["", "   "])
def test_the_clinic_phone_is_required_and_labelled_so(
    app: Flask, client, world: World, value: str, as_admin
) -> None:
    """Patients are told to phone the clinic after a report that needs review, and
    invitations wait for the number: the field is not labelled optional, and saving
    without it is refused next to it, saying why; the number on record stays."""
    form = client.get("/admin/clinic").get_data(as_text=True)
    label = form[form.index('<label for="phone">') :]
    assert "(optional)" not in label[: label.index("</label>")]
    response = client.post("/admin/clinic", data={**SETTINGS, "phone": value})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert 'id="phone-error"' in html
    assert "Enter the clinic's phone number: patients are asked to phone it" in html
    with app.app_context():
        assert db.session.get(Clinic, world.clinic_a).phone == "0100 000 000"


def _zone_list(html: str) -> list[tuple[str, str, str, bool]]:
    """The time zone list as (group, value, text, selected)."""
    start = re.search(r'<select[^>]* id="timezone"', html).start()
    found, group = [], ""
    for tag in re.finditer(
        r'<optgroup label="([^"]*)">|<option([^>]*)value="([^"]*)"([^>]*)>([^<]*)</option>',
        html[start : html.index("</select>", start)],
    ):
        if tag.group(1) is not None:
            group = tag.group(1)
        else:
            selected = "selected" in tag.group(2) + tag.group(4)
            found.append((group, tag.group(3), tag.group(5), selected))
    return found


def test_the_time_zone_is_chosen_from_a_list_grouped_by_region(
    client, world: World, as_admin
) -> None:
    """Issue 17: a list, not a text box: the zones most used first (London first), then
    every canonical zone grouped by region and sorted by city, each read city first (typing
    a city's first letters in the list finds it); the clinic's zone is chosen; legacy
    aliases, and old names beside the current ones, are not offered."""
    zones = _zone_list(client.get("/admin/clinic").get_data(as_text=True))
    assert zones[0] == ("Most used", "Europe/London", "London (Europe/London)", True)
    assert [z for z in zones if z[3]] == [zones[0]]
    groups = list(dict.fromkeys(group for group, *_ in zones))
    assert groups[0] == "Most used"
    assert groups[1:] == sorted(groups[1:]) and "Europe" in groups and "Pacific" in groups
    values = [value for _, value, _, _ in zones]
    assert len(values) == len(set(values)) > 400
    assert "US/Eastern" not in values and "GB" not in values and "localtime" not in values
    # The old names kept as links are not offered beside the current ones.
    for old, current in [
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("America/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("Australia/NSW", "Australia/Sydney"),
    ]:
        assert old not in values and current in values
    asia = [text for group, _, text, _ in zones if group == "Asia"]
    assert asia == sorted(asia, key=str.casefold)
    assert "Buenos Aires (America/Argentina/Buenos_Aires)" in [t for _, _, t, _ in zones]


def test_a_zone_from_the_list_is_saved_and_a_legacy_one_kept(
    app: Flask, client, world: World, as_admin
) -> None:
    """Any zone of the list saves; a clinic already set to a legacy alias ("GB") sees it
    chosen, first, and saving the form unchanged keeps it."""
    data = {**SETTINGS, "timezone": "America/Argentina/Buenos_Aires"}
    assert client.post("/admin/clinic", data=data).status_code == 302
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_a)
        assert clinic.timezone == "America/Argentina/Buenos_Aires"
        clinic.timezone = "GB"
        db.session.commit()
    zones = _zone_list(client.get("/admin/clinic").get_data(as_text=True))
    assert zones[0] == ("Most used", "GB", "GB", True)
    assert client.post("/admin/clinic", data={**SETTINGS, "timezone": "GB"}).status_code == 302
    with app.app_context():
        assert db.session.get(Clinic, world.clinic_a).timezone == "GB"


def test_monitoring_settings_show_their_current_values(client, world: World, as_admin) -> None:
    """The form offers the clinic's thresholds (the defaults at first) with their hints."""
    html = client.get("/admin/clinic").get_data(as_text=True)
    assert 'name="completion_pct"' in html and 'value="80"' in html
    assert 'name="not_logging_days"' in html and 'value="5"' in html
    assert "At 80, a 10-minute session counts as done from 8 minutes." in html


def test_saving_settings_recomputes_every_summary(app: Flask, client, world: World) -> None:
    """Sessions of 7 of the prescribed 10 minutes do not count at 80% but do at 70%, and
    two silent days are "not logging" once the clinic says two: saving the settings
    applies both to the summaries and flags at once, without waiting for the daily run."""
    patient_id = world.patient.patient_id
    protocol = start_plan(app, patient_id, world.clinician.id, started_days_ago=4)
    add_entries(app, protocol, world.patient, [4, 3, 2], minutes=7)
    refresh(app, world.clinic_a)
    with app.app_context():
        summary = db.session.get(PatientSummary, patient_id)
        assert summary.adherence_28 == 0
        assert "not_logging" not in summary.open_flag_kinds

    act_as(client, world.admin.id)
    data = {**SETTINGS, "name": "Clinic A", "completion_pct": "70", "not_logging_days": "2"}
    assert client.post("/admin/clinic", data=data).status_code == 302

    with app.app_context():
        summary = db.session.get(PatientSummary, patient_id)
        assert summary.adherence_28 > 0
        assert "not_logging" in summary.open_flag_kinds
        kinds = db.session.scalars(select(CareFlag.kind).where(CareFlag.patient_id == patient_id))
        assert FlagKind.NOT_LOGGING in list(kinds)


def _page_size(pdf: bytes) -> tuple[float, float]:
    """Width and height (points) of each page of a PDF; every page must agree."""
    sizes = {
        (float(page.mediabox.width), float(page.mediabox.height))
        for page in PdfReader(BytesIO(pdf)).pages
    }
    assert len(sizes) == 1
    return sizes.pop()


def test_paper_size_setting_decides_the_pdf_page(
    app: Flask, client, world: World, progress_report: ReportRenderer
) -> None:
    """A4 by default; an admin can choose US Letter, and the clinic's progress reports are
    then printed on it (612 x 792 pt) until A4 (595 x 842 pt) is chosen again."""
    protocol_id = start_plan(app, world.patient.patient_id, world.clinician.id)
    add_entries(app, protocol_id, world.patient, [15, 10, 5, 1])
    assert _page_size(progress_report(protocol_id).pdf) == pytest.approx((595.28, 841.89), abs=1)

    act_as(client, world.admin.id)
    html = client.get("/admin/clinic").get_data(as_text=True)
    assert "Paper for printed documents" in html
    assert '<option selected value="a4">A4</option>' in html
    assert '<option value="letter">US Letter</option>' in html

    data = {**SETTINGS, "name": "Clinic A", "paper_size": "letter"}
    assert client.post("/admin/clinic", data=data).status_code == 302
    with app.app_context():
        assert db.session.get(Clinic, world.clinic_a).paper_size == "letter"
        assert db.session.get(Clinic, world.clinic_b).paper_size == "a4"
    html = client.get("/admin/clinic").get_data(as_text=True)
    assert '<option selected value="letter">US Letter</option>' in html
    assert _page_size(progress_report(protocol_id).pdf) == pytest.approx((612, 792), abs=0.5)

    data["paper_size"] = "a4"
    assert client.post("/admin/clinic", data=data).status_code == 302
    assert _page_size(progress_report(protocol_id).pdf) == pytest.approx((595.28, 841.89), abs=1)


@pytest.mark.parametrize("value", ["legal", "A4", "letter ", "", None])
def test_paper_size_is_validated(
    app: Flask, client, world: World, value: str | None, as_admin
) -> None:
    """Only A4 or US Letter, checked on the server (not only by the select's options);
    anything else, or nothing, is explained next to the field and nothing is saved."""
    data = {**SETTINGS, "name": "Clinic A", "paper_size": value}
    if value is None:
        del data["paper_size"]
    response = client.post("/admin/clinic", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="paper_size-error"' in html and "Choose A4 or US Letter." in html
    with app.app_context():
        assert db.session.get(Clinic, world.clinic_a).paper_size == "a4"
