"""The clinic's dilator catalogue: sets of dilators, each with its sizes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from clinic.domain.protocols import IntendedUse
from clinic.extensions import Model
from clinic.models.types import UTCDateTime, enum_column, utcnow


class DilatorSet(Model):
    """A product line or kit the clinic prescribes from (e.g. a graduated vaginal set)."""

    __tablename__ = "dilator_sets"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    clinic_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clinics.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    material: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    intended_use: so.Mapped[IntendedUse] = so.mapped_column(
        enum_column(IntendedUse, "intended_use")
    )
    # Every device of the set has a flared base (it cannot slip fully inside): required
    # before the set is prescribed for anal use, checked by the plan rules.
    flared_base: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    notes: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    sizes: so.Mapped[list[DilatorSize]] = so.relationship(
        back_populates="dilator_set",
        order_by="(DilatorSize.diameter_mm, DilatorSize.label)",
    )

    def __repr__(self) -> str:
        return f"<DilatorSet {self.id}>"


class DilatorSize(Model):
    """One dilator of a set. Sizes a protocol has used are retired, never deleted, so every
    past prescription still names the device it meant."""

    __tablename__ = "dilator_sizes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    set_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("dilator_sets.id"), index=True)
    label: so.Mapped[str] = so.mapped_column(sa.String(40))
    # One decimal place: vaginoplasty sets come in 27.5 and 32.5 mm.
    diameter_mm: so.Mapped[float] = so.mapped_column(sa.Numeric(4, 1, asdecimal=False))
    insertable_length_mm: so.Mapped[int | None]
    retired_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    dilator_set: so.Mapped[DilatorSet] = so.relationship(back_populates="sizes")

    __table_args__ = (
        sa.CheckConstraint("diameter_mm > 0 AND diameter_mm <= 80", name="diameter_range"),
        sa.UniqueConstraint("set_id", "label", name="uq_dilator_sizes_set_label"),
    )

    @property
    def display(self) -> str:
        """How prescriptions name the size: "Size 3 (21 mm)", or "27.5 mm" when the label
        already is the diameter."""
        return size_display(self.label, self.diameter_mm)

    def __repr__(self) -> str:
        return f"<DilatorSize {self.id}>"


def size_display(label: str, diameter_mm: float) -> str:
    """How prescriptions name a size: "Size 3 (21 mm)", or "27.5 mm" when the label
    already is the diameter (also for a size read as plain columns)."""
    diameter = f"{diameter_mm:g} mm"
    if label.replace(" ", "") == diameter.replace(" ", ""):
        return label
    return f"{label} ({diameter})"
