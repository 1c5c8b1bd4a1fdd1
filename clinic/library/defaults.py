"""The dilator catalogue and protocol templates every new clinic starts with.

Defaults, not rules: clinics edit all of it. The figures come from the clinical reference
(shared guides, clinical-content.md): graduated vaginal sets of 6-8 sizes from about 13 to
38 mm; vaginoplasty sets of about 25-40 mm; anal sets of about 5 sizes; minimum time per
size of 10-21 days (Meltzer), about 2 weeks (Martimedic) or 3-4 weeks (RRM Academy); stay
on a size while discomfort is below about 3-4/10; pain of 7/10 or more, bleeding beyond
spotting and sharp pain are red flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clinic.domain.indications import Indication
from clinic.domain.protocols import (
    DEFAULT_LAST_N_SESSIONS,
    DEFAULT_MIN_ADHERENCE_PCT,
    DEFAULT_PAIN_CEILING,
    DEFAULT_RED_FLAG_PAIN,
    IntendedUse,
    Period,
    Route,
)
from clinic.extensions import db
from clinic.models import Clinic, DilatorSet, DilatorSize, ProtocolTemplate, TemplateStage

VAGINAL_SET = "Graduated vaginal set"
VAGINOPLASTY_SET = "Post-vaginoplasty set"
ANAL_SET = "Anal dilator set"

# name -> (material, intended use, notes, [(label, diameter mm, insertable length mm)])
CATALOGUE: dict[str, tuple[str, IntendedUse, str, list[tuple[str, float, int]]]] = {
    VAGINAL_SET: (
        "Medical-grade silicone",
        IntendedUse.VAGINAL,
        "Seven sizes in steps of about 4 mm.",
        [
            ("Size 1", 13, 90),
            ("Size 2", 17, 100),
            ("Size 3", 21, 110),
            ("Size 4", 25, 120),
            ("Size 5", 29, 130),
            ("Size 6", 33, 135),
            ("Size 7", 38, 140),
        ],
    ),
    VAGINOPLASTY_SET: (
        "Rigid medical-grade plastic",
        IntendedUse.VAGINAL,
        "Depth markings in centimetres along the shaft; record depth as measured in clinic.",
        [
            ("25 mm", 25, 190),
            ("27.5 mm", 27.5, 190),
            ("30 mm", 30, 190),
            ("32.5 mm", 32.5, 190),
            ("35 mm", 35, 190),
            ("40 mm", 40, 190),
        ],
    ),
    ANAL_SET: (
        "Silicone with a flared base",
        IntendedUse.ANAL,
        "Every size has a flared base: only devices with a flared base are used anally.",
        [
            ("Anal 1", 10, 70),
            ("Anal 2", 14, 80),
            ("Anal 3", 18, 90),
            ("Anal 4", 22, 100),
            ("Anal 5", 26, 110),
        ],
    ),
}

# Technique notes that recur in the clinical sources, in plain words for patients.
LUBRICANT = "Use plenty of lubricant (water-based, or silicone-based if you are sensitive)."
BREATHING = (
    "Lie comfortably, breathe slowly and insert on an out-breath as the muscles relax. "
    "Hold steady, gentle pressure; never force."
)
WARM_UP = "When you start a new size, warm up for a few minutes with the previous size."
MOVEMENT = "Once insertion is easy, add gentle in-and-out or rotating movements."
STOP_SIGNAL = "Stretching or pressure is expected. Stop if you feel sharp or sudden pain."
FLARED_BASE = "Only use a dilator with a flared base."
SPOTTING = (
    "A little spotting can happen. Contact the clinic if bleeding lasts more than a few "
    "minutes, is dark red or comes with pain."
)


@dataclass(frozen=True)
class StageDefault:
    """A default template's stage: a `StagePrescription` naming its size by label, since
    the clinic's sizes do not exist yet."""

    size_label: str
    minutes: int
    sessions: int
    period: Period
    min_days: int
    notes: str
    is_maintenance: bool = False
    pain_ceiling: int = DEFAULT_PAIN_CEILING
    last_n_sessions: int = DEFAULT_LAST_N_SESSIONS
    min_adherence_pct: int = DEFAULT_MIN_ADHERENCE_PCT
    red_flag_pain: int = DEFAULT_RED_FLAG_PAIN


@dataclass(frozen=True)
class TemplateDefault:
    name: str
    indication: Indication
    route: Route
    dilator_set: str
    description: str
    stages: list[StageDefault] = field(default_factory=list)


def _graded(
    labels: list[str],
    minutes: int,
    sessions: int,
    period: Period,
    days: int,
    first_notes: str,
    later_notes: str,
) -> list[StageDefault]:
    return [
        StageDefault(label, minutes, sessions, period, days, first_notes if i == 0 else later_notes)
        for i, label in enumerate(labels)
    ]


TEMPLATES: list[TemplateDefault] = [
    TemplateDefault(
        "Vaginismus: graded exposure",
        Indication.VAGINISMUS,
        Route.VAGINAL,
        VAGINAL_SET,
        "Graded exposure through seven sizes, daily, about two weeks per size. Start size "
        "by severity (Lamont grade).",
        _graded(
            [f"Size {n}" for n in range(1, 8)],
            10,
            1,
            Period.DAY,
            14,
            f"{LUBRICANT} {BREATHING} {STOP_SIGNAL}",
            f"{WARM_UP} {LUBRICANT} {BREATHING} {MOVEMENT} {STOP_SIGNAL}",
        ),
    ),
    TemplateDefault(
        "Dyspareunia / vulvodynia: graded desensitisation",
        Indication.DYSPAREUNIA,
        Route.VAGINAL,
        VAGINAL_SET,
        "Graded desensitisation from size 2, five sessions a week, two weeks per size.",
        _graded(
            [f"Size {n}" for n in range(2, 7)],
            10,
            5,
            Period.WEEK,
            14,
            f"{LUBRICANT} {BREATHING} {STOP_SIGNAL}",
            f"{WARM_UP} {LUBRICANT} {BREATHING} {MOVEMENT} {STOP_SIGNAL}",
        ),
    ),
    TemplateDefault(
        "After pelvic radiotherapy: stenosis prevention",
        Indication.PELVIC_RADIOTHERAPY,
        Route.VAGINAL,
        VAGINAL_SET,
        "Start 2-8 weeks after treatment, from about 3 minutes twice a week up to about 10 "
        "minutes a day, and continue for 1-2 years.",
        [
            StageDefault("Size 3", 3, 2, Period.WEEK, 14, f"{LUBRICANT} {BREATHING} {SPOTTING}"),
            StageDefault("Size 3", 5, 3, Period.WEEK, 14, f"{LUBRICANT} {BREATHING} {SPOTTING}"),
            StageDefault(
                "Size 4", 10, 1, Period.DAY, 28, f"{WARM_UP} {LUBRICANT} {MOVEMENT} {SPOTTING}"
            ),
            StageDefault(
                "Size 4",
                10,
                3,
                Period.WEEK,
                0,
                f"{LUBRICANT} {MOVEMENT} {SPOTTING} Keep going for 1-2 years.",
                is_maintenance=True,
            ),
        ],
    ),
    TemplateDefault(
        "After vaginoplasty: intensive then maintenance",
        Indication.VAGINOPLASTY,
        Route.VAGINAL,
        VAGINOPLASTY_SET,
        "Three times a day for the first three months while sizes go up every 2-3 weeks, "
        "then daily to six months, then two to three times a week for life. Depth matters as "
        "much as diameter: insert to the depth measured in clinic each time.",
        [
            StageDefault(
                "25 mm",
                10,
                3,
                Period.DAY,
                14,
                f"{LUBRICANT} {BREATHING} Insert to your measured depth. {SPOTTING}",
            ),
            StageDefault(
                "27.5 mm",
                10,
                3,
                Period.DAY,
                21,
                f"{WARM_UP} {LUBRICANT} Insert to your measured depth. {SPOTTING}",
            ),
            StageDefault(
                "30 mm",
                10,
                3,
                Period.DAY,
                21,
                f"{WARM_UP} {LUBRICANT} Insert to your measured depth. {SPOTTING}",
            ),
            StageDefault(
                "32.5 mm",
                10,
                3,
                Period.DAY,
                28,
                f"{WARM_UP} {LUBRICANT} Insert to your measured depth. {SPOTTING}",
            ),
            StageDefault(
                "32.5 mm",
                10,
                1,
                Period.DAY,
                90,
                f"{LUBRICANT} Insert to your measured depth. {STOP_SIGNAL}",
            ),
            StageDefault(
                "32.5 mm",
                10,
                3,
                Period.WEEK,
                0,
                f"{LUBRICANT} Insert to your measured depth. This is lifelong care: "
                "if you miss sessions, tell the clinic rather than going up a size.",
                is_maintenance=True,
            ),
        ],
    ),
    TemplateDefault(
        "Anal stenosis / after haemorrhoidectomy",
        Indication.ANAL_STENOSIS,
        Route.ANAL,
        ANAL_SET,
        "Self-dilation directed by the surgeon, usually from about the third week after "
        "surgery, daily, two weeks per size.",
        _graded(
            ["Anal 2", "Anal 3", "Anal 4", "Anal 5"],
            5,
            1,
            Period.DAY,
            14,
            f"{FLARED_BASE} {LUBRICANT} {BREATHING} {STOP_SIGNAL}",
            f"{FLARED_BASE} {WARM_UP} {LUBRICANT} {BREATHING} {STOP_SIGNAL}",
        ),
    ),
    TemplateDefault(
        "Levator ani syndrome / chronic pelvic pain: relaxation",
        Indication.LEVATOR_ANI,
        Route.ANAL,
        ANAL_SET,
        "Alongside trigger-point work: slow dilation for muscle relaxation, three times a "
        "week, three weeks per size. Suitable for patients of any gender.",
        _graded(
            ["Anal 1", "Anal 2", "Anal 3", "Anal 4"],
            10,
            3,
            Period.WEEK,
            21,
            f"{FLARED_BASE} {LUBRICANT} {BREATHING} Let the pelvic floor drop and relax "
            f"with each breath. {STOP_SIGNAL}",
            f"{FLARED_BASE} {WARM_UP} {LUBRICANT} {BREATHING} {STOP_SIGNAL}",
        ),
    ),
]


def seed_clinic_library(clinic: Clinic) -> None:
    """Give a new clinic the default catalogue and templates (the caller commits)."""
    if clinic.id is None:
        db.session.flush()  # the clinic needs its id before rows can point at it
    sizes: dict[tuple[str, str], DilatorSize] = {}
    for name, (material, use, notes, rows) in CATALOGUE.items():
        dilator_set = DilatorSet(
            clinic_id=clinic.id, name=name, material=material, intended_use=use, notes=notes
        )
        db.session.add(dilator_set)
        for label, diameter, length in rows:
            size = DilatorSize(
                dilator_set=dilator_set,
                label=label,
                diameter_mm=diameter,
                insertable_length_mm=length,
            )
            db.session.add(size)
            sizes[(name, label)] = size
    for template in TEMPLATES:
        db.session.add(
            ProtocolTemplate(
                clinic_id=clinic.id,
                name=template.name,
                indication=template.indication,
                route=template.route,
                description=template.description,
                stages=[
                    TemplateStage(
                        position=n,
                        dilator_size=sizes[(template.dilator_set, stage.size_label)],
                        minutes=stage.minutes,
                        sessions=stage.sessions,
                        period=stage.period,
                        min_days=stage.min_days,
                        is_maintenance=stage.is_maintenance,
                        technique_notes=stage.notes,
                        pain_ceiling=stage.pain_ceiling,
                        last_n_sessions=stage.last_n_sessions,
                        min_adherence_pct=stage.min_adherence_pct,
                        red_flag_pain=stage.red_flag_pain,
                    )
                    for n, stage in enumerate(template.stages, start=1)
                ],
            )
        )
    db.session.flush()
