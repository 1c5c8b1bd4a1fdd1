"""Clinician pages for the clinic's dilator catalogue: sets and their sizes."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.access import roles
from clinic.catalogue import services
from clinic.catalogue.forms import DilatorSetForm, DilatorSizeForm
from clinic.catalogue.queries import get_set_or_404, get_size_or_404, size_in_use, sizes_in_use
from clinic.catalogue.services import CatalogueError, Removal
from clinic.core.forms import show_refusal
from clinic.models import Role
from clinic.protocols.plans import clinic_dilator_sets

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")

clinicians_only = roles(Role.CLINICIAN)


def _back_to_set(set_id: int) -> Response:
    return redirect(url_for("catalogue.index", _anchor=f"set-{set_id}"))


@bp.get("/")
@clinicians_only
def index() -> str:
    """The clinic's dilator sets with their sizes, and which sizes plans use."""
    return render_template(
        "catalogue/index.html",
        dilator_sets=clinic_dilator_sets(current_user.clinic_id),
        in_use=sizes_in_use(current_user.clinic_id),
    )


@bp.route("/sets/new", methods=["GET", "POST"])
@clinicians_only
def new_set() -> Response | str:
    """Add a dilator set to the catalogue."""
    form = DilatorSetForm()
    if form.validate_on_submit():
        dilator_set = services.create_set(current_user.clinic_id, form.details())
        flash(_("%(name)s was added. Now add its sizes.", name=dilator_set.name), "success")
        return redirect(url_for("catalogue.new_size", set_id=dilator_set.id))
    return render_template("catalogue/set_form.html", form=form, dilator_set=None)


@bp.route("/sets/<int:set_id>/edit", methods=["GET", "POST"])
@clinicians_only
def edit_set(set_id: int) -> Response | str:
    """Change a dilator set's name, material, intended use or notes."""
    dilator_set = get_set_or_404(set_id, current_user.clinic_id)
    form = DilatorSetForm(obj=dilator_set)
    if form.validate_on_submit():
        services.update_set(dilator_set, form.details())
        flash(_("%(name)s was updated.", name=dilator_set.name), "success")
        return _back_to_set(dilator_set.id)
    return render_template("catalogue/set_form.html", form=form, dilator_set=dilator_set)


@bp.route("/sets/<int:set_id>/sizes/new", methods=["GET", "POST"])
@clinicians_only
def new_size(set_id: int) -> Response | str:
    """Add a size to a dilator set."""
    dilator_set = get_set_or_404(set_id, current_user.clinic_id)
    form = DilatorSizeForm(set_id=dilator_set.id)
    if form.validate_on_submit():
        try:
            size = services.add_size(dilator_set, form.details())
        except CatalogueError as exc:
            show_refusal(form, exc, "label")
        else:
            flash(
                _("%(size)s was added to %(set)s.", size=size.label, set=dilator_set.name),
                "success",
            )
            return _back_to_set(dilator_set.id)
    return render_template(
        "catalogue/size_form.html", form=form, dilator_set=dilator_set, size=None, in_use=False
    )


@bp.route("/sizes/<int:size_id>/edit", methods=["GET", "POST"])
@clinicians_only
def edit_size(size_id: int) -> Response | str:
    """Change a size's label, diameter (while no plan uses it) or insertable length."""
    size = get_size_or_404(size_id, current_user.clinic_id)
    form = DilatorSizeForm(obj=size, set_id=size.set_id, size_id=size.id)
    if form.validate_on_submit():
        try:
            services.update_size(size, form.details())
        except CatalogueError as exc:
            show_refusal(form, exc, "label")
        else:
            flash(_("%(name)s was updated.", name=size.label), "success")
            return _back_to_set(size.set_id)
    return render_template(
        "catalogue/size_form.html",
        form=form,
        dilator_set=size.dilator_set,
        size=size,
        in_use=size_in_use(size.id),
    )


@bp.post("/sizes/<int:size_id>/remove")
@clinicians_only
def remove_size(size_id: int) -> Response:
    """Delete a size no plan uses; retire (never delete) one that templates or protocols use."""
    size = get_size_or_404(size_id, current_user.clinic_id)
    label, set_id = size.label, size.set_id
    outcome = services.remove_size(size)
    if outcome is Removal.DELETED:
        flash(_("%(name)s was deleted.", name=label), "success")
    elif outcome is Removal.RETIRED:
        flash(
            _(
                "%(name)s was retired, not deleted, because protocols or templates use it. "
                "It is no longer offered for new plans; restore it to offer it again.",
                name=label,
            ),
            "success",
        )
    else:
        flash(
            _(
                "%(name)s is already retired. Protocols or templates use it, so it is kept.",
                name=label,
            ),
            "info",
        )
    return _back_to_set(set_id)


@bp.post("/sizes/<int:size_id>/restore")
@clinicians_only
def restore_size(size_id: int) -> Response:
    """Offer a retired size for new plans again."""
    size = get_size_or_404(size_id, current_user.clinic_id)
    if services.restore_size(size):
        flash(
            _("%(name)s was restored and is offered for new plans again.", name=size.label),
            "success",
        )
    else:
        flash(_("%(name)s is not retired; nothing changed.", name=size.label), "info")
    return _back_to_set(size.set_id)
