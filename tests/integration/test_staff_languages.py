"""The clinician's side ready for translation (issue 20): a patient's page parts are kept
per language, and form labels and messages marked at import time stay plain text."""

from __future__ import annotations

from flask import Flask, render_template_string
from flask_babel import force_locale, get_locale

from clinic.extensions import db
from clinic.i18n import lazy_text
from clinic.models import Patient
from clinic.monitoring.kept import kept
from tests.support.world import World


def test_kept_parts_are_kept_per_language(app: Flask, world: World) -> None:
    """A part kept while one language was served is never served in another: a patient
    reading Spanish and their clinician reading English each get their own words (the
    language is part of every key), and each is then served from the store."""
    built: list[str] = []

    def build() -> str:
        built.append(str(get_locale()))
        return built[-1]

    with app.test_request_context():
        patient = db.session.get(Patient, world.patient.patient_id)
        assert patient is not None

        def part() -> str:
            return kept("language-probe", patient, 1, (), build)

        with force_locale("es"):
            assert part() == "es"
        with force_locale("en"):
            assert part() == "en"
        with force_locale("es"):
            assert part() == "es"
        with force_locale("en"):
            assert part() == "en"
    assert built == ["es", "en"]


def test_lazy_text_is_escaped_like_any_text(app: Flask) -> None:
    """A label or message marked at import time (clinic.i18n.lazy_text, `_l`) is text, not
    markup: its quotes and angle brackets are escaped on the page exactly as a plain
    string's would be, so staff pages read the same as before they were marked."""
    label = lazy_text("The patient's <name>")
    with app.test_request_context():
        page = render_template_string(
            "<p>{{ label }}</p><p>{{ plain }}</p>", label=label, plain="The patient's <name>"
        )
    escaped = "<p>The patient&#39;s &lt;name&gt;</p>"
    assert page == escaped * 2
    assert str(label) == "The patient's <name>"
