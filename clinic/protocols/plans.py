"""Checking and preparing plans (lists of stages), shared by templates and protocols.

Sizes are always looked up within the clinic, so a forged size id from another clinic is
treated as unknown.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice, SelectField

from clinic.catalogue.choices import (
    clinic_sizes,
    option_label,
    size_groups,
    size_note,
    usable_on,
)
from clinic.domain.indications import Indication, Indications
from clinic.domain.protocols import Route, StagePlan, needs_target_depth, plan_problems
from clinic.extensions import db
from clinic.models import DilatorSet, DilatorSize
from clinic.protocols.forms import PlanForm, StageForm


def clinic_dilator_sets(clinic_id: int) -> list[DilatorSet]:
    """The clinic's dilator sets with their sizes, in two queries."""
    return list(
        db.session.scalars(
            select(DilatorSet)
            .where(DilatorSet.clinic_id == clinic_id)
            .options(selectinload(DilatorSet.sizes))
            .order_by(DilatorSet.name)
        )
    )


def plan_route(field: SelectField) -> Route:
    """The route a plan form shows: the one chosen, else the first offered (what the
    list shows when nothing is chosen yet, e.g. a plan started from scratch)."""
    try:
        return Route(field.data)
    except ValueError:
        return Route(field.choices[0].value)


def offer_sizes(form: PlanForm, clinic_id: int, route: Route, keep_ids: Iterable[int] = ()) -> None:
    """Fill every stage's dilator list: the clinic's sizes for `route`, each named with its
    set, grouped by set with the plan's own sets first (those of the sizes its stages
    hold); retired sizes only where the saved plan already uses them (`keep_ids`; never
    what a form submits, or a retired size could be forced into a new plan). A stage that
    holds a size for the other route (the route was changed) still shows it, marked, next
    to the plan rules' message. One query."""
    keep = set(keep_ids)
    sizes = clinic_sizes(clinic_id)
    held = [int(v) for v in (e.form.dilator_size_id.data for e in form.stages) if _is_id(v)]
    offered = [SelectChoice("", _("Choose a dilator"))]
    for _set, group in size_groups(sizes, route, first=held, keep=keep):
        offered += [_size_choice(size, route) for size in group]
    # Any size of the clinic in use passes the field's own check; the plan rules then say
    # why one for the other route cannot be used (see DilatorField).
    available = [s for s in sizes if s.retired_at is None or s.id in keep]
    accepted = frozenset(str(s.id) for s in available)
    unsuited = {str(s.id): s for s in available if not usable_on(s.dilator_set, route)}

    def choices_for(held_value: object) -> list[SelectChoice]:
        size = unsuited.get(str(held_value))
        return offered if size is None else [offered[0], _size_choice(size, route), *offered[1:]]

    form.dilator_choices = choices_for
    for entry in form.stages:
        entry.form.dilator_size_id.choices = choices_for(entry.form.dilator_size_id.data)
        entry.form.dilator_size_id.accepted = accepted


def _size_choice(size: DilatorSize, route: Route) -> SelectChoice:
    return SelectChoice(
        str(size.id), option_label(size) + size_note(size, route), optgroup=size.dilator_set.name
    )


def _is_id(value: object) -> bool:
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10


def add_stage(form: PlanForm) -> bool:
    """Append a stage that starts as a copy of the last one (the usual next step differs
    only in size), to be edited before saving; at the maximum, say so and return False."""
    if len(form.stages.entries) >= form.stages.max_entries:
        form.form_errors.append(
            _(
                "A plan has at most %(max)d stages: remove one to add another.",
                max=form.stages.max_entries,
            )
        )
        return False
    kept = form.kept_stages()
    form.stages.append_entry()
    new = form.stages.entries[-1].form
    if kept:
        for name, field in kept[-1]._fields.items():
            if name not in ("remove", "limits_reason", "is_maintenance"):
                new[name].data = field.data
    first = form.stages.entries[0].form.dilator_size_id
    new.dilator_size_id.choices = (
        form.dilator_choices(new.dilator_size_id.data) if form.dilator_choices else first.choices
    )
    new.dilator_size_id.accepted = first.accepted
    return True


def mark_required_depth(form: PlanForm, indication: Indication | Indications | None) -> None:
    """Show each stage's target depth as required where the indication needs one (the
    plan rules refuse a stage without it, see `needs_target_depth`)."""
    for entry in form.stages:
        entry.form.target_depth_cm.flags.required = needs_target_depth(indication)


def check_plan(
    form: PlanForm,
    clinic_id: int,
    route: Route,
    max_step_mm: float,
    indication: Indication | Indications | None = None,
) -> bool:
    """Apply the plan rules to a form whose fields are already valid; put each problem
    next to the field it concerns and return whether the plan is sound. (The indication
    adds its own rules: after vaginoplasty each stage needs a target depth.)"""
    stages = form.kept_stages()
    ids = {int(s.dilator_size_id.data) for s in stages}
    sizes = {
        size.id: size
        for size in db.session.scalars(
            select(DilatorSize)
            .join(DilatorSet)
            .where(DilatorSize.id.in_(ids), DilatorSet.clinic_id == clinic_id)
            .options(selectinload(DilatorSize.dilator_set))
        )
    }
    ok = True
    for stage in stages:
        if int(stage.dilator_size_id.data) not in sizes:
            stage.dilator_size_id.errors.append(_("Choose a dilator from this clinic's catalogue."))
            ok = False
    if not ok:
        return False
    plans = [_stage_plan(stage, sizes[int(stage.dilator_size_id.data)]) for stage in stages]
    for problem in plan_problems(plans, route, max_step_mm, indication):
        ok = False
        if problem.stage is None:
            form.form_errors.append(problem.message)
        else:
            stages[problem.stage][problem.field or "dilator_size_id"].errors.append(problem.message)
    return ok


def _stage_plan(stage: StageForm, size: DilatorSize) -> StagePlan:
    return StagePlan(
        stage.stage_values(),
        size.diameter_mm,
        size.dilator_set.intended_use,
        flared_base=size.dilator_set.flared_base,
    )
