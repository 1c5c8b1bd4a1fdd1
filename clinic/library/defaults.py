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
from datetime import date

from clinic.domain.indications import Indication
from clinic.domain.progression import default_going_back
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
from clinic.letters.defaults import seed_letter_templates
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
        "Every size has a flared base, so none can slip fully inside.",
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
LUBRICANT = (
    "Use plenty of water-based lubricant (silicone-based lubricant damages silicone dilators)."
)
# Tissue after radiotherapy, in menopause or with vulvodynia is easily irritated.
GENTLE_LUBRICANT = (
    "Use plenty of a low-irritant, water-based lubricant (silicone-based lubricant damages "
    "silicone dilators)."
)
HYGIENE = (
    "Wash the dilator before and after each use. It is yours alone: never share it, and "
    "never move it from anal to vaginal use."
)
BREATHING = (
    "Lie comfortably, breathe slowly and insert on an out-breath as the muscles relax. "
    "Hold steady, gentle pressure; never force."
)
WARM_UP = "When you start a new size, warm up for a few minutes with the previous size."
MOVEMENT = "Once insertion is easy, add gentle in-and-out or rotating movements."
STOP_SIGNAL = "Stretching or pressure is expected. Stop if you feel sharp or sudden pain."
FLARED_BASE = "Use only the dilators you were given for anal use: each has a wide, flared base."
SPOTTING = (
    "A little spotting can happen. Contact the clinic if bleeding lasts more than a few "
    "minutes, is dark red or comes with pain."
)


# The target depth each default post-vaginoplasty stage starts with, until the clinic
# enters the depth measured after surgery (typical neovaginal depths are 10-15 cm; a
# lower figure never asks for more than the surgery made).
DEFAULT_NEOVAGINA_DEPTH_CM = 12.0

# Every default template is due for review a year after this library was written; clinics
# move the date when they check a template against current evidence.
REVIEW_ON = date(2027, 12, 1)


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
    target_depth_cm: float | None = None


@dataclass(frozen=True)
class TemplateDefault:
    name: str
    indication: Indication
    route: Route
    dilator_set: str
    description: str
    stages: list[StageDefault] = field(default_factory=list)
    sources: tuple[str, ...] = ()
    review_on: date = REVIEW_ON


# References as the clinical reference (shared guides, clinical-content.md) names them.
# A line ending "(locate before relying on it)" is one the reference mentions without full
# details: the clinic should find the paper before citing the template to others.
CLINICAL_REFERENCE = "Clinic dilator-programme clinical reference (shared guides), 2026"
MELTZER = "Meltzer: 15 minutes from day 6, 10-21 days per size, 4 sizes (post-vaginoplasty)"
MARTIMEDIC_RRM = "Martimedic (about 2 weeks per size); RRM Academy (3-4 weeks per size)"


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
            f"{LUBRICANT} {BREATHING} {STOP_SIGNAL} {HYGIENE}",
            f"{WARM_UP} {LUBRICANT} {BREATHING} {MOVEMENT} {STOP_SIGNAL}",
        ),
        (
            "Maseroli E et al. Outcome of medical and psychosexual interventions for "
            "vaginismus: a systematic review and meta-analysis. J Sex Med 2018",
            "ter Kuile MM et al. Therapist-aided exposure for women with lifelong vaginismus: "
            "a randomized waiting-list control trial. J Consult Clin Psychol 2013",
            MARTIMEDIC_RRM,
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
            f"{GENTLE_LUBRICANT} {BREATHING} {STOP_SIGNAL} {HYGIENE}",
            f"{WARM_UP} {GENTLE_LUBRICANT} {BREATHING} {MOVEMENT} {STOP_SIGNAL}",
        ),
        (CLINICAL_REFERENCE, MARTIMEDIC_RRM),
    ),
    TemplateDefault(
        "After pelvic radiotherapy: stenosis prevention",
        Indication.PELVIC_RADIOTHERAPY,
        Route.VAGINAL,
        VAGINAL_SET,
        "Starts with the smallest size, only once the clinic's interval after the end of "
        "radiotherapy has passed (the guideline range is 2-8 weeks; the date radiotherapy "
        "ended is asked for when the program starts). From about 3 minutes twice a week up "
        "to about 10 minutes a day. "
        f"{Indication.PELVIC_RADIOTHERAPY.maintenance_duration}",
        [
            StageDefault(
                "Size 1",
                3,
                2,
                Period.WEEK,
                14,
                f"{GENTLE_LUBRICANT} {BREATHING} {SPOTTING} {HYGIENE}",
            ),
            StageDefault(
                "Size 1", 5, 3, Period.WEEK, 14, f"{GENTLE_LUBRICANT} {BREATHING} {SPOTTING}"
            ),
            StageDefault(
                "Size 2",
                10,
                1,
                Period.DAY,
                28,
                f"{WARM_UP} {GENTLE_LUBRICANT} {MOVEMENT} {SPOTTING}",
            ),
            StageDefault(
                "Size 3",
                10,
                3,
                Period.WEEK,
                0,
                f"{WARM_UP} {GENTLE_LUBRICANT} {MOVEMENT} {SPOTTING}",
                is_maintenance=True,
            ),
        ],
        (
            "International guideline on vaginal dilation after pelvic radiotherapy (start 2-8 "
            "weeks after treatment; continue about 1-2 years)",
            "Miles T, Johnson N. Vaginal dilator therapy for women receiving pelvic "
            "radiotherapy. Cochrane Database Syst Rev 2014",
            "Leeds Teaching Hospitals and Royal Free London NHS patient leaflets on vaginal "
            "dilators after radiotherapy",
        ),
    ),
    TemplateDefault(
        "After vaginoplasty: intensive then maintenance",
        Indication.VAGINOPLASTY,
        Route.VAGINAL,
        VAGINOPLASTY_SET,
        "Directed by the surgical team (their name and the date of surgery are recorded when "
        "the program starts). Three times a day for the first three months while sizes go up "
        "every 2-3 weeks, then daily to six months, then two to three times a week. Depth "
        "matters as much as diameter: insert to the depth measured in clinic each time (each "
        f"stage's target depth of {DEFAULT_NEOVAGINA_DEPTH_CM:g} cm is a placeholder: set it to "
        "the depth the surgical team measured). "
        "Pain or difficulty is a reason to review with the surgical team, not to go down a "
        f"size. {Indication.VAGINOPLASTY.maintenance_duration}",
        [
            StageDefault(
                "25 mm",
                10,
                3,
                Period.DAY,
                14,
                f"{LUBRICANT} {BREATHING} Insert to your measured depth. {SPOTTING} {HYGIENE}",
                target_depth_cm=DEFAULT_NEOVAGINA_DEPTH_CM,
            ),
            StageDefault(
                "27.5 mm",
                10,
                3,
                Period.DAY,
                21,
                f"{WARM_UP} {LUBRICANT} Insert to your measured depth. {SPOTTING}",
                target_depth_cm=DEFAULT_NEOVAGINA_DEPTH_CM,
            ),
            StageDefault(
                "30 mm",
                10,
                3,
                Period.DAY,
                21,
                f"{WARM_UP} {LUBRICANT} Insert to your measured depth. {SPOTTING}",
                target_depth_cm=DEFAULT_NEOVAGINA_DEPTH_CM,
            ),
            StageDefault(
                "32.5 mm",
                10,
                3,
                Period.DAY,
                28,
                f"{WARM_UP} {LUBRICANT} Insert to your measured depth. {SPOTTING}",
                target_depth_cm=DEFAULT_NEOVAGINA_DEPTH_CM,
            ),
            StageDefault(
                "32.5 mm",
                10,
                1,
                Period.DAY,
                90,
                f"{LUBRICANT} Insert to your measured depth. {STOP_SIGNAL}",
                target_depth_cm=DEFAULT_NEOVAGINA_DEPTH_CM,
            ),
            StageDefault(
                "32.5 mm",
                10,
                3,
                Period.WEEK,
                0,
                f"{LUBRICANT} Insert to your measured depth. If you miss sessions or it gets "
                "harder, tell the clinic rather than changing size.",
                is_maintenance=True,
                target_depth_cm=DEFAULT_NEOVAGINA_DEPTH_CM,
            ),
        ],
        ("Brownstein & Crane: post-vaginoplasty dilation schedule", MELTZER, CLINICAL_REFERENCE),
    ),
    TemplateDefault(
        "Anal stenosis / after haemorrhoidectomy",
        Indication.ANAL_STENOSIS,
        Route.ANAL,
        ANAL_SET,
        "Self-dilation directed by the surgeon (their name and the date of surgery are "
        "recorded when the program starts), usually from about the third week after "
        "surgery, daily, two weeks per size. Needs a set with a flared base.",
        _graded(
            ["Anal 2", "Anal 3", "Anal 4", "Anal 5"],
            5,
            1,
            Period.DAY,
            14,
            f"{FLARED_BASE} {LUBRICANT} {BREATHING} {STOP_SIGNAL} {HYGIENE}",
            f"{FLARED_BASE} {WARM_UP} {LUBRICANT} {BREATHING} {STOP_SIGNAL}",
        ),
        (
            "Eberspacher et al. 2021: self-dilation for sphincter spasm after "
            "haemorrhoidectomy from about week 3 (locate before relying on it)",
            CLINICAL_REFERENCE,
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
            f"with each breath. {STOP_SIGNAL} {HYGIENE}",
            f"{FLARED_BASE} {WARM_UP} {LUBRICANT} {BREATHING} {STOP_SIGNAL}",
        ),
        (CLINICAL_REFERENCE, MARTIMEDIC_RRM),
    ),
    TemplateDefault(
        "Chronic prostatitis / CPPS: pelvic floor relaxation",
        Indication.CHRONIC_PELVIC_PAIN,
        Route.ANAL,
        ANAL_SET,
        "For men with chronic prostatitis / chronic pelvic pain syndrome (and anyone with "
        "the condition): slow anal dilation to help the pelvic floor let go, alongside "
        "trigger-point work and relaxation, three times a week, three weeks per size. "
        "Measure progress with the NIH-CPSI at the start and every few weeks. Needs a set "
        "with a flared base.",
        _graded(
            ["Anal 1", "Anal 2", "Anal 3", "Anal 4"],
            10,
            3,
            Period.WEEK,
            21,
            f"{FLARED_BASE} {LUBRICANT} Lie on your side with your knees bent, or on your "
            "back with a pillow under your knees. "
            f"{BREATHING} Let the muscles between your legs drop and soften with each "
            f"breath out. {STOP_SIGNAL} {HYGIENE}",
            f"{FLARED_BASE} {WARM_UP} {LUBRICANT} {BREATHING} {STOP_SIGNAL}",
        ),
        (
            "Litwin MS et al. The National Institutes of Health chronic prostatitis symptom "
            "index (NIH-CPSI). J Urol 1999",
            "A small study of an anal stretching device in men with CP/CPPS reported less pain "
            "without notable side effects (locate before relying on it)",
            CLINICAL_REFERENCE,
        ),
    ),
    TemplateDefault(
        "Vaginal agenesis / MRKH: first-line dilation",
        Indication.VAGINAL_AGENESIS,
        Route.VAGINAL,
        VAGINAL_SET,
        "Dilation is the first-line treatment, before any surgery, and is led by a "
        "specialist service. Often started in adolescence: record the young person's own "
        "consent (and, where needed, a parent's), agree with them how their privacy from "
        "family is kept (where dilators and notes are stored, who may see the portal), and "
        "follow the clinic's safeguarding procedure for any concern. Pressure is applied "
        "to the vaginal dimple, gently, daily; sizes go up slowly as length is gained.",
        _graded(
            [f"Size {n}" for n in range(1, 6)],
            15,
            1,
            Period.DAY,
            21,
            f"{LUBRICANT} Press the dilator gently against the dimple, aiming slightly back "
            f"towards your spine. {BREATHING} {STOP_SIGNAL} {HYGIENE} You can talk to the "
            "clinic in private about anything, at any time.",
            f"{WARM_UP} {LUBRICANT} Steady, gentle pressure for the whole session. {STOP_SIGNAL}",
        ),
        (
            "ACOG Committee Opinion No. 728: Mullerian agenesis: diagnosis, management, and "
            "treatment. Obstet Gynecol 2018 (dilation first-line)",
            CLINICAL_REFERENCE,
        ),
    ),
    TemplateDefault(
        "Genitourinary syndrome of menopause: gentle dilation",
        Indication.MENOPAUSE_GSM,
        Route.VAGINAL,
        VAGINAL_SET,
        "Gentle graded dilation alongside vaginal moisturisers or oestrogen as prescribed "
        "(including after aromatase inhibitors or on testosterone). Tissue is fragile: start "
        "small, go slowly, and expect spotting more often.",
        _graded(
            [f"Size {n}" for n in range(1, 5)],
            5,
            3,
            Period.WEEK,
            21,
            f"{GENTLE_LUBRICANT} Use your moisturiser or oestrogen as prescribed. "
            f"{BREATHING} {SPOTTING} {HYGIENE}",
            f"{WARM_UP} {GENTLE_LUBRICANT} {BREATHING} {SPOTTING}",
        ),
        (
            "The 2020 genitourinary syndrome of menopause position statement of The North "
            "American Menopause Society. Menopause 2020",
            CLINICAL_REFERENCE,
        ),
    ),
    TemplateDefault(
        "Post-partum perineal scarring: graded dilation",
        Indication.PERINEAL_SCARRING,
        Route.VAGINAL,
        VAGINAL_SET,
        "Graded dilation for a tight or painful perineal scar after childbirth, once the "
        "wound has healed and alongside the treating team's scar care. Three to five "
        "sessions a week, two to three weeks per size.",
        _graded(
            [f"Size {n}" for n in range(2, 6)],
            10,
            4,
            Period.WEEK,
            14,
            f"{LUBRICANT} {BREATHING} Aim the dilator gently towards your back, away from the "
            f"scar at first. {STOP_SIGNAL} {HYGIENE}",
            f"{WARM_UP} {LUBRICANT} {BREATHING} {MOVEMENT} {STOP_SIGNAL}",
        ),
        (
            "RCOG Green-top Guideline No. 29: management of third- and fourth-degree "
            "perineal tears, 2015",
            CLINICAL_REFERENCE,
        ),
    ),
    TemplateDefault(
        "Lichen sclerosus / planus narrowing: gentle dilation",
        Indication.LICHEN_SCLEROSUS,
        Route.VAGINAL,
        VAGINAL_SET,
        "Gentle graded dilation for narrowing from lichen sclerosus or lichen planus, "
        "alongside the skin treatment the treating team leads (keep using it as prescribed). "
        "Three sessions a week, three weeks per size.",
        _graded(
            [f"Size {n}" for n in range(1, 5)],
            10,
            3,
            Period.WEEK,
            21,
            f"{GENTLE_LUBRICANT} Keep using your prescribed skin treatment. {BREATHING} "
            f"{SPOTTING} {HYGIENE}",
            f"{WARM_UP} {GENTLE_LUBRICANT} {BREATHING} {SPOTTING}",
        ),
        (
            "Lewis FM et al. British Association of Dermatologists guidelines for the "
            "management of lichen sclerosus. Br J Dermatol 2018",
            CLINICAL_REFERENCE,
        ),
    ),
]


def seed_clinic_library(clinic: Clinic) -> None:
    """Give a new clinic the default catalogue, protocol templates and letter templates
    (the caller commits)."""
    if clinic.id is None:
        db.session.flush()  # the clinic needs its id before rows can point at it
    sizes: dict[tuple[str, str], DilatorSize] = {}
    for name, (material, use, notes, rows) in CATALOGUE.items():
        dilator_set = DilatorSet(
            clinic_id=clinic.id,
            name=name,
            material=material,
            intended_use=use,
            # The default anal set is one whose every size has a flared base.
            flared_base=use is IntendedUse.ANAL,
            notes=notes,
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
                sources="\n".join(template.sources),
                review_on=template.review_on,
                going_back=default_going_back(template.indication),
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
                        target_depth_cm=stage.target_depth_cm,
                    )
                    for n, stage in enumerate(template.stages, start=1)
                ],
            )
        )
    # And its letters' wording (clinic.letters), edited in the clinic's settings.
    seed_letter_templates(clinic)
    db.session.flush()
