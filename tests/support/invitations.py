"""Invitations as a test drives them: a clinician invites a patient, the link is read off
the page, and the invited person chooses a password through the link's form."""

from __future__ import annotations

import re

# The link in the invitation page's read-only text area.
LINK = re.compile(
    r'<textarea id="invitation-link"[^>]*>https?://[^<]+?(/invitation/[^<]+)</textarea>'
)
GOOD_PASSWORD = "a calm river at dawn 42"


def invite_patient(client, patient_id: int, email: str):
    """A clinician (signed in on `client`) invites the patient to the portal; the answer
    is the invitation page the request leads to (the link shown once)."""
    return client.post(
        f"/patients/{patient_id}/invitation", data={"email": email}, follow_redirects=True
    )


def link_in(response) -> str:
    """The invitation link (its path) shown on the page."""
    match = LINK.search(response.get_data(as_text=True))
    assert match, "no invitation link on the page"
    return match.group(1)


def choose_password(client, link: str, password: str = GOOD_PASSWORD, confirm: str | None = None):
    """Open the invitation link and choose a password through its form, as the invited
    person does (the CSRF token read off that page)."""
    token = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', client.get(link).get_data(as_text=True)
    )
    return client.post(
        link,
        data={
            "password": password,
            "confirm": confirm if confirm is not None else password,
            "csrf_token": token.group(1) if token else "",
        },
        csrf=False,
    )
