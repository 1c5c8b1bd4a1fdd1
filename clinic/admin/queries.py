"""Scoped loaders for the clinic's staff accounts."""

from __future__ import annotations

from sqlalchemy import select

from clinic.extensions import db
from clinic.models import Role, User

STAFF_ROLES = (Role.ADMIN, Role.CLINICIAN)


def clinic_staff(clinic_id: int) -> list[User]:
    """Admins and clinicians of one clinic, by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.clinic_id == clinic_id, User.role.in_(STAFF_ROLES))
            .order_by(User.active.desc(), User.full_name)
        )
    )


def get_staff_or_404(user_id: int, clinic_id: int) -> User:
    """A staff account of this clinic; 404 for patients' logins and other clinics' staff."""
    return db.first_or_404(
        select(User).where(
            User.id == user_id, User.clinic_id == clinic_id, User.role.in_(STAFF_ROLES)
        )
    )
