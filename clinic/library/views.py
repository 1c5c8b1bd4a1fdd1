"""Clinician pages for the clinic's protocol templates: list, read, create, edit, copy,
retire and restore. Every template is loaded through the clinic-scoped loader."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.core.forms import show_refusal
from clinic.core.refusals import Refusal
from clinic.domain.indications import Indication
from clinic.domain.protocols import Route
from clinic.library.forms import NEW_STAGE_DEFAULTS, EditTemplateForm, TemplateForm
from clinic.library.queries import clinic_library, get_template_or_404
from clinic.library.services import (
    STALE_TEMPLATE_MESSAGE,
    TemplateChangedError,
    copy_template,
    create_template,
    restore_template,
    retire_template,
    update_template,
)
from clinic.models import ProtocolTemplate, Role
from clinic.models.types import enum_or_none
from clinic.protocols.forms import ACTION_ADD_STAGE, ACTION_SHOW_ROUTE
from clinic.protocols.plans import (
    add_stage,
    check_plan,
    mark_required_depth,
    offer_sizes,
    plan_route,
)

bp = Blueprint("library", __name__, url_prefix="/templates")

clinicians_only = roles(Role.CLINICIAN)


@bp.get("/")
@clinicians_only
def index() -> str:
    """The clinic's templates in use, by indication, and the retired ones."""
    return render_template("library/index.html", library=clinic_library(current_user.clinic_id))


@bp.get("/<int:template_id>")
@clinicians_only
def show(template_id: int) -> str:
    """One template's whole plan, stage by stage."""
    template = get_template_or_404(template_id, current_user.clinic_id)
    return render_template("library/show.html", template=template)


@bp.route("/new", methods=["GET", "POST"])
@clinicians_only
def new() -> Response | str:
    """Write a new template."""
    if request.method == "POST":
        form = TemplateForm()
    else:
        form = TemplateForm(data={"stages": [NEW_STAGE_DEFAULTS]})
    if _ready_to_save(form, keep_ids=()):
        template = create_template(current_user.clinic_id, form.details())
        flash(_("The template “%(name)s” was saved.", name=template.name), "success")
        return redirect(url_for("library.show", template_id=template.id))
    return _form_page(form, template=None)


@bp.route("/<int:template_id>/edit", methods=["GET", "POST"])
@clinicians_only
def edit(template_id: int) -> Response | str | tuple[str, int]:
    """Change a template's details and stages (refused if someone saved it meanwhile)."""
    template = get_template_or_404(template_id, current_user.clinic_id)
    # On POST only what was submitted counts: a missing lock_version must not default to
    # the current one and slip past the check.
    form = EditTemplateForm() if request.method == "POST" else EditTemplateForm(obj=template)
    if _ready_to_save(form, keep_ids=[stage.dilator_size_id for stage in template.stages]):
        try:
            update_template(template, form.details(), form.based_on_version())
        except (TemplateChangedError, StaleDataError):
            show_refusal(form, Refusal(_(STALE_TEMPLATE_MESSAGE)))
            return _form_page(form, template=template), 409
        flash(_("Your changes to “%(name)s” were saved.", name=template.name), "success")
        return redirect(url_for("library.show", template_id=template.id))
    return _form_page(form, template=template)


@bp.post("/<int:template_id>/copy")
@clinicians_only
def copy(template_id: int) -> Response:
    """Make an independent copy of a template and open it for editing."""
    template = get_template_or_404(template_id, current_user.clinic_id)
    duplicate = copy_template(template)
    flash(
        _(
            "This is a copy of “%(name)s”. Rename it and change what differs, then save.",
            name=template.name,
        ),
        "success",
    )
    return redirect(url_for("library.edit", template_id=duplicate.id))


@bp.post("/<int:template_id>/retire")
@clinicians_only
def retire(template_id: int) -> Response:
    """Take a template out of use; it is kept, and protocols started from it are unchanged."""
    template = get_template_or_404(template_id, current_user.clinic_id)
    if retire_template(template):
        flash(
            _(
                "“%(name)s” was retired: it is no longer offered for new protocols. "
                "Protocols already started from it keep their own copy of the plan.",
                name=template.name,
            ),
            "success",
        )
    else:
        flash(_("“%(name)s” was already retired.", name=template.name), "info")
    return redirect(url_for("library.show", template_id=template.id))


@bp.post("/<int:template_id>/restore")
@clinicians_only
def restore(template_id: int) -> Response:
    """Put a retired template back in use."""
    template = get_template_or_404(template_id, current_user.clinic_id)
    if restore_template(template):
        flash(_("“%(name)s” is back in use in the library.", name=template.name), "success")
    else:
        flash(_("“%(name)s” is already in use.", name=template.name), "info")
    return redirect(url_for("library.show", template_id=template.id))


def _ready_to_save(form: TemplateForm, keep_ids: Iterable[int]) -> bool:
    """Whether a submitted template form may be saved: not an "Add a stage" request, and
    valid both field by field and as a plan. Adds the stage in the former case."""
    offer_sizes(form, current_user.clinic_id, plan_route(form.route), keep_ids=keep_ids)
    if request.method != "POST":
        return False
    if request.form.get("action") == ACTION_SHOW_ROUTE:
        return False  # the dilator lists are now those of the route chosen
    if request.form.get("action") == ACTION_ADD_STAGE:
        most = form.stages.max_entries
        if most is not None and len(form.stages) >= most:
            # FieldList refuses (with an assertion) to grow past its maximum.
            form.form_errors.append(f"A template has at most {most} stages: none was added.")
        else:
            add_stage(form)
        return False
    if not form.validate_on_submit():
        return False
    return check_plan(
        form,
        current_user.clinic_id,
        Route(form.route.data),
        current_user.clinic.max_step_mm,
        Indication(form.indication.data),
    )


def _form_page(form: TemplateForm, template: ProtocolTemplate | None) -> str:
    indication = enum_or_none(Indication, form.indication.data)
    mark_required_depth(form, indication)
    return render_template(
        "library/form.html",
        form=form,
        template=template,
        max_step_mm=current_user.clinic.max_step_mm,
        surgeon_directed=[i.value for i in Indication if i.is_surgeon_directed],
    )
