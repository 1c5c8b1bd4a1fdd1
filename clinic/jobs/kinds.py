"""The kinds of background run: who may ask for and follow each, the words their pages
use, and what a download of their file records in the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import ngettext

from clinic.domain.text import N_
from clinic.models import Role


@dataclass(frozen=True)
class JobKind:
    """One kind of run. Its words are marked with `N_` (English here): the pages that
    show them translate them in the reader's language."""

    key: str
    label: str  # what is made, as the progress page names it ("MDT pack")
    in_sentence: str  # the same within a sentence ("audit trail export")
    # The only role that asks for this kind; its pages refuse (404) anyone else, even the
    # same account should its role change.
    role: Role
    # What the progress counts, many ("patients", for "Patients done"), and `n` of them
    # in the reader's language ("1 patient", "12,000 events").
    units: str
    counted: Callable[[int], str]
    # What the progress page says while the units are being made, then after the last one.
    working: str
    finishing: str
    file_type: str  # for the download button: "PDF", "CSV"
    # What the page says about keeping the downloaded file (it holds personal data).
    keeping: str
    # The page to ask again after a failure or once the file expired, and its name.
    form_endpoint: str
    form_label: str
    # Said when the file came out larger than may be kept.
    too_large: str
    # Recorded once per patient in the file at each download (who took the data away);
    # empty for a kind whose asking is the recorded export (the audit trail's CSV).
    download_action: str = ""
    object_type: str = ""
    # Whether a file may hold any of the clinic's patients (not only the ids in its
    # parameters): an erasure then deletes every such file of the clinic.
    holds_any_patient: bool = False

    def count(self, n: int) -> str:
        """`n` in the kind's unit, with thousands separated: "1 patient", "12,000 events"."""
        return self.counted(n)


def _patients(n: int) -> str:
    return ngettext("%(count)s patient", "%(count)s patients", n, count=format(n, ","))


def _events(n: int) -> str:
    return ngettext("%(count)s event", "%(count)s events", n, count=format(n, ","))


MDT_PACK = JobKind(
    key="mdt_pack",
    label=N_("MDT pack"),
    in_sentence=N_("MDT pack"),
    role=Role.CLINICIAN,
    units=N_("patients"),
    counted=_patients,
    working=N_("Preparing the pages"),
    finishing=N_("Laying out the PDF. This is the longest step."),
    file_type="PDF",
    keeping=N_(
        "Contains health information: save it where your clinic keeps meeting papers, "
        "and delete it after the meeting."
    ),
    form_endpoint="mdt.new",
    form_label=N_("MDT pack form"),
    too_large="The file came out too large to keep. Try again with fewer patients.",
    download_action="mdt.export",
    object_type="mdt_pack",
)

AUDIT_EXPORT = JobKind(
    key="audit_export",
    label=N_("Audit trail export"),
    in_sentence=N_("audit trail export"),
    role=Role.ADMIN,
    units=N_("events"),
    counted=_events,
    working=N_("Writing the events"),
    finishing=N_("Saving the file."),
    file_type="CSV",
    keeping=N_(
        "Contains the names of patients and staff: keep it where your clinic keeps "
        "confidential records, and delete it when you no longer need it."
    ),
    form_endpoint="audit.search",
    form_label=N_("Audit trail"),
    too_large="The file came out too large to keep. Try again with a shorter period or "
    "narrower filters.",
    holds_any_patient=True,
)

KINDS: dict[str, JobKind] = {kind.key: kind for kind in (MDT_PACK, AUDIT_EXPORT)}


def kinds_for(role: Role) -> list[str]:
    """The kinds of run someone of `role` asks for and follows."""
    return [kind.key for kind in KINDS.values() if kind.role is role]
