"""Browser journey: a referral another system posts through the FHIR API reaches the
administrator, who accepts it into a new patient record with the usual form."""

from __future__ import annotations

import json
import uuid

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from clinic.extensions import db
from clinic.models import Clinic, Patient
from tests.e2e.helpers import assert_accessible, expect_path, sign_in
from tests.support.api_tokens import bearer, make_token, referral_json
from tests.support.browser import LiveServer

pytestmark = pytest.mark.e2e


def test_admin_accepts_a_referral_into_a_new_record(page: Page, live_server: LiveServer) -> None:
    """Posted with a token, the referral is on the Referrals page; its page shows what
    arrived; "Accept" opens the new-patient form filled in from it; with the clinic's
    identifier added, the record is made and the referral leaves the list."""
    clinic_id = _northside(live_server)
    secret = make_token(live_server.app, clinic_id, can_import=True)
    name = f"Rowan {uuid.uuid4().hex[:6].capitalize()} Ashby"
    posted = page.request.post(
        live_server.url("/fhir/r4/ServiceRequest"),
        data=json.dumps(referral_json(name=name, reason="Dyspareunia")),
        headers={**bearer(secret), "Content-Type": "application/fhir+json"},
    )
    assert posted.status == 201

    sign_in(page, "admin@northside.example")
    page.get_by_role("link", name="Referrals", exact=True).click()
    expect_path(page, "/admin/referrals")
    assert_accessible(page)
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1, name=f"Referral for {name}")).to_be_visible()
    expect(page.get_by_text("Dr L. Moore, GP").first).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Accept into a new patient record").click()
    expect(page.get_by_label("Full name")).to_have_value(name)
    expect(page.get_by_label("Indication", exact=True)).to_have_value("dyspareunia")
    assert_accessible(page)
    identifier = f"NPH-REF-{uuid.uuid4().hex[:6].upper()}"
    page.get_by_label("Clinic identifier (MRN)").fill(identifier)
    page.get_by_role("button", name="Accept and add patient").click()

    expect_path(page, "/admin/referrals")
    expect(page.get_by_text("The patient record was made.")).to_be_visible()
    expect(page.get_by_role("link", name=name)).to_have_count(0)
    with live_server.app.app_context():
        made = db.session.scalar(select(Patient).where(Patient.clinic_identifier == identifier))
        assert made is not None and made.full_name == name


def _northside(live_server: LiveServer) -> int:
    with live_server.app.app_context():
        return db.session.scalars(
            select(Clinic.id).where(Clinic.name == "Northside Pelvic Health")
        ).one()
