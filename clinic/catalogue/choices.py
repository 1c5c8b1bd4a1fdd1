"""The dilator lists of forms that name a size: a stage of a plan, a session in the diary.

A list offers only the sizes that may be used on the plan's route (made for it and, for
anal use, from a set with a flared base: `usable_on`), each named with its set ("25 mm ·
Size 4 — Vaginal dilator set": two sets may both have a "Size 4", and a closed list shows
only the chosen line), grouped by set with the prescribed set first. The clinic's sizes
come with their sets in one query, however many stages the form has; a diary form sent is
checked against the one size it names (`clinic_size`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager

from clinic.core.requests import database_id
from clinic.domain.protocols import Route, lacks_flared_base
from clinic.extensions import db
from clinic.models import DilatorSet, DilatorSize


def clinic_sizes(clinic_id: int) -> list[DilatorSize]:
    """Every size of the clinic's sets, retired ones too, each with its set loaded (one
    query), by set name then diameter."""
    return list(
        db.session.scalars(
            select(DilatorSize)
            .join(DilatorSize.dilator_set)
            .where(DilatorSet.clinic_id == clinic_id)
            .options(contains_eager(DilatorSize.dilator_set))
            .order_by(DilatorSet.name, DilatorSet.id, DilatorSize.diameter_mm, DilatorSize.id)
        )
    )


def clinic_size(clinic_id: int, size_id: str) -> list[DilatorSize]:
    """The size of the clinic's sets with this id as a form sent it (a list of one, with
    its set loaded), or none: another clinic's, or not an id."""
    found = database_id(size_id)
    if found is None:
        return []
    return list(db.session.scalars(_CLINIC_SIZE, {"clinic_id": clinic_id, "size_id": found}))


# Built once: it runs for every session a patient saves.
_CLINIC_SIZE = (
    select(DilatorSize)
    .join(DilatorSize.dilator_set)
    .where(DilatorSize.id == bindparam("size_id"), DilatorSet.clinic_id == bindparam("clinic_id"))
    .options(contains_eager(DilatorSize.dilator_set))
)


def usable_on(dilator_set: DilatorSet, route: Route) -> bool:
    """Whether the set's dilators may be prescribed (or logged) for `route`: made for it,
    and for anal use with a flared base (the plan rules refuse anything else)."""
    return dilator_set.intended_use.suits(route) and not lacks_flared_base(
        route, dilator_set.flared_base
    )


def option_label(size: DilatorSize) -> str:
    """ "25 mm · Size 4 — Vaginal dilator set", or "27.5 mm — Vaginoplasty set" when the
    size's label already is its diameter."""
    diameter = f"{size.diameter_mm:g} mm"
    named = diameter
    if size.label.replace(" ", "") != diameter.replace(" ", ""):
        named = f"{diameter} · {size.label}"
    return f"{named} — {size.dilator_set.name}"


def size_groups(
    sizes: Iterable[DilatorSize],
    route: Route,
    *,
    first: Iterable[int] = (),
    keep: Collection[int] = (),
    chosen: Collection[int] = (),
) -> list[tuple[DilatorSet, list[DilatorSize]]]:
    """The sizes to offer for `route`, by set: the sets of the `first` sizes (the
    prescribed ones) first, in that order, then the others as given.

    A retired size is offered only when it is in `keep` (a saved plan uses it). A size in
    `chosen` (what the form holds now) is offered even when it does not suit the route,
    so a refused choice still shows next to the message that says why."""
    groups: dict[int, tuple[DilatorSet, list[DilatorSize]]] = {}
    for size in sizes:
        available = size.retired_at is None or size.id in keep
        if available and (usable_on(size.dilator_set, route) or size.id in chosen):
            groups.setdefault(size.dilator_set.id, (size.dilator_set, []))[1].append(size)
    by_id = {size.id: size for _, group in groups.values() for size in group}
    order = list(dict.fromkeys(by_id[i].dilator_set.id for i in first if i in by_id))
    order += [set_id for set_id in groups if set_id not in order]
    return [groups[set_id] for set_id in order]


def size_note(size: DilatorSize, route: Route) -> str:
    """What a listed size's line adds: it was retired, or it is not for this route."""
    if not usable_on(size.dilator_set, route):
        return " " + _("(not for %(route)s use)", route=route.value)
    if size.retired_at is not None:
        return " " + _("(retired)")
    return ""
