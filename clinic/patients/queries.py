"""Scoped loaders for patient records. Every read of a patient goes through here.

Each loader filters by clinic inside the query, so a record of another clinic is simply
not found (404): the caller never holds an object it may not see.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

from flask import abort, g, has_request_context
from sqlalchemy import BindParameter, ColumnElement, Row, Select, and_, bindparam, or_, select
from sqlalchemy.orm import contains_eager, joinedload, undefer

from clinic.core.search import name_or_identifier_matches
from clinic.extensions import db
from clinic.measures.instruments import revision_columns
from clinic.models import Clinic, Patient, PatientStatus, PatientSummary, Protocol, Role, User
from clinic.models.users import normalise_email
from clinic.protocols.queries import OPEN_STATUSES

# A row of any columns (the own-record statements, and the chart's with columns added,
# read different ones).
AnyRow = tuple[Any, ...]

_CHART_HEADER = (
    joinedload(Patient.user),
    joinedload(Patient.responsible_clinician),
    undefer(Patient.open_red_flags),
    undefer(Patient.open_urgent_red_flags),
)


def _summary_of_patient() -> ColumnElement[bool]:
    return (PatientSummary.patient_id == Patient.id) & (
        PatientSummary.clinic_id == Patient.clinic_id
    )


# The loaders below run on every chart and portal page: their statements are built once,
# with the ids as parameters (building a statement with its loader options, and working
# out its cache key, cost more than running it).
_PATIENT_ID: BindParameter[int] = bindparam("patient_id")
_CLINIC_ID: BindParameter[int] = bindparam("clinic_id")
_USER_ID: BindParameter[int] = bindparam("user_id")

_CHART = (
    select(Patient)
    .where(Patient.id == _PATIENT_ID, Patient.clinic_id == _CLINIC_ID)
    .options(*_CHART_HEADER)
)
_CHART_AND_VERSION = (
    select(Patient, PatientSummary.version)
    .outerjoin(PatientSummary, _summary_of_patient())
    .where(Patient.id == _PATIENT_ID, Patient.clinic_id == _CLINIC_ID)
    .options(
        *_CHART_HEADER,
        # Read afresh too (populate_existing), the responsible clinician is often the
        # signed-in one, whose clinic the page reads next: a lazy load after a fresh read
        # reads afresh as well (a query of its own), so it comes in this one.
        joinedload(Patient.responsible_clinician).joinedload(User.clinic),
    )
    .execution_options(populate_existing=True)
)
# Not the clinic: it is the signed-in account's, which the session check loaded.
_OWN_RECORD = (
    select(Patient)
    .where(Patient.user_id == _USER_ID, Patient.clinic_id == _CLINIC_ID)
    .options(joinedload(Patient.responsible_clinician))
)
_OWN_RECORD_AND_SUMMARY = (
    select(
        Patient,
        PatientSummary.version,
        PatientSummary.protocol_id,
        *revision_columns(Patient.clinic_id),
    )
    .outerjoin(PatientSummary, _summary_of_patient())
    .where(Patient.user_id == _USER_ID, Patient.clinic_id == _CLINIC_ID)
    .options(joinedload(Patient.responsible_clinician))
)
_OWN_RECORD_VERSION_AND_PLAN = (
    select(Patient, PatientSummary.version, Protocol)
    .outerjoin(PatientSummary, _summary_of_patient())
    .outerjoin(
        Protocol,
        and_(
            Protocol.patient_id == Patient.id,
            Protocol.clinic_id == Patient.clinic_id,
            Protocol.status.in_(OPEN_STATUSES),
        ),
    )
    .where(Patient.user_id == _USER_ID, Patient.clinic_id == _CLINIC_ID)
    .options(
        joinedload(Patient.clinic),
        joinedload(Patient.user),
        joinedload(Patient.responsible_clinician),
    )
    .execution_options(populate_existing=True)
)


def get_patient_or_404(patient_id: int, clinic_id: int) -> Patient:
    """The patient with this id in this clinic; 404 if absent or another clinic's. With
    what the chart's header shows (the open red flags counted in the same query)."""
    patient = db.session.scalar(_CHART, {"patient_id": patient_id, "clinic_id": clinic_id})
    if patient is None:
        abort(404)
    return patient


def get_patient_and_version_or_404(patient_id: int, clinic_id: int) -> tuple[Patient, int | None]:
    """`get_patient_or_404`, as committed now (even where the session holds the record
    already), with its summary's version (None: no summary yet) read in the same
    statement: for a page whose parts are kept under that version
    (clinic.monitoring.kept), the record is then no older than the version."""
    row = get_chart_row_or_404(_CHART_AND_VERSION, patient_id, clinic_id)
    return row[0], row[1]


def chart_and_version_with(*columns: ColumnElement[Any]) -> Select[*AnyRow]:
    """The statement of `get_patient_and_version_or_404` with `columns` read in the same
    round trip (they may use its parameters, `patient_id` and `clinic_id`): for
    `get_chart_row_or_404`. Build it once."""
    return _CHART_AND_VERSION.add_columns(*columns)


def get_chart_row_or_404(
    statement: Select[*AnyRow], patient_id: int, clinic_id: int
) -> Row[*AnyRow]:
    """The row `statement` (`_CHART_AND_VERSION`, or one `chart_and_version_with` made)
    reads: the patient, the summary's version, then any other columns; 404 if the
    patient is absent or another clinic's."""
    row = db.session.execute(statement, {"patient_id": patient_id, "clinic_id": clinic_id}).first()
    if row is None:
        abort(404)
    return row


def get_own_patient_record(user: User) -> Patient | None:
    """The record linked to a patient's portal login (portal views never take an id).
    Its id is kept for the rest of the request (`own_patient_id`)."""
    patient = db.session.scalar(_OWN_RECORD, {"user_id": user.id, "clinic_id": user.clinic_id})
    if has_request_context():
        g.own_patient = (user.id, patient.id if patient is not None else None)
    return patient


def _own_row(statement: Select[*AnyRow], user: User) -> Row[*AnyRow] | None:
    """The row `statement` reads for a patient's portal login (the record first), its
    record's id kept for the rest of the request, as `get_own_patient_record` keeps it."""
    row = db.session.execute(statement, {"user_id": user.id, "clinic_id": user.clinic_id}).first()
    if has_request_context():
        g.own_patient = (user.id, row[0].id if row is not None else None)
    return row


class OwnRecord(NamedTuple):
    """A patient's own record as a portal page reads it (`own_record_and_summary`)."""

    patient: Patient
    version: int | None  # the summary's (None: no summary yet)
    protocol_id: int | None  # the open protocol the summary names
    instruments: tuple[int, int, int]  # the clinic's instruments' revision


def own_record_and_summary(user: User) -> OwnRecord | None:
    """The record linked to a patient's portal login, with its summary's version, the open
    protocol the summary names and the clinic's instruments' revision
    (clinic.measures.instruments.revision), read in one statement: for pages kept under
    those (clinic.monitoring.kept). Its id is kept for the rest of the request, as
    `get_own_patient_record` keeps it."""
    row = _own_row(_OWN_RECORD_AND_SUMMARY, user)
    if row is None:
        return None
    return OwnRecord(row[0], row[1], row[2], (row[3], row[4], row[5]))


def own_record_version_and_plan(user: User) -> tuple[Patient, int | None, Protocol | None] | None:
    """The record linked to a patient's portal login, as committed now (with its clinic
    and account, even where the session holds them already), its summary's version (None:
    no summary yet) and its open protocol (None: no plan; its history not loaded, see
    `clinic.protocols.queries.load_history`), read in one statement: for a write whose
    summary refresh may use them (clinic.monitoring.services.note_current). Its id is kept
    for the rest of the request, as `get_own_patient_record` keeps it."""
    row = _own_row(_OWN_RECORD_VERSION_AND_PLAN, user)
    return (row[0], row[1], row[2]) if row is not None else None


def own_patient_id(user: User) -> int | None:
    """The id of the record linked to a patient's portal login: the one this request
    loaded already (a portal page's view, through `get_own_patient_record`), else one
    query."""
    if has_request_context():
        found = g.get("own_patient")
        if found is not None and found[0] == user.id:
            return cast(int | None, found[1])
    return db.session.scalar(
        select(Patient.id).where(Patient.user_id == user.id, Patient.clinic_id == user.clinic_id)
    )


def caseload_query(
    clinic_id: int, search: str = "", status: PatientStatus | None = None
) -> Select[Patient]:
    """Patients of one clinic for the list page, with what the rows show loaded in one query."""
    stmt = (
        select(Patient)
        .where(Patient.clinic_id == clinic_id)
        .options(
            # Of each account, only what a row shows (whether the invitation was
            # accepted; the clinician's name): not the other 18 columns, nor the language
            # a patient's account carries (a subquery per row).
            joinedload(Patient.user).load_only(User.password_hash),
            joinedload(Patient.responsible_clinician).load_only(User.full_name),
            undefer(Patient.open_red_flags),
            undefer(Patient.open_urgent_red_flags),
        )
        # In the order of ix_patients_clinic_name: a page reads only its own rows.
        .order_by(Patient.full_name, Patient.id)
    )
    if status is not None:
        stmt = stmt.where(Patient.status == status)
    search = search.strip()
    if search:
        stmt = stmt.where(name_or_identifier_matches(search))
    return stmt


def active_clinicians(clinic_id: int) -> list[User]:
    """Clinicians of the clinic who can be made responsible for a patient."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.clinic_id == clinic_id, User.role == Role.CLINICIAN, User.active)
            .order_by(User.full_name)
        )
    )


def identifier_taken(clinic_id: int, identifier: str, except_patient_id: int | None) -> bool:
    """Whether another patient of the clinic already has this clinic identifier."""
    stmt = select(Patient.id).where(
        Patient.clinic_id == clinic_id, Patient.clinic_identifier == identifier
    )
    if except_patient_id is not None:
        stmt = stmt.where(Patient.id != except_patient_id)
    return db.session.scalar(stmt.limit(1)) is not None


def email_in_use(email: str, clinic_id: int) -> bool:
    """Whether an account of this clinic already signs in with this email (compared
    without case). Other clinics' accounts are none of this clinic's business."""
    stmt = select(User.id).where(User.email == normalise_email(email), User.clinic_id == clinic_id)
    return db.session.scalar(stmt.limit(1)) is not None


def patients_known_as(login_or_identifier: str, clinic_name: str | None = None) -> list[Patient]:
    """Patients whose portal email or clinic identifier is `login_or_identifier`, in every
    clinic or only the one named. For the command line (an operator of the whole system);
    pages always go through the clinic-scoped loaders above."""
    value = login_or_identifier.strip()
    by_login = select(User.id).where(
        User.email == normalise_email(value), User.role == Role.PATIENT
    )
    stmt = (
        select(Patient)
        .join(Clinic, Clinic.id == Patient.clinic_id)
        .where(or_(Patient.user_id.in_(by_login), Patient.clinic_identifier == value))
        .options(contains_eager(Patient.clinic))
        .order_by(Patient.clinic_id, Patient.id)
    )
    if clinic_name is not None:
        stmt = stmt.where(Clinic.name == clinic_name.strip())
    return list(db.session.scalars(stmt))
