"""Demonstration data: two clinics with staff and patients of several indications.

Every demo account signs in with DEMO_PASSWORD. Every patient has a protocol at a
realistic point, with its stage and version history. Later features extend this module
(session logs, reports) so every screen has something real to show.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import TypedDict, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select

from clinic.auth.hashing import hash_password
from clinic.core.clock import clinic_today
from clinic.core.refusals import Refusal
from clinic.diary.services import SessionDetails, SkipDetails, record
from clinic.domain.diary import Bleeding, Concern, SkipReason
from clinic.domain.indications import Indication
from clinic.domain.measure_schedule import Cadence
from clinic.domain.protocols import EventKind
from clinic.extensions import db
from clinic.library.defaults import seed_clinic_library
from clinic.measures.answers import start_or_resume, submit
from clinic.measures.schedule import program_dates
from clinic.measures.services import assign
from clinic.models import (
    Clinic,
    Patient,
    PatientStatus,
    Protocol,
    ProtocolTemplate,
    Recipient,
    RecipientRole,
    Role,
    User,
)
from clinic.monitoring import upkeep
from clinic.protocols.prescriptions import Prescription, prescription_on
from clinic.protocols.queries import open_protocol
from clinic.protocols.services import record_event, revise_protocol, start_protocol

DEMO_PASSWORD = "demo-pass-2026"

CLINICS = {
    "northside": {
        "name": "Northside Pelvic Health",
        "address": "14 Albion Street\nLeeds LS1 6HX",
        "phone": "0113 496 0321",
        "email": "hello@northside.example",
    },
    "riverside": {
        "name": "Riverside Physiotherapy",
        "address": "2 Quay Lane\nBristol BS1 4RE",
        "phone": "0117 496 0777",
        "email": "reception@riverside.example",
    },
}

# The clinics' address books (clinic.letters): one recipient with a secure-email address,
# one whose letters are printed and posted.
RECIPIENTS: dict[str, list[dict[str, object]]] = {
    "northside": [
        {
            "name": "Dr Amira Shah",
            "role": RecipientRole.GYNAECOLOGIST,
            "service": "Vulval and pelvic pain clinic",
            "organisation": "Leeds General Infirmary",
            "postal_address": "Women's Health Unit\nGreat George Street\nLeeds LS1 3EX",
            "email": "gynae.letters@leeds-hospital.example",
        },
        {
            "name": "Dr Tom Whitfield",
            "role": RecipientRole.GP,
            "service": "",
            "organisation": "Canal Street Surgery",
            "postal_address": "3 Canal Street\nLeeds LS12 2PT",
            "email": "",
        },
    ],
    "riverside": [
        {
            "name": "Ms Helen Marsh",
            "role": RecipientRole.PSYCHOSEXUAL_THERAPIST,
            "service": "Psychosexual therapy service",
            "organisation": "Riverside Community Health",
            "postal_address": "40 Redcliff Hill\nBristol BS1 6SX",
            "email": "psychosexual@riverside-health.example",
        },
        {
            "name": "Mr David Lindqvist",
            "role": RecipientRole.COLORECTAL_SURGEON,
            "service": "Colorectal surgery",
            "organisation": "Bristol Royal Infirmary",
            "postal_address": "Colorectal Office\nUpper Maudlin Street\nBristol BS2 8HW",
            "email": "",
        },
    ],
}

STAFF = [
    ("northside", "admin@northside.example", "Nadia Brooks", Role.ADMIN),
    ("northside", "physio@northside.example", "Hannah Price", Role.CLINICIAN),
    ("northside", "physio2@northside.example", "Tomás Ortega", Role.CLINICIAN),
    ("riverside", "admin@riverside.example", "Grace Whitfield", Role.ADMIN),
    ("riverside", "physio@riverside.example", "Ravi Shah", Role.CLINICIAN),
]

# clinic, name, date of birth, identifier, pronouns, indication, other, referrer, status,
# responsible clinician's email, portal email (None: not invited yet)
PATIENTS = [
    (
        "northside",
        "Avery Quinn",
        date(1994, 3, 12),
        "NPH-1001",
        "she/her",
        Indication.VAGINOPLASTY,
        "",
        "Ms R. Adeyemi, gender surgery",
        PatientStatus.ACTIVE,
        "physio@northside.example",
        "avery.quinn@example.org",
    ),
    (
        "northside",
        "Sam Rivera",
        date(1998, 9, 30),
        "NPH-1002",
        "she/they",
        Indication.VAGINISMUS,
        "",
        "Dr L. Moore, GP",
        PatientStatus.ACTIVE,
        "physio@northside.example",
        "sam.rivera@example.org",
    ),
    (
        "northside",
        "Morgan Ellis",
        date(1971, 1, 5),
        "NPH-1003",
        "she/her",
        Indication.PELVIC_RADIOTHERAPY,
        "",
        "Dr K. Iqbal, clinical oncology",
        PatientStatus.ACTIVE,
        "physio@northside.example",
        "morgan.ellis@example.org",
    ),
    (
        "northside",
        "Daniel Okafor",
        date(1982, 6, 18),
        "NPH-1004",
        "he/him",
        Indication.CHRONIC_PELVIC_PAIN,
        "",
        "Mr P. Lindqvist, urology",
        PatientStatus.ACTIVE,
        "physio2@northside.example",
        None,
    ),
    (
        "northside",
        "Priya Natarajan",
        date(1989, 11, 2),
        "NPH-1005",
        "she/her",
        Indication.DYSPAREUNIA,
        "",
        "Dr S. Hale, gynaecology",
        PatientStatus.PAUSED,
        "physio@northside.example",
        None,
    ),
    (
        "northside",
        "Lee Chen",
        date(1966, 4, 27),
        "NPH-1006",
        "he/him",
        Indication.ANAL_STENOSIS,
        "",
        "Ms F. Doyle, colorectal surgery",
        PatientStatus.ACTIVE,
        "physio2@northside.example",
        None,
    ),
    (
        "northside",
        "Alex Moreau",
        date(1979, 8, 14),
        "NPH-1007",
        "they/them",
        Indication.LEVATOR_ANI,
        "",
        "Dr L. Moore, GP",
        PatientStatus.DISCHARGED,
        "physio@northside.example",
        None,
    ),
    (
        "riverside",
        "Jordan Blake",
        date(1985, 2, 21),
        "RVP-2001",
        "he/him",
        Indication.CHRONIC_PELVIC_PAIN,
        "",
        "Dr A. Byrne, GP",
        PatientStatus.ACTIVE,
        "physio@riverside.example",
        "jordan.blake@example.org",
    ),
    (
        "northside",
        "Rhiannon Price-Davies",
        date(2007, 5, 22),
        "NPH-1008",
        "she/her",
        Indication.VAGINAL_AGENESIS,
        "",
        "Dr M. Osei, adolescent gynaecology (specialist MRKH service)",
        PatientStatus.ACTIVE,
        "physio@northside.example",
        None,
    ),
    (
        "northside",
        "Margaret Holloway",
        date(1958, 10, 3),
        "NPH-1009",
        "she/her",
        Indication.MENOPAUSE_GSM,
        "",
        "Dr S. Hale, gynaecology (on an aromatase inhibitor)",
        PatientStatus.ACTIVE,
        "physio2@northside.example",
        None,
    ),
    (
        "riverside",
        "Casey Nguyen",
        date(1996, 7, 9),
        "RVP-2002",
        "she/her",
        Indication.VAGINISMUS,
        "",
        "Dr A. Byrne, GP",
        PatientStatus.ACTIVE,
        "physio@riverside.example",
        None,
    ),
]


# What each patient asks to be called. Morgan Ellis has none recorded: the portal greets
# them with a plain "Hello", never with the first word of the legal name.
NAMES_TO_USE: dict[str, str] = {
    "Avery Quinn": "Avery",
    "Sam Rivera": "Sam",
    "Daniel Okafor": "Dan",
    "Priya Natarajan": "Priya",
    "Lee Chen": "Lee",
    "Alex Moreau": "Alex",
    "Rhiannon Price-Davies": "Rhi",
    "Margaret Holloway": "Maggie",
    "Jordan Blake": "Jordan",
    "Casey Nguyen": "Casey",
}

# Days before the protocol started that radiotherapy ended (the clinic's interval is 4
# weeks by default; 6 weeks passed here).
RADIOTHERAPY_ENDED_BEFORE_START = {"Morgan Ellis": 42}

# Surgeon-directed programs: the treating surgeon and the days before the protocol
# started that the procedure took place.
SURGERY: dict[str, tuple[str, int]] = {
    "Avery Quinn": ("Ms R. Adeyemi, gender surgery", 7),
    "Lee Chen": ("Ms F. Doyle, colorectal surgery", 21),
}

# patient name -> (template indication, days ago it started, start stage,
#                 [(days ago, change, reason)]); changes: "advance", "hold", "step_back",
#                 "pause:<resume in days>", "complete", "revise:<what>"
PROTOCOL_HISTORIES: dict[str, tuple[Indication, int, int, list[tuple[int, str, str]]]] = {
    "Avery Quinn": (
        Indication.VAGINOPLASTY,
        200,
        1,
        [
            (186, "advance", "Comfortable at 25 mm to full depth; no bleeding."),
            (165, "advance", "27.5 mm easy for three weeks."),
            (144, "advance", "30 mm comfortable; pain 2/10."),
            (116, "advance", "Three months after surgery: daily dilation from now."),
            (100, "revise:depth", "Depth measured at review: 15 cm. Target depth updated."),
            (26, "advance", "Six months after surgery: maintenance two to three times a week."),
        ],
    ),
    "Sam Rivera": (
        Indication.VAGINISMUS,
        70,
        1,
        [
            (54, "advance", "Size 1 comfortable in all recent sessions."),
            (37, "advance", "Insertion easy; moving well."),
            (20, "hold", "Pain 4/10 at size 3: stay two more weeks."),
            (6, "advance", "Pain down to 2/10 with breathing; ready for size 4."),
        ],
    ),
    "Morgan Ellis": (
        Indication.PELVIC_RADIOTHERAPY,
        75,
        1,
        [
            (60, "advance", "Tolerating 3 minutes well; spotting only."),
            (30, "advance", "Daily sessions agreed at review."),
        ],
    ),
    "Daniel Okafor": (
        Indication.CHRONIC_PELVIC_PAIN,
        30,
        1,
        [
            (8, "advance", "Relaxation good at size 1; trigger-point pain settling."),
        ],
    ),
    "Priya Natarajan": (
        Indication.DYSPAREUNIA,
        60,
        1,
        [
            (45, "advance", "Size 2 comfortable."),
            # The planned restart date has passed: "review before resuming" (issue 16).
            (20, "pause:-3", "Laparoscopy planned: pause until the post-operative review."),
        ],
    ),
    "Lee Chen": (
        Indication.ANAL_STENOSIS,
        25,
        1,
        [
            (10, "advance", "Surgeon's review: continue dilation at the next size."),
        ],
    ),
    "Alex Moreau": (
        Indication.LEVATOR_ANI,
        150,
        1,
        [
            (128, "advance", "Comfortable at size 1."),
            (106, "advance", "Comfortable at size 2."),
            (60, "complete", "Pain resolved; discharged with advice for flare-ups."),
        ],
    ),
    "Jordan Blake": (
        Indication.CHRONIC_PELVIC_PAIN,
        40,
        1,
        [
            (18, "advance", "Relaxation with size 1 easy; no pain after sessions."),
        ],
    ),
    "Rhiannon Price-Davies": (
        Indication.VAGINAL_AGENESIS,
        35,
        1,
        [
            (
                12,
                "advance",
                "Steady pressure at size 1 comfortable; consent reviewed with her alone.",
            )
        ],
    ),
    "Margaret Holloway": (Indication.MENOPAUSE_GSM, 14, 1, []),
    "Casey Nguyen": (Indication.VAGINISMUS, 10, 1, []),
}


def seed_demo() -> None:
    """Add the demo clinics, staff and patients to the session (the caller commits)."""
    password_hash = hash_password(DEMO_PASSWORD)  # one hash, reused: seeding stays quick
    clinics = {key: Clinic(**details) for key, details in CLINICS.items()}
    db.session.add_all(clinics.values())
    for each in clinics.values():
        seed_clinic_library(each)
    staff = {
        email: User(
            clinic=clinics[clinic],
            email=email,
            full_name=name,
            role=role,
            password_hash=password_hash,
        )
        for clinic, email, name, role in STAFF
    }
    db.session.add_all(staff.values())
    for clinic_key, recipients in RECIPIENTS.items():
        db.session.add_all(
            Recipient(clinic_id=clinics[clinic_key].id, **details) for details in recipients
        )
    for (
        clinic,
        name,
        born,
        identifier,
        pronouns,
        indication,
        other,
        referrer,
        status,
        clinician,
        portal_email,
    ) in PATIENTS:
        portal_user = None
        if portal_email:
            portal_user = User(
                clinic=clinics[clinic],
                email=portal_email,
                full_name=name,
                role=Role.PATIENT,
                password_hash=password_hash,
            )
        db.session.add(
            Patient(
                clinic=clinics[clinic],
                user=portal_user,
                full_name=name,
                name_to_use=NAMES_TO_USE.get(name, ""),
                date_of_birth=born,
                clinic_identifier=identifier,
                pronouns=pronouns,
                indication=indication,
                indication_other=other,
                referring_clinician=referrer,
                status=status,
                responsible_clinician=staff[clinician],
            )
        )
    db.session.flush()
    # History is replayed day by day: flags must describe today, not each replayed day.
    with upkeep.deferred():
        _seed_protocol_histories()
        _seed_diaries()
        seed_measures()


_T = TypeVar("_T")


def _present(value: _T | None, what: str) -> _T:
    """`value`, which the demo data above guarantees (a LookupError naming `what` if not)."""
    if value is None:
        raise LookupError(f"The demo data has no {what}.")
    return value


def _seed_protocol_histories() -> None:
    """Give every demo patient a protocol at a realistic point, through the same services
    clinicians use, so versions, events and fingerprints are genuine."""
    for patient in db.session.scalars(select(Patient).order_by(Patient.id)):
        indication, started, start_stage, changes = PROTOCOL_HISTORIES[patient.full_name]
        template = db.session.scalars(
            select(ProtocolTemplate).where(
                ProtocolTemplate.clinic_id == patient.clinic_id,
                ProtocolTemplate.indication == indication,
            )
        ).one()
        clinician = _present(patient.responsible_clinician, f"clinician of {patient.full_name}")
        today = clinic_today(patient.clinic.timezone)
        start_on = today - timedelta(days=started)
        if patient.full_name in RADIOTHERAPY_ENDED_BEFORE_START:
            before = RADIOTHERAPY_ENDED_BEFORE_START[patient.full_name]
            patient.radiotherapy_ended_on = start_on - timedelta(days=before)
        surgeon, procedure_before = SURGERY.get(patient.full_name, ("", 0))
        protocol = start_protocol(
            patient,
            clinician,
            name=template.name,
            route=template.route,
            stages=[stage.stage_values() for stage in template.stages],
            start_stage=start_stage,
            start_on=start_on,
            today=today,
            template=template,
            surgeon_direction=surgeon,
            procedure_on=start_on - timedelta(days=procedure_before) if surgeon else None,
        )
        for days_ago, change, reason in changes:
            day = today - timedelta(days=days_ago)
            lock = str(protocol.lock_version)
            if change == "revise:depth":
                stages = [
                    replace(stage.stage_values(), target_depth_cm=15.0)
                    for stage in protocol.versions[-1].stages
                ]
                revise_protocol(
                    protocol,
                    clinician,
                    expected_lock=lock,
                    stages=stages,
                    current_stage=protocol.events[-1].stage,
                    effective_on=day,
                    today=today,
                    reason=reason,
                )
                continue
            kind, _, resume_in = change.partition(":")
            record_event(
                protocol,
                EventKind(kind),
                clinician,
                expected_lock=lock,
                effective_on=day,
                today=today,
                reason=reason,
                resume_on=today + timedelta(days=int(resume_in)) if resume_in else None,
            )


class _Reported(TypedDict, total=False):
    """What a seeded session reported, in SessionDetails' terms."""

    pain_during: int
    pain_after: int
    bleeding: Bleeding
    sharp_pain: bool
    concerns: frozenset[Concern]


# Diaries: months of entries for the patients who use the portal. Seeded per patient so
# the demo is the same every time. (name, days of history, weekly adherence range, and
# the days ago of a red-flag session and what it reported, if any)
DIARIES: dict[str, tuple[int, tuple[float, float], tuple[int, _Reported] | None]] = {
    # After vaginoplasty: the size used before would not go in (see DEPTH_LOSS too).
    "Avery Quinn": (120, (0.7, 1.0), (4, {"concerns": frozenset({Concern.NOT_INSERTED})})),
    # Sharp pain, and distress during the session (a check-in, at a lower severity).
    "Sam Rivera": (
        70,
        (0.45, 0.95),
        (3, {"pain_during": 8, "sharp_pain": True, "concerns": frozenset({Concern.DISTRESS})}),
    ),
    # Bleeding, and new trouble passing urine.
    "Jordan Blake": (
        40,
        (0.5, 0.9),
        (5, {"bleeding": Bleeding.MORE, "concerns": frozenset({Concern.URINARY})}),
    ),
    # Steady and comfortable: the progression rule suggests moving up.
    "Morgan Ellis": (60, (1.0, 1.0), None),
}
# Patients who once used a larger size than prescribed, and how many days ago (issue 16:
# the dashboard shows "Larger size than prescribed" for review).
LARGER_SIZE_DAYS = {"Jordan Blake": 2}
# After vaginoplasty: (days ago, depth in cm) of a session that went well under the recent
# ones' depth (about 15 cm), a loss of depth for the clinic to see.
DEPTH_LOSS = {"Avery Quinn": (3, 13.2)}
SKIP_REASONS = (
    [SkipReason.NO_TIME] * 4
    + [SkipReason.FORGOT] * 3
    + [
        SkipReason.UNWELL,
        SkipReason.NO_PRIVACY,
        SkipReason.PAIN_OR_FEAR,
    ]
)


def _seed_diaries() -> None:
    """Entries recorded through the diary service, so stages, versions and red flags are
    exactly what a patient's own entries would carry: adherence that varies by week,
    pain that eases as a size is mastered and rises briefly after each step up, skips
    with their reasons, and red flags (every clinic has one)."""
    for name, (days, adherence_range, red_flag) in DIARIES.items():
        flag_day, flag_report = red_flag or (None, None)
        patient = db.session.scalars(select(Patient).where(Patient.full_name == name)).one()
        protocol = _present(open_protocol(patient.id, patient.clinic_id), f"program of {name}")
        user = _present(patient.user, f"portal account of {name}")
        zone = ZoneInfo(patient.clinic.timezone)
        rng = random.Random(name)
        today = clinic_today(patient.clinic.timezone)
        first = max(today - timedelta(days=days), protocol.events[0].effective_on)
        adherence = rng.uniform(*adherence_range)
        day = first
        while day < today:
            if day.weekday() == 0:
                adherence = rng.uniform(*adherence_range)  # some weeks go better than others
            prescription = prescription_on(protocol, day)
            if prescription.state is not None and not prescription.paused:
                _seed_day(
                    patient,
                    user,
                    protocol,
                    prescription,
                    prescription.state.stage_since,
                    day,
                    zone,
                    rng,
                    adherence,
                    flag_report if (today - day).days == flag_day else None,
                    larger=(today - day).days == LARGER_SIZE_DAYS.get(name),
                    depth_cm=_depth_loss_on(name, (today - day).days),
                )
            day += timedelta(days=1)


def _depth_loss_on(name: str, days_ago: int) -> float | None:
    """The depth of the demo's loss-of-depth session, on its day (None on other days)."""
    loss = DEPTH_LOSS.get(name)
    return loss[1] if loss is not None and loss[0] == days_ago else None


def _seed_day(
    patient: Patient,
    user: User,
    protocol: Protocol,
    prescription: Prescription,
    stage_since: date,
    day: date,
    zone: ZoneInfo,
    rng: random.Random,
    adherence: float,
    flag_report: _Reported | None,
    *,
    larger: bool = False,
    depth_cm: float | None = None,
) -> None:
    """One day of a demo diary: its sessions and skips, recorded as `user` (the patient);
    with `larger`, its first session is done with the next size up of the same set; with
    `depth_cm`, its first session gives that depth."""
    stage = prescription.stage
    size_id = stage.dilator_size_id
    if larger:
        prescribed = stage.dilator_size
        bigger = [
            s
            for s in prescribed.dilator_set.sizes
            if s.diameter_mm > prescribed.diameter_mm and s.retired_at is None
        ]
        size_id = bigger[0].id if bigger else size_id
    per_day = stage.sessions if stage.period.value == "day" else 0
    if stage.period.value == "week":
        per_day = 1 if rng.random() < stage.sessions / 7 else 0
    if flag_report is not None or larger or depth_cm is not None:
        per_day = max(per_day, 1)  # the red-flag (or larger-size) session happens on its day
    days_on_stage = (day - stage_since).days
    for n in range(per_day):
        moment = datetime.combine(day, time(8 + 5 * n, rng.randrange(60)), zone)
        key = f"demo-{patient.id}-{day.isoformat()}-{n}"
        details: SessionDetails | SkipDetails
        if flag_report is None and not larger and depth_cm is None and rng.random() > adherence:
            if rng.random() < 0.6:
                details = SkipDetails(moment, rng.choice(SKIP_REASONS), "")
            else:
                continue  # missed without a note, as often happens
        else:
            # Pain rises after a step up and eases over about two weeks.
            during = max(0, min(6, round(4.5 - days_on_stage / 4 + rng.uniform(-1, 1))))
            # Depth, where the stage sets one: a little short of the target after a step
            # up, nearing it as the size is mastered (the timeline's depth trend).
            target = stage.target_depth_cm
            # Never more than 0.9 cm short: these ordinary sessions raise no depth flag.
            short = max(0.0, 0.5 - days_on_stage / 28) + rng.uniform(0.0, 0.4)
            depth = depth_cm or (round(target - short, 1) if target is not None else None)
            depth_cm = None  # the loss of depth is one session
            report: _Reported = {
                "pain_during": during,
                "pain_after": max(0, during - rng.randrange(2)),
                "bleeding": Bleeding.SPOTTING if rng.random() < 0.05 else Bleeding.NONE,
                "sharp_pain": False,
                **(flag_report or {}),
            }
            flag_report = None
            details = SessionDetails(
                occurred_at=moment,
                dilator_size_id=size_id,
                minutes=stage.minutes if rng.random() < 0.9 else max(1, stage.minutes - 4),
                depth_cm=depth,
                note="",
                **report,
            )
        record(patient, protocol, user, key, details, now=moment + timedelta(minutes=20))
        size_id, larger = stage.dilator_size_id, False  # one session with the larger size


# Outcome measures: (patient, instrument, every N weeks or None for a one-off, the days ago
# a one-off is asked, [(occasion, days after it the patient answered, answers)]). Repeating
# ones are assigned on the day the program started, so they have a baseline.
_CONFIDENCE = ("insert", "on_own", "discomfort", "keep_going", "next_size")
MEASURES: list[
    tuple[str, str, int | None, int | None, list[tuple[str, int, dict[str, int | None]]]]
] = [
    (
        "Sam Rivera",
        "pain-nrs",
        4,
        None,
        [
            ("baseline", 0, {"pain": 6}),
            ("week-4", 1, {"pain": 5}),
            ("week-8", 2, {"pain": 3}),
        ],
    ),
    (
        "Sam Rivera",
        "dilator-confidence",
        4,
        None,
        [
            ("baseline", 0, dict(zip(_CONFIDENCE, (1, 1, 2, 2, 1), strict=True))),
            ("week-4", 2, dict(zip(_CONFIDENCE, (2, 2, 2, 3, 2), strict=True))),
            ("week-8", 1, dict(zip(_CONFIDENCE, (3, 3, 3, 3, None), strict=True))),
        ],
    ),
    ("Avery Quinn", "pgic", None, 12, [("once", 1, {"change": 2})]),
    ("Avery Quinn", "pain-nrs", None, 0, []),  # waiting on the patient's Today page
]


def seed_measures() -> None:
    """Outcome measures for two demo patients, assigned and answered through the services
    clinicians and patients use, so every score is computed as on submission. A measure
    the patient already has (seeded elsewhere) is left as it is."""
    for name, key, every_weeks, days_ago, answered in MEASURES:
        patient = db.session.scalars(select(Patient).where(Patient.full_name == name)).one()
        clinician = _present(patient.responsible_clinician, f"clinician of {patient.full_name}")
        zone = ZoneInfo(patient.clinic.timezone)
        today = clinic_today(patient.clinic.timezone)
        day: date | None
        if days_ago is not None:
            day = today - timedelta(days=days_ago)
            cadence, first = Cadence.ONCE, day
        else:
            started = program_dates(patient.clinic_id, [patient.id])[patient.id].started_on
            first = _present(started, f"program start of {name}")
            cadence, day = Cadence.REPEATING, None
        try:
            assignment = assign(
                patient,
                key,
                cadence,
                by=clinician,
                on=day,
                every_weeks=every_weeks,
                today=first,
            )
        except Refusal:
            continue
        for occasion, late, answers in answered:
            weeks = int(occasion.removeprefix("week-")) if occasion.startswith("week-") else 0
            on = first + timedelta(weeks=weeks, days=late)
            response = start_or_resume(patient, assignment, occasion, today=on)
            submit(response, answers, now=datetime.combine(on, time(18, 30), zone))
