"""A copy of everything the clinic holds about one patient, as a ZIP file: `patient.json`
(a versioned, machine-readable bundle), a readable page of the same data for a person on
any screen (`my-data-<day>.html`, see `clinic.rights.summary`), each stored report PDF
exactly as it was sent, and a README.txt saying what is where.

The bundle is read with one query per table, whatever the record holds (no query per
row). Rows are exported column by column, as the database keeps them, less what is not
the patient's data to take away: secrets (password and token hashes, the two-factor
secret), internal keys, and the clinic id (the clinic is named once at the top). Dates are
ISO 8601 days, timestamps ISO 8601 in UTC ("2026-11-23T09:30:00Z").
"""

from __future__ import annotations

import enum
import io
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import render_template

from clinic.extensions import db
from clinic.models import (
    CareFlag,
    Clinic,
    ClinicalNote,
    ClinicalNoteRevision,
    DiaryEntry,
    DilatorSet,
    DilatorSize,
    EntryRevision,
    Invitation,
    Letter,
    LetterAddressee,
    MeasureAssignment,
    MeasureResponse,
    Patient,
    PatientSummary,
    PendingReferral,
    Protocol,
    ProtocolEvent,
    ProtocolStage,
    ProtocolVersion,
    PushSubscription,
    RedFlag,
    ReminderPlan,
    Report,
    User,
    UserSession,
)

FORMAT = "patient-data-export"
# Bumped whenever the bundle's shape or a field's meaning changes (README.md documents it).
SCHEMA_VERSION = 1

# Never exported, per table ("*": every table): the submission key is an internal
# exactly-once token; the PDFs travel as files of their own.
LEFT_OUT: Mapping[str, frozenset[str]] = {
    "*": frozenset({"clinic_id"}),
    "diary_entries": frozenset({"submission_key"}),
    "reports": frozenset({"pdf"}),
    "letters": frozenset({"pdf"}),
}
# Sign-in records are exported only field by field: they exist to hold secrets (token
# hashes), which stay secret even from their owner, and a column added later for another
# secret must not leave with the rest.
ONLY: Mapping[str, frozenset[str]] = {
    "invitations": frozenset(
        {"id", "purpose", "created_at", "expires_at", "used_at", "revoked_at"}
    ),
    "user_sessions": frozenset(
        {"id", "created_at", "last_seen_at", "ended_at", "end_reason", "user_agent"}
    ),
    # A device's push address works as a key to it: only the push service's name leaves
    # (`_devices`), with the dates.
    "push_subscriptions": frozenset({"id", "created_at", "last_used_at", "last_failed_at"}),
}
# Columns that hold JSON as text: exported as the JSON they hold.
JSON_TEXT = frozenset(
    {
        ("entry_revisions", "previous"),
        ("measure_responses", "answers"),
        ("measure_responses", "domains"),
    }
)
# The portal account, field by field: never its password hash, two-factor secret,
# session token or sign-in back-off.
PORTAL_ACCOUNT_FIELDS = (
    "id",
    "email",
    "active",
    "created_at",
    "claimed_at",
    "last_login_at",
    "password_changed_at",
    "totp_enabled_at",
)

Row = dict[str, Any]


@dataclass(frozen=True)
class PatientExport:
    """The bundle, the report files to put beside it (path in the ZIP, bytes) and the
    download's file name."""

    bundle: dict[str, Any]
    reports: list[tuple[str, bytes]]
    file_name: str
    letters: list[tuple[str, bytes]] = field(default_factory=list)


def export_file_name(patient: Patient, day: date) -> str:
    """A neutral file name: what it is, the clinic's record number and the day; never
    the patient's name or anything about the therapy."""
    identifier = re.sub(r"[^A-Za-z0-9-]+", "-", patient.clinic_identifier).strip("-")
    return f"export-{identifier or patient.id}-{day.isoformat()}.zip"


def build_export(patient: Patient, now: datetime, today: date) -> PatientExport:
    """Everything held about `patient`, read with one query per table."""
    rows = _load(patient)
    files: dict[str, list[tuple[str, bytes]]] = {"reports": [], "letters": []}
    for kind, found in files.items():
        paths = _report_paths(rows[kind], kind)
        for document in rows[kind]:
            pdf = document.pop("pdf")
            document["file"] = paths[document["id"]]
            found.append((document["file"], pdf))
    clinic = db.session.get_one(Clinic, patient.clinic_id)
    bundle = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "exported_at": _plain(now),
        "clinic": {"name": clinic.name, "phone": clinic.phone, "email": clinic.email},
        "patient": _orm_row(patient),
        "portal_account": _portal_account(patient.user, rows),
        "protocols": _protocols(rows),
        "diary_entries": _nest(
            rows["diary_entries"], "revisions", rows["entry_revisions"], "entry_id"
        ),
        "red_flags": rows["red_flags"],
        "care_flags": rows["care_flags"],
        "dashboard_summary": rows["patient_summaries"][0] if rows["patient_summaries"] else None,
        "reminder_settings": rows["reminder_plans"][0] if rows["reminder_plans"] else None,
        "clinical_notes": _notes(rows),
        "outcome_measures": _nest(
            rows["measure_assignments"], "responses", rows["measure_responses"], "assignment_id"
        ),
        "reports": rows["reports"],
        "letters": _nest(rows["letters"], "recipients", rows["letter_addressees"], "letter_id"),
        "people": rows["people"],
        "dilator_sizes": rows["dilator_sizes"],
    }
    return PatientExport(
        bundle, files["reports"], export_file_name(patient, today), files["letters"]
    )


def export_zip(
    export: PatientExport, now: datetime, readable: tuple[str, str] | None = None
) -> bytes:
    """The ZIP file: README.txt, the `readable` page (file name, HTML) when given,
    patient.json, reports/<file name> for each report and letters/<file name> for each
    letter."""
    buffer = io.BytesIO()
    stamp = now.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(path: str, content: bytes) -> None:
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16  # unpacked readable by its owner only
            archive.writestr(info, content)

        add("README.txt", _readme(export, readable[0] if readable else None).encode())
        if readable is not None:
            add(readable[0], readable[1].encode())
        add("patient.json", json.dumps(export.bundle, indent=2, ensure_ascii=False).encode())
        for path, pdf in [*export.reports, *export.letters]:
            add(path, pdf)
    return buffer.getvalue()


def _readme(export: PatientExport, readable_name: str | None) -> str:
    return render_template(
        "rights/export_readme.txt",
        bundle=export.bundle,
        report_count=len(export.reports),
        readable_name=readable_name,
    )


# Loading: one query per table, each scoped by clinic and patient inside the query.


def _load(patient: Patient) -> dict[str, list[Row]]:
    pid, cid = patient.id, patient.clinic_id
    protocols = sa.select(Protocol.id).where(Protocol.patient_id == pid, Protocol.clinic_id == cid)
    versions = sa.select(ProtocolVersion.id).where(ProtocolVersion.protocol_id.in_(protocols))
    entries = sa.select(DiaryEntry.id).where(
        DiaryEntry.patient_id == pid, DiaryEntry.clinic_id == cid
    )
    notes = sa.select(ClinicalNote.id).where(
        ClinicalNote.patient_id == pid, ClinicalNote.clinic_id == cid
    )

    def of_patient(model: type[Any]) -> tuple[sa.ColumnElement[bool], ...]:
        return (model.patient_id == pid, model.clinic_id == cid)

    rows: dict[str, list[Row]] = {
        "protocols": _rows(Protocol, of_patient(Protocol), Protocol.id),
        "protocol_versions": _rows(
            ProtocolVersion,
            (ProtocolVersion.protocol_id.in_(protocols),),
            ProtocolVersion.protocol_id,
            ProtocolVersion.number,
        ),
        "protocol_stages": _rows(
            ProtocolStage,
            (ProtocolStage.version_id.in_(versions),),
            ProtocolStage.version_id,
            ProtocolStage.position,
        ),
        "protocol_events": _rows(
            ProtocolEvent, (ProtocolEvent.protocol_id.in_(protocols),), ProtocolEvent.id
        ),
        "diary_entries": _rows(
            DiaryEntry, of_patient(DiaryEntry), DiaryEntry.occurred_at, DiaryEntry.id
        ),
        "entry_revisions": _rows(
            EntryRevision, (EntryRevision.entry_id.in_(entries),), EntryRevision.id
        ),
        "red_flags": _rows(RedFlag, of_patient(RedFlag), RedFlag.raised_at, RedFlag.id),
        "care_flags": _rows(CareFlag, of_patient(CareFlag), CareFlag.raised_at, CareFlag.id),
        "patient_summaries": _rows(
            PatientSummary, of_patient(PatientSummary), PatientSummary.patient_id
        ),
        "clinical_notes": _rows(
            ClinicalNote, of_patient(ClinicalNote), ClinicalNote.written_at, ClinicalNote.id
        ),
        "clinical_note_revisions": _rows(
            ClinicalNoteRevision,
            (ClinicalNoteRevision.note_id.in_(notes),),
            ClinicalNoteRevision.id,
        ),
        "measure_assignments": _rows(
            MeasureAssignment, of_patient(MeasureAssignment), MeasureAssignment.id
        ),
        "measure_responses": _rows(
            MeasureResponse,
            of_patient(MeasureResponse),
            MeasureResponse.occasion_on,
            MeasureResponse.id,
        ),
        "reports": _rows(
            Report, of_patient(Report), Report.created_at, Report.id, extra=[Report.pdf]
        ),
        "reminder_plans": _rows(ReminderPlan, of_patient(ReminderPlan), ReminderPlan.id),
        # The referral the record was accepted from (clinic.fhirapi), as it arrived.
        "referrals": _rows(
            PendingReferral, of_patient(PendingReferral), PendingReferral.received_at
        ),
        "letters": _rows(
            Letter, of_patient(Letter), Letter.created_at, Letter.id, extra=[Letter.pdf]
        ),
        "letter_addressees": _rows(
            LetterAddressee,
            (LetterAddressee.letter_id.in_(sa.select(Letter.id).where(*of_patient(Letter))),),
            LetterAddressee.id,
        ),
    }
    account = patient.user_id
    for model in (Invitation, UserSession):
        rows[model.__tablename__] = (
            _rows(model, (model.user_id == account,), model.created_at, model.id)
            if account is not None
            else []
        )
    rows["push_subscriptions"] = _devices(account) if account is not None else []
    people = _referenced(rows, "users")
    if patient.responsible_clinician_id is not None:
        people.add(patient.responsible_clinician_id)
    rows["people"] = _people(cid, people)
    rows["dilator_sizes"] = _sizes(cid, _referenced(rows, "dilator_sizes"))
    return rows


def _rows(
    model: type[Any],
    where: Sequence[sa.ColumnElement[bool]],
    *order_by: Any,
    extra: Iterable[Any] = (),
) -> list[Row]:
    table = model.__table__
    columns = [c for c in table.c if _exported(table.name, c.name)]
    result = db.session.execute(
        sa.select(*columns, *extra).where(*where).order_by(*order_by)
    ).mappings()
    return [
        {
            name: _json_text(value) if (table.name, name) in JSON_TEXT else _plain(value)
            for name, value in row.items()
        }
        for row in result
    ]


def _referenced(rows: Mapping[str, list[Row]], target_table: str) -> set[int]:
    """Ids of `target_table` that the loaded rows point at (staff who wrote, sizes used)."""
    ids: set[int] = set()
    for table_name, table_rows in rows.items():
        table = db.metadata.tables.get(table_name)
        if table is None:
            continue
        columns = [
            c.name
            for c in table.c
            if any(fk.column.table.name == target_table for fk in c.foreign_keys)
        ]
        ids.update(row[c] for row in table_rows for c in columns if row.get(c) is not None)
    return ids


def _people(clinic_id: int, ids: set[int]) -> list[Row]:
    """The accounts the record names (who wrote a note, changed a plan, logged an entry):
    name and role, nothing else."""
    if not ids:
        return []
    result = db.session.execute(
        sa.select(User.id, User.full_name, User.role)
        .where(User.id.in_(sorted(ids)), User.clinic_id == clinic_id)
        .order_by(User.id)
    )
    return [{"id": r.id, "name": r.full_name, "role": _plain(r.role)} for r in result]


def _sizes(clinic_id: int, ids: set[int]) -> list[Row]:
    """The dilators the plans and entries name, as the clinic's catalogue describes them."""
    if not ids:
        return []
    result = db.session.execute(
        sa.select(DilatorSize, DilatorSet.name)
        .join(DilatorSet, DilatorSet.id == DilatorSize.set_id)
        .where(DilatorSize.id.in_(sorted(ids)), DilatorSet.clinic_id == clinic_id)
        .order_by(DilatorSize.id)
    )
    return [
        {
            "id": size.id,
            "set": set_name,
            "label": size.label,
            "display": size.display,
            "diameter_mm": size.diameter_mm,
            "insertable_length_mm": size.insertable_length_mm,
        }
        for size, set_name in result
    ]


# Shaping: nest children under their parents, as a reader would look for them.


def _nest(parents: list[Row], key: str, children: list[Row], parent_key: str) -> list[Row]:
    by_parent: dict[int, list[Row]] = defaultdict(list)
    for child in children:
        by_parent[child[parent_key]].append(child)
    return [{**parent, key: by_parent.get(parent["id"], [])} for parent in parents]


def _protocols(rows: Mapping[str, list[Row]]) -> list[Row]:
    versions = _nest(rows["protocol_versions"], "stages", rows["protocol_stages"], "version_id")
    with_versions = _nest(rows["protocols"], "versions", versions, "protocol_id")
    return _nest(with_versions, "events", rows["protocol_events"], "protocol_id")


def _notes(rows: Mapping[str, list[Row]]) -> list[Row]:
    """Original notes in the order written, each with its earlier wording and its
    addenda (each with theirs)."""
    notes = _nest(rows["clinical_notes"], "revisions", rows["clinical_note_revisions"], "note_id")
    originals = [n for n in notes if n["addendum_to_id"] is None]
    addenda = [n for n in notes if n["addendum_to_id"] is not None]
    return _nest(originals, "addenda", addenda, "addendum_to_id")


def _devices(account: int) -> list[Row]:
    """The devices with notifications on: dates, and the push service by name only."""
    devices = _rows(
        PushSubscription,
        (PushSubscription.user_id == account,),
        PushSubscription.created_at,
        PushSubscription.id,
        extra=[PushSubscription.endpoint],
    )
    for device in devices:
        device["push_service"] = urlsplit(device.pop("endpoint")).hostname or ""
    return devices


def _portal_account(user: User | None, rows: Mapping[str, list[Row]]) -> Row | None:
    if user is None:
        return None
    account = {name: _plain(getattr(user, name)) for name in PORTAL_ACCOUNT_FIELDS}
    account["password_set"] = user.has_password
    account["invitations"] = rows["invitations"]
    account["sign_in_sessions"] = rows["user_sessions"]
    account["notification_devices"] = rows["push_subscriptions"]
    return account


def _report_paths(reports: list[Row], folder: str = "reports") -> dict[int, str]:
    """Each report's (or letter's) path in the ZIP: <folder>/<its file name>, made unique
    if two share a name, and never able to leave the folder."""
    paths: dict[int, str] = {}
    taken: set[str] = set()
    for report in reports:
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", report["file_name"]).lstrip(".-") or "report.pdf"
        if name in taken:
            stem, dot, suffix = name.rpartition(".")
            name = f"{stem}-{report['id']}{dot}{suffix}" if dot else f"{name}-{report['id']}"
        taken.add(name)
        paths[report["id"]] = f"{folder}/{name}"
    return paths


def _orm_row(obj: Any) -> Row:
    """A loaded object's table columns, exported like `_rows` exports rows."""
    table = obj.__table__
    mapper = sa.inspect(type(obj))
    return {
        column.name: _plain(getattr(obj, mapper.get_property_by_column(column).key))
        for column in table.c
        if _exported(table.name, column.name)
    }


def _exported(table: str, column: str) -> bool:
    if table in ONLY:
        return column in ONLY[table]
    return column not in LEFT_OUT["*"] and column not in LEFT_OUT.get(table, frozenset())


def _plain(value: Any) -> Any:
    """A database value as JSON: ISO 8601 days, UTC timestamps, enum codes."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset)):  # a diary entry's concerns: their codes
        return sorted(_plain(v) for v in value)
    return value


def _json_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # kept as written rather than lost
