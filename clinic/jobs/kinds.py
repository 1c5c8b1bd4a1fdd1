"""The kinds of background run, with the words their pages use and what a download of
their file records in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobKind:
    """One kind of run."""

    key: str
    label: str  # what is made, as the progress page names it ("MDT pack")
    unit: str  # what the progress counts, one and many ("patient", "patients")
    units: str
    # Recorded once per patient in the file at each download (who took the data away).
    download_action: str
    object_type: str
    # The form to ask again after a failure or once the file expired.
    form_endpoint: str

    def count(self, n: int) -> str:
        """`n` in the kind's unit: "1 patient", "12 patients"."""
        return f"{n} {self.unit if n == 1 else self.units}"


MDT_PACK = JobKind(
    key="mdt_pack",
    label="MDT pack",
    unit="patient",
    units="patients",
    download_action="mdt.export",
    object_type="mdt_pack",
    form_endpoint="mdt.new",
)

KINDS: dict[str, JobKind] = {kind.key: kind for kind in (MDT_PACK,)}
