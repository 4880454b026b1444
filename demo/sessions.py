"""What the demo's sessions put on record: the SOAP note of each visit, the exercise log of
an NMPT session, the answers of an Oswestry Disability Index questionnaire.

Notes speak the clinic's pathway: an assessment of posture and the anterior/posterior chain,
SMM of the lower back, hips and deep hip rotators, NMPT with squats, hinges, hip thrusts,
sprints and stretches whose loads climb session by session (early hinges guarded), and
maintenance visits. Every choice comes from the story's own `random.Random`.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from treatments.models import Phase

from . import data
from .stories import Story, Visit

_EASES = ("walking", "a hot shower", "lying on my back with knees bent", "gentle stretching")
_AGGRAVATES = ("sitting", "bending forward", "long drives", "running downhill", "getting up")
_SMM_REGIONS = (
    "lower_back",
    "hips",
    "buttock",
    "piriformis",
    "gemelli",
    "obturators",
    "quadratus_femoris",
    "hip_flexors",
    "adductors",
)
_REGION_WORDS = {
    "lower_back": "lower back",
    "hips": "hips",
    "buttock": "buttock",
    "piriformis": "piriformis",
    "gemelli": "gemelli",
    "obturators": "obturators",
    "quadratus_femoris": "quadratus femoris",
    "hip_flexors": "hip flexors",
    "hamstrings": "hamstrings",
    "adductors": "adductors",
}
_BETTER = (
    "Less stiffness in the mornings since the last session.",
    "Buttock pain eased for three or four days after the last session.",
    "Slept through the night most nights this week.",
    "Managed a full day at the desk with only mild ache.",
    "Walked the dog for an hour without pain.",
)
_WORSE = (
    "Flare-up after moving house at the weekend.",
    "Sore again after a long drive to the country.",
    "Aggravated it gardening on Sunday.",
)


def note_of(story: Story, visit: Visit, pain: int, nmpt_done: int) -> dict[str, Any]:
    """What the practitioner wrote up for the visit (`treatments.services.NOTE_FIELDS`),
    `nmpt_done` NMPT sessions into the patient's course, with the patient reporting `pain`."""
    rng = story.rng
    side = story.side
    base_locations = ["lower_back"] if pain < 3 else ["lower_back", f"buttock_{side}"]
    if story.sciatica and pain >= 4:
        base_locations.append(f"leg_{side}")
    note: dict[str, Any] = {
        "pain_score": pain,
        "pain_locations": base_locations if pain else [],
    }
    mood = rng.choice(_WORSE) if pain > story.pain_on(visit.day) + 1.2 else rng.choice(_BETTER)
    if visit.key == data.ASSESSMENT:
        findings = [
            "anterior_pelvic_tilt",
            "tight_hip_flexors",
            *rng.sample(
                [
                    "hyperlordosis",
                    "hips_internally_rotated",
                    "tight_quadriceps",
                    "weak_glutes",
                    "weak_hamstrings",
                    rng.choice(["shoulder_higher_left", "shoulder_higher_right"]),
                ],
                rng.randint(2, 4),
            ),
        ]
        note["subjective"] = (
            f"Pain {pain}/10 in the lower back{' and ' + side + ' leg' if story.sciatica else ''}"
            f", worse with {rng.choice(_AGGRAVATES)}, eased by {rng.choice(_EASES)}."
        )
        note["posture_findings"] = findings
        note["regions_treated"] = [] if story.red_flags else ["lower_back", "hip_flexors"]
        slr = (
            f"SLR positive on the {side} at {rng.randint(45, 65)}°, slump reproduces buttock pain."
            if story.sciatica
            else "SLR negative both sides."
        )
        note["objective"] = (
            "Standing: pelvis tipped forward with increased lumbar curve. Thomas test: tight hip "
            f"flexors and quadriceps. Bridge: glute max weak, {side} more than the other. {slr}"
            + ("" if story.red_flags else " Brief SMM to the lower back and hip flexors.")
        )
        flags = (
            " Red flags reported at intake: GP review before hands-on treatment."
            if story.red_flags
            else " No red flags on screening."
        )
        note["assessment"] = (
            "Pain driven by a tight anterior chain and weak posterior chain"
            + (", with piriformis irritation of the sciatic nerve" if story.sciatica else "")
            + "."
            + flags
        )
        note["plan"] = (
            "Release phase: SMM to the lower back, hips and deep hip rotators weekly, then NMPT "
            "twice a week. Baseline ODI recorded."
        )
    elif visit.key == data.SCIATICA_CONSULT:
        early = Phase.RELEASE not in story.phase_starts or visit.day <= story.phase_starts.get(
            Phase.RELEASE, visit.day
        )
        note["subjective"] = f"Leg symptoms {'unchanged' if early else 'settling'}; pain {pain}/10."
        note["posture_findings"] = ["anterior_pelvic_tilt"]
        note["regions_treated"] = ["piriformis", "buttock"]
        note["objective"] = (
            "Neuro screen: power 5/5 L2-S1, reflexes symmetrical, sensation intact. "
            f"{side.capitalize()} piriformis tender, reproduces the leg pain."
        )
        note["assessment"] = (
            "Peripheral sciatic irritation at the piriformis; no sign of nerve root compromise."
            if early
            else "Leg symptoms settled; fit to start loading."
        )
        note["plan"] = "Continue SMM; review before NMPT." if early else "Clear to start NMPT."
    elif visit.key == data.NMPT_SESSION:
        note["subjective"] = f"Pain {pain}/10 before the session. {mood}"
        note["objective"] = (
            "Supervised NMPT in the gym: squat pattern, hip hinge, hip thrust"
            + (", sprint work" if nmpt_done >= 2 else "")
            + ", stretches for the hip flexors and adductors."
        )
        note["posture_findings"] = ["weak_glutes"] if nmpt_done < 4 else []
        guarded = nmpt_done < 3
        note["assessment"] = (
            "Still guarding on the hinge: kept the load, worked on range."
            if guarded
            else "Strength improving; moving well under load."
        )
        note["plan"] = "Progress squat and deadlift by 2.5-5 kg next session."
    elif visit.key == data.MAINTENANCE:
        note["subjective"] = f"Pain-free most days ({pain}/10 today). {rng.choice(_BETTER)}"
        note["regions_treated"] = ["lower_back", "hips", "piriformis"]
        note["objective"] = (
            "Maintenance SMM: lower back, hips and deep hip rotators. Pelvis near neutral."
        )
        note["assessment"] = "Maintaining well."
        note["plan"] = "Next maintenance visit as planned; keep up the home stretches."
    else:  # a myotherapy session (SMM)
        regions = rng.sample(_SMM_REGIONS, rng.randint(3, 5))
        note["subjective"] = f"Pain {pain}/10. {mood}"
        note["regions_treated"] = regions
        note["posture_findings"] = rng.sample(
            ["anterior_pelvic_tilt", "tight_hip_flexors", "hips_internally_rotated"],
            1 if pain < 4 else 2,
        )
        words = ", ".join(_REGION_WORDS[r] for r in regions)
        note["objective"] = (
            f"SMM to the {words}. Marked tension in the {side} "
            f"{rng.choice(['piriformis', 'gemelli', 'hip flexors'])}, released well."
        )
        note["assessment"] = rng.choice(
            (
                "Responding well; hip internal rotation improving.",
                "Tissue tension reducing session to session.",
                "Less guarding on hip flexion; pelvis sitting more level.",
            )
        )
        note["plan"] = rng.choice(
            (
                "SMM next week; home hip flexor stretch daily.",
                "One more release session, then NMPT.",
            )
        )
    return note


def exercise_log(story: Story, session: int, pain: int) -> list[dict]:
    """An NMPT session: warm-up stretch, squat, hinge, hip thrust, sprints (from the third
    session), a closing stretch. Loads climb session by session; early hinges are guarded."""
    rng = story.rng
    guarded_hinge = rng.random() < (0.6 if session < 2 else 0.3 if session < 5 else 0.05)
    squat_kg = Decimal(20 + 5 * session + rng.choice((0, 2.5, 5))).quantize(Decimal("0.5"))
    hinge_kg = Decimal(30 + 5 * session + rng.choice((0, 5))).quantize(Decimal("0.5"))
    if guarded_hinge:
        hinge_kg = max(Decimal(20), hinge_kg - 15)
    log = [
        {
            "exercise": "Couch stretch (hip flexors)",
            "sets": 2,
            "reps": 1,
            "load_kg": None,
            "effort": 3,
            "guarded": False,
            "comment": "45 s each side",
        },
        {
            "exercise": "Goblet squat" if session < 2 else "Back squat",
            "sets": 3,
            "reps": 10 if session < 2 else 8,
            "load_kg": Decimal(12 + 4 * session) if session < 2 else squat_kg,
            "effort": rng.randint(5, 7),
            "guarded": False,
            "comment": "" if session else "Taught the pattern: knees out, brace",
        },
        {
            "exercise": "Romanian deadlift" if session < 4 else "Trap-bar deadlift",
            "sets": 3,
            "reps": 8 if session < 4 else 6,
            "load_kg": hinge_kg,
            "effort": rng.randint(5, 8),
            "guarded": guarded_hinge,
            "comment": rng.choice(
                (
                    "Stopped short of full hinge: afraid of the old pain",
                    "Would not go heavier today; kept the load and worked on range",
                )
            )
            if guarded_hinge
            else "",
        },
        {
            "exercise": "Barbell hip thrust",
            "sets": 3,
            "reps": 10,
            "load_kg": Decimal(40 + 7.5 * session).quantize(Decimal("0.5")),
            "effort": rng.randint(6, 8),
            "guarded": False,
            "comment": "",
        },
    ]
    if session >= 2:
        log.append(
            {
                "exercise": "Sprint 20 m" if session >= 4 else "Build-up run 40 m",
                "sets": 6 if session >= 4 else 4,
                "reps": 1,
                "load_kg": None,
                "effort": rng.randint(7, 9) if session >= 4 else 6,
                "guarded": pain >= 5 and rng.random() < 0.5,
                "comment": "Walk-back recovery" if session >= 4 else "About 70% pace",
            }
        )
    log.append(
        {
            "exercise": "Adductor and hamstring stretch",
            "sets": 2,
            "reps": 1,
            "load_kg": None,
            "effort": 2,
            "guarded": False,
            "comment": "60 s each",
        }
    )
    return log


def odi_answers(rng: random.Random, percent: float, *, skip_sex_life: bool) -> list[int | None]:
    """Ten section scores (0-5) whose index is close to `percent`: pain, lifting, sitting
    and travelling carry more of it, as they do for back pain."""
    weights = [1.4, 0.6, 1.4, 0.8, 1.3, 1.0, 1.0, 0.8, 0.9, 1.2]
    sections = [i for i in range(10) if not (skip_sex_life and i == 7)]
    total = round(percent / 100 * 5 * len(sections))
    answers: list[int | None] = [None] * 10
    for i in sections:
        answers[i] = 0
    for _ in range(total):
        open_ = [i for i in sections if answers[i] < 5]
        if not open_:
            break
        i = rng.choices(open_, [weights[j] for j in open_])[0]
        answers[i] += 1
    return answers
