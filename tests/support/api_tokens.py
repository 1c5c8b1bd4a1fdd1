"""API tokens and referrals for tests of the FHIR API: made through the services,
committed, and the secret handed back (as the administrator would copy it)."""

from __future__ import annotations

from itertools import count

from flask import Flask

from clinic.core.clock import clinic_today
from clinic.extensions import db
from clinic.fhirapi.referrals import keep_referral, read_referral
from clinic.fhirapi.tokens import issue_token
from clinic.models import Clinic

_labels = count(1)


def make_token(app: Flask, clinic_id: int, *, can_import: bool = False) -> str:
    """A new token of the clinic; its secret."""
    with app.app_context():
        clinic = db.session.get_one(Clinic, clinic_id)
        _, secret = issue_token(clinic, f"System {next(_labels)}", can_import=can_import)
        db.session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    """The header that carries the token."""
    return {"Authorization": f"Bearer {secret}"}


def referral_json(
    name: str = "Robin Hale",
    born: str = "1988-04-12",
    reason: str = "Vaginismus",
    referrer: str = "Dr L. Moore, GP",
) -> dict:
    """A referral as another system posts it: a ServiceRequest with its Patient contained."""
    return {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "contained": [
            {
                "resourceType": "Patient",
                "id": "p1",
                "identifier": [{"system": "https://gp.example/nhs", "value": "943 476 5919"}],
                "name": [
                    {"use": "official", "family": name.split()[-1], "given": name.split()[:-1]}
                ],
                "birthDate": born,
            }
        ],
        "subject": {"reference": "#p1"},
        "requester": {"display": referrer},
        "reasonCode": [{"text": reason}],
        "note": [{"text": "Please see soon."}],
    }


def make_referral(app: Flask, clinic_id: int, **details: str) -> int:
    """A referral of the clinic waiting for a decision, as the API keeps one; its id."""
    with app.app_context():
        clinic = db.session.get_one(Clinic, clinic_id)
        token, _ = issue_token(clinic, f"Referrer {next(_labels)}", can_import=True)
        data = referral_json(**details)
        referral, _ = keep_referral(token, read_referral(data, clinic_today(clinic.timezone)), data)
        db.session.commit()
        return referral.id
