"""One definition of a stage: the domain's fields and limits are what the stage editor
validates, what the database's CHECK constraints hold, and what the models store."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict
from wtforms.validators import NumberRange

from clinic.domain.protocols import (
    STAGE_FIELD_NAMES,
    STAGE_LIMITS,
    Bounds,
    Period,
    StagePrescription,
)
from clinic.models import ProtocolStage, TemplateStage
from clinic.protocols.forms import StageForm

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"
STAGE_TABLES = (TemplateStage.__table__, ProtocolStage.__table__)

PRESCRIPTION = StagePrescription(
    dilator_size_id=4,
    minutes=15,
    sessions=2,
    period=Period.WEEK,
    min_days=21,
    is_maintenance=True,
    target_depth_cm=12.5,
    technique_notes="Slowly, with breathing.",
    pain_ceiling=4,
    last_n_sessions=5,
    min_adherence_pct=70,
    red_flag_pain=8,
    limits_reason="Surgeon's advice.",
)


def _range_validator(field_name: str) -> NumberRange:
    unbound = getattr(StageForm, field_name)
    [validator] = [v for v in unbound.kwargs["validators"] if isinstance(v, NumberRange)]
    return validator


def _checks(table: sa.Table) -> dict[str, str]:
    """The table's own CHECK constraints by name, as the migrations spell it, with their
    text (not those an Enum column makes to list its values)."""
    enum_columns = {c.name for c in table.columns if isinstance(c.type, sa.Enum)}
    return {
        str(c.name): str(c.sqltext)
        for c in table.constraints
        if isinstance(c, sa.CheckConstraint)
        and str(c.name).removeprefix(f"ck_{table.name}_") not in enum_columns
    }


def _migrated_checks() -> dict[str, str]:
    """Every `sa.CheckConstraint('text', name=op.f('name'))` the migrations create."""
    pattern = re.compile(r"sa\.CheckConstraint\('([^']*)', name=op\.f\('([^']*)'\)\)")
    found: dict[str, str] = {}
    for path in MIGRATIONS.glob("*.py"):
        found |= {name: text for text, name in pattern.findall(path.read_text())}
    return found


@pytest.mark.parametrize("field_name", sorted(STAGE_LIMITS))
def test_the_form_validates_each_number_against_the_domains_limits(field_name: str) -> None:
    """The stage editor refuses exactly what lies outside the domain's range for the field."""
    limits = STAGE_LIMITS[field_name]
    validator = _range_validator(field_name)
    assert (validator.min, validator.max) == (limits.low, limits.high)
    assert validator.message == f"Enter a whole number from {limits.low} to {limits.high}."


@pytest.mark.parametrize("table", STAGE_TABLES, ids=lambda t: t.name)
def test_the_database_checks_are_built_from_the_same_limits(table: sa.Table) -> None:
    """Each ranged stage column has a CHECK whose bounds are the domain's, and nothing else
    is checked besides the stage's position."""
    texts = set(_checks(table).values())
    expected = {
        f"{column} BETWEEN {limits.low} AND {limits.high}"
        for column, limits in STAGE_LIMITS.items()
    }
    assert texts == expected | {"position >= 1"}


@pytest.mark.parametrize("table", STAGE_TABLES, ids=lambda t: t.name)
def test_the_model_checks_read_exactly_as_the_migrations_created_them(table: sa.Table) -> None:
    """Building the CHECKs from the domain left the schema as migrated: same names, same
    text (so no migration is needed and none may drift)."""
    migrated = _migrated_checks()
    for name, text in _checks(table).items():
        assert migrated.get(name) == text, name


@pytest.mark.parametrize("table", STAGE_TABLES, ids=lambda t: t.name)
def test_a_stored_stage_has_a_column_for_every_prescribed_field(table: sa.Table) -> None:
    """Template and protocol stages store the prescription's fields, plus their own keys."""
    own = {"id", "position", "template_id", "version_id"}
    assert {c.name for c in table.columns} - own == set(STAGE_FIELD_NAMES)


@pytest.mark.parametrize("model", [TemplateStage, ProtocolStage])
def test_a_stored_stage_gives_back_the_prescription_it_was_made_from(model: type) -> None:
    """Stage rows are made from a prescription and read back as an equal one."""
    row = model(position=1, **PRESCRIPTION.as_dict())
    assert row.stage_values() == PRESCRIPTION


def test_the_stage_editor_produces_the_prescription() -> None:
    """A valid stage form gives the typed prescription the services take."""
    form = StageForm(
        MultiDict(
            {
                "dilator_size_id": "4",
                "minutes": "15",
                "sessions": "2",
                "period": "week",
                "min_days": "21",
                "is_maintenance": "y",
                "target_depth_cm": "12.54",
                "technique_notes": " Slowly, with breathing. ",
                "pain_ceiling": "4",
                "last_n_sessions": "5",
                "min_adherence_pct": "70",
                "red_flag_pain": "8",
                "limits_reason": "Surgeon's advice.",
            }
        )
    )
    form.dilator_size_id.choices = [("4", "Size 4")]
    form.dilator_size_id.accepted = frozenset({"4"})  # the clinic's sizes in use
    assert form.validate(), form.errors
    assert form.stage_values() == PRESCRIPTION


def test_a_stage_without_a_rule_gets_the_default_rule() -> None:
    """The progression rule defaults to the library's common ground, with no red flag below
    the pain ceiling."""
    bare = StagePrescription(
        dilator_size_id=1, minutes=10, sessions=1, period=Period.DAY, min_days=0
    )
    assert (bare.pain_ceiling, bare.last_n_sessions, bare.min_adherence_pct) == (3, 6, 80)
    assert bare.red_flag_pain == 7 and bare.red_flag_pain > bare.pain_ceiling
    assert replace(bare, minutes=20).minutes == 20 and bare.minutes == 10


def test_bounds_include_both_ends_and_refuse_what_is_not_a_number() -> None:
    """A range holds its ends; text and None are never inside it."""
    bounds = Bounds(1, 60)
    assert 1 in bounds and 60 in bounds and 30.5 in bounds
    assert 0 not in bounds and 61 not in bounds and "30" not in bounds and None not in bounds
