"""Kept parts of pages (clinic.monitoring.kept, the caseload's tables) hold links, and a
link starts with the address prefix the app is reached under (`SCRIPT_NAME`, as a proxy
may send it): a process reached under two prefixes serves each its own links, never the
other's kept ones."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.support.auth import act_as
from tests.support.world import World


@pytest.mark.parametrize(
    ("who", "page"),
    [
        ("patient", "/diary/"),
        ("patient", "/diary/progress"),
        ("clinician", "/dashboard/"),
        ("clinician", "/patients/"),
        ("clinician", "/patients/{patient}/protocol/"),
        ("clinician", "/patients/{patient}/timeline"),
    ],
)
def test_each_prefix_gets_its_own_links(
    app: Flask, world: World, on_protocol: int, who: str, page: str
) -> None:
    """The page served under /a/ and then under /b/ (kept by then): every link the
    second one holds starts with /b/."""
    client = app.test_client()
    act_as(client, world.patient.id if who == "patient" else world.clinician.id)
    path = page.format(patient=world.patient.patient_id).lstrip("/")
    first = client.get(path, base_url="http://clinic.test/a/")
    assert first.status_code == 200
    assert 'href="/a/' in first.get_data(as_text=True)
    second = client.get(path, base_url="http://clinic.test/b/").get_data(as_text=True)
    links = re.findall(r'(?:href|action)="(/[^"]*)"', second)
    assert links and all(link.startswith("/b/") for link in links), [
        link for link in links if not link.startswith("/b/")
    ]
