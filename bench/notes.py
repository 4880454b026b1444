"""The large clinic's clinical records: a signed SOAP note for each of the latest completed
sessions, by its practitioner, with an NMPT session's exercise log; each note's pain score
in the patient's outcome series and an Oswestry Disability Index at the patient's first
noted session, then about every four weeks.

Each patient follows a course of their own (from a `random.Random` seeded with their id):
pain and disability settle from where they started towards near nothing, the loads of the
exercise log climb session by session, so the notes read and weigh like a clinic's.

Written by COPY: tens of thousands of notes through `treatments.services` would take many
minutes, and the services stamp today on what they write. The rows are what the services
leave: notes COPYed as drafts, then their exercise logs, then one UPDATE signs them all
(the database refuses any change to a signed note's log), and a signed note's pain score
joins the outcome series, as signing does. Import after `django.setup()`.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, models

from appointments.models import Appointment, Status
from bench.busy_clinic import MELBOURNE, SEED, copy_rows
from bench.fixtures import ASSESSMENT, MAINTENANCE, NMPT_SESSION, SCIATICA_CONSULT, ensure_services
from treatments.models import (
    ExerciseEntry,
    MeasureKind,
    OutcomeMeasure,
    TreatmentNote,
    odi_percent,
)

# A note is signed this long after its session at most.
SIGNED_WITHIN_MINUTES = 180
ODI_EVERY_DAYS = 28
# How much each ODI section weighs in back pain: pain, lifting, sitting, travelling most.
ODI_WEIGHTS = (1.4, 0.6, 1.4, 0.8, 1.3, 1.0, 1.0, 0.8, 0.9, 1.2)
SEX_LIFE = 7  # the ODI section some patients leave unanswered
SMM_REGIONS = ("lower_back", "hips", "buttock", "piriformis", "gemelli", "hip_flexors")


@dataclass
class Course:
    """One patient's course: how bad it was, how fast it settles."""

    rng: random.Random
    first_day: date
    side: str
    sciatica: bool
    pain: tuple[float, float]  # at the start, once settled
    odi: tuple[float, float]
    days_to_settle: float
    skips_sex_life: bool

    @classmethod
    def of(cls, patient_id: int, first_day: date, sciatica: bool) -> Course:
        rng = random.Random(f"{SEED}:notes:{patient_id}")
        return cls(
            rng=rng,
            first_day=first_day,
            side=rng.choice(("left", "right")),
            sciatica=sciatica,
            pain=(rng.uniform(4.5, 8.5), rng.uniform(0, 2)),
            odi=(rng.uniform(24, 60), rng.uniform(4, 12)),
            days_to_settle=rng.uniform(28, 55),
            skips_sex_life=rng.random() < 0.2,
        )

    def settled(self, span: tuple[float, float], day: date, pace: float = 1.0) -> float:
        start, end = span
        return end + (start - end) * math.exp(
            -(day - self.first_day).days / (self.days_to_settle * pace)
        )

    def pain_on(self, day: date) -> int:
        return max(0, min(10, round(self.settled(self.pain, day) + self.rng.gauss(0, 0.6))))

    def odi_answers(self, day: date) -> list[int | None]:
        """Ten section scores (0-5) whose index is close to the course's ODI on `day`."""
        percent = max(0.0, self.settled(self.odi, day, pace=1.2) + self.rng.gauss(0, 2.5))
        sections = [i for i in range(10) if not (self.skips_sex_life and i == SEX_LIFE)]
        answers: list[int | None] = [0 if i in sections else None for i in range(10)]
        for _ in range(round(percent / 100 * 5 * len(sections))):
            open_ = [i for i in sections if answers[i] < 5]
            if not open_:
                break
            answers[self.rng.choices(open_, [ODI_WEIGHTS[i] for i in open_])[0]] += 1
        return answers


def note_text(course: Course, key: str, pain: int, nmpt_done: int) -> dict[str, Any]:
    """The SOAP fields of a session of service `key`."""
    rng, side = course.rng, course.side
    if key in (ASSESSMENT, SCIATICA_CONSULT):
        leg = f" and {side} leg" if course.sciatica else ""
        return {
            "subjective": f"Pain {pain}/10 in the lower back{leg}, worse sitting and bending.",
            "posture_findings": ["anterior_pelvic_tilt", "tight_hip_flexors", "weak_glutes"],
            "regions_treated": ["lower_back", "hip_flexors"],
            "objective": "Pelvis tipped forward, lumbar curve increased; Thomas test tight "
            f"both sides; glute max weak, {side} more. SLR "
            + (f"positive on the {side} at {rng.randint(45, 65)} degrees." if leg else "clear."),
            "assessment": "Tight anterior chain over a weak posterior chain"
            + (", irritating the sciatic nerve at the piriformis." if leg else "."),
            "plan": "Release with SMM weekly, then NMPT twice a week. Baseline ODI taken.",
        }
    if key == NMPT_SESSION:
        return {
            "subjective": f"Pain {pain}/10 before the session.",
            "posture_findings": ["weak_glutes"] if nmpt_done < 4 else [],
            "regions_treated": [],
            "objective": "Supervised NMPT: squat, hinge and hip thrust"
            + (", sprints" if nmpt_done >= 2 else "")
            + ", then stretches for the hip flexors and adductors.",
            "assessment": "Guarding on the hinge; load kept, range worked on."
            if nmpt_done < 3
            else "Stronger, moving well under load.",
            "plan": "Add 2.5 to 5 kg to the squat and the deadlift next session.",
        }
    regions = ["lower_back", "hips", "piriformis"]
    if key != MAINTENANCE:
        regions = rng.sample(SMM_REGIONS, rng.randint(3, 5))
    return {
        "subjective": f"Pain {pain}/10, " + rng.choice(("better since last time.", "a bit sore.")),
        "posture_findings": [] if key == MAINTENANCE else ["hips_internally_rotated"],
        "regions_treated": regions,
        "objective": f"SMM to the {', '.join(r.replace('_', ' ') for r in regions)}; the "
        f"{side} {rng.choice(('piriformis', 'gemelli', 'hip flexors'))} tight, released well.",
        "assessment": rng.choice(("Responding well.", "Tension easing from week to week.")),
        "plan": rng.choice(("SMM next week; hip flexor stretch daily.", "Next visit as planned.")),
    }


def exercise_log(course: Course, session: int, pain: int) -> list[dict[str, Any]]:
    """An NMPT session: a stretch, squat, hinge, hip thrust, sprints from the third session,
    a closing stretch; the loads climb session by session and early hinges are guarded."""
    rng = course.rng
    guarded = rng.random() < (0.6 if session < 2 else 0.3 if session < 5 else 0.05)
    hinge_kg = Decimal(30 + 5 * session + rng.choice((0, 5)) - (15 if guarded else 0))

    def entry(exercise: str, sets: int, reps: int, kg: float | Decimal | None, effort: int):
        load = None if kg is None else Decimal(kg).quantize(Decimal("0.5"))
        return {"exercise": exercise, "sets": sets, "reps": reps, "load_kg": load,
                "effort": effort, "guarded": False, "comment": ""}  # fmt: skip

    log = [
        entry("Couch stretch (hip flexors)", 2, 1, None, 3),
        entry("Back squat", 3, 8, 20 + 5 * session + rng.choice((0, 2.5, 5)), rng.randint(5, 7)),
        entry("Romanian deadlift", 3, 8, max(Decimal(20), hinge_kg), rng.randint(5, 8)),
        entry("Barbell hip thrust", 3, 10, 40 + 7.5 * session, rng.randint(6, 8)),
    ]
    log[2].update(guarded=guarded, comment="Stopped short of a full hinge" if guarded else "")
    if session >= 2:
        log.append(entry("Sprint 20 m", 6, 1, None, rng.randint(7, 9)))
        log[-1]["guarded"] = pain >= 5 and rng.random() < 0.5
    log.append(entry("Adductor and hamstring stretch", 2, 1, None, 2))
    return log


def seed_notes(count: int) -> dict[str, int]:
    """Signed notes for the `count` latest completed sessions, with exercise logs and
    outcome measures; return how many of each were written."""
    key_of = {service.pk: key for key, service in ensure_services().items()}
    latest = list(
        Appointment.objects.filter(status=Status.COMPLETED)
        .select_related("practitioner")
        .order_by("-start", "-pk")[:count]
    )
    sessions: dict[int, list[tuple[Appointment, str, date]]] = defaultdict(list)
    for appointment in reversed(latest):
        day = appointment.start.astimezone(MELBOURNE).date()
        sessions[appointment.patient_id].append((appointment, key_of[appointment.service_id], day))

    notes: list[dict[str, Any]] = []
    logs: dict[int, list[dict[str, Any]]] = {}  # by appointment
    measures: list[OutcomeMeasure] = []
    for patient_id in sorted(sessions):
        visits = sessions[patient_id]
        sciatica = any(key == SCIATICA_CONSULT for _, key, _ in visits)
        course = Course.of(patient_id, visits[0][2], sciatica)
        nmpt_done = 0
        next_odi = course.first_day
        for appointment, key, day in visits:
            pain = course.pain_on(day)
            locations = ["lower_back"] if pain < 3 else ["lower_back", f"buttock_{course.side}"]
            signed = appointment.end + timedelta(
                minutes=course.rng.randint(5, SIGNED_WITHIN_MINUTES)
            )
            note = TreatmentNote(
                appointment=appointment,
                patient_id=patient_id,
                author=appointment.practitioner,
                pain_score=pain,
                pain_locations=locations if pain else [],
                created_at=appointment.end,
                updated_at=signed,
                **note_text(course, key, pain, nmpt_done),
            )
            notes.append(columns(note))
            if key == NMPT_SESSION:
                logs[appointment.pk] = exercise_log(course, nmpt_done, pain)
                nmpt_done += 1
            recorded = {
                "patient_id": patient_id,
                "recorded_at": appointment.start,
                "recorded_by_id": appointment.practitioner.user_id,
                "appointment": appointment,
            }
            measures.append(OutcomeMeasure(kind=MeasureKind.PAIN, value=Decimal(pain), **recorded))
            if day >= next_odi:
                answers = course.odi_answers(day)
                measures.append(
                    OutcomeMeasure(
                        kind=MeasureKind.ODI,
                        value=odi_percent(answers),
                        odi_answers=answers,
                        **recorded,
                    )
                )
                next_odi = day + timedelta(days=ODI_EVERY_DAYS)

    copy_rows(TreatmentNote, notes)
    note_of = dict(TreatmentNote.objects.values_list("appointment_id", "pk"))
    entries = copy_rows(
        ExerciseEntry,
        (
            columns(ExerciseEntry(note_id=note_of[appointment_id], position=position, **entry))
            for appointment_id, log in logs.items()
            for position, entry in enumerate(log)
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE treatments_treatmentnote SET signed_at = updated_at WHERE signed_at IS NULL"
        )
    copy_rows(OutcomeMeasure, (columns(measure) for measure in measures))
    return {
        "treatment notes": len(notes),
        "exercise entries": entries,
        "outcome measures": len(measures),
    }


def columns(instance: models.Model) -> dict[str, Any]:
    """An unsaved instance as a row for `copy_rows`."""
    return {f.column: getattr(instance, f.attname) for f in instance._meta.concrete_fields}
