"""The demo clinic's clinical records, written through `treatments.services` from the visits
the diary booked (`demo.stories`), each at the moment it would have been written:

- the intake questionnaire each patient filled in before their assessment, online a day or
  two before or at the desk an hour before; a few raise red flags, which the assessing
  practitioner cleared within days (seen by a GP) for most; two are still open;
- one treatment plan, started at the end of the assessment and moved on at the first
  attended visit of each later phase (assess, release, strengthen, maintain);
- a SOAP note for every attended session (`demo.sessions`), started and written at the end
  of the session and signed within hours, which puts its pain score in the outcome series;
  notes of the last day are still drafts; about one signed note in forty was amended later;
- an Oswestry Disability Index at the assessment and about every four weeks after (the
  plan schedules it so), and the STarT Back screening answered with the intake;
- for each patient in the maintenance phase, a home programme of three exercises from the
  clinic's library, prescribed when the plan entered maintenance, and the patient's logs of
  it since (the last eight weeks), each patient keeping it more or less well, so that the
  practitioner sees adherence beside the trend.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from patients.models import Patient
from practice.models import Practitioner
from treatments.models import (
    Exercise,
    ExerciseEntry,
    HomeExercise,
    HomeExerciseLog,
    Intake,
    MeasureKind,
    OutcomeMeasure,
    Phase,
    PlanStatus,
    TreatmentNote,
    TreatmentPlan,
)
from treatments.selectors import open_red_flags_by_patient
from treatments.services import (
    StartBackAnswers,
    add_addendum,
    clear_red_flags,
    create_plan,
    log_home_exercise,
    move_plan_to_phase,
    prescribe_home_exercise,
    record_odi,
    sign_note,
    start_note,
    submit_intake,
    update_draft,
)

from . import data
from .sessions import exercise_log, note_of, odi_answers
from .stories import PHASE_OF_SERVICE, Story, Visit, stories_of

ODI_EVERY_DAYS = 28
# The library's exercises the demo practitioners prescribe for home (`treatments.0014`).
HOME_EXERCISES = (
    "Bird dog",
    "Glute bridge",
    "Dead bug",
    "McGill curl-up",
    "Side plank",
    "Sciatic nerve glide",
    "Hip hinge with dowel",
    "Clamshell",
)


def _start_back(story: Story) -> StartBackAnswers:
    """The STarT Back answers of the story's patient, from how bad their pain was and
    whether it runs down a leg: no draw from the story's random numbers, so that the rest
    of the demo comes out as it always has. The worst off land in the high-risk group."""
    pain = story.pain_start
    agree = [
        story.sciatica,  # 1. pain spread down the leg
        False,  # 2. pain in the shoulder or neck
        pain >= 7,  # 3. dressed more slowly
        pain >= 8,  # 4. walked only short distances
        pain >= 6,  # 5. not safe to be active (worry)
        pain >= 7,  # 6. worrying thoughts
        pain >= 7.5,  # 7. never get better (catastrophising)
        pain >= 8,  # 8. not enjoyed things (low mood)
    ]
    bothersomeness = (
        "slightly"
        if pain < 5
        else "moderately"
        if pain < 6.5
        else "very_much"
        if pain < 8
        else "extremely"
    )
    return StartBackAnswers(agree=agree, bothersomeness=bothersomeness)


# A note is signed once the session is over by this much; later ones are still drafts.
DRAFT_WITHIN = timedelta(days=1)
# One signed note in so many was amended a day or two after signing.
AMENDED_EVERY = 41

_COMPLAINTS = {
    "back": (
        "Lower back pain, worse after sitting at my desk all day",
        "Stiff, aching lower back in the mornings",
        "Lower back pain since I started running again",
        "Sharp pain in the lower back when I bend to lift",
    ),
    "hip": (
        "Deep ache in the {side} buttock and hip when running",
        "Pain in the {side} hip and buttock after long drives",
        "Tight {side} hip that catches when I climb stairs",
    ),
    "sciatica": (
        "Pain from the {side} buttock shooting down the back of the leg",
        "Burning and tingling down the {side} leg, worse when sitting",
        "Sciatica down the {side} leg for months; the GP suggested myotherapy",
    ),
}
_GOALS = {
    "sedentary": ("Sit through a work day without pain", "Pick up my kids without worrying"),
    "new_runner": ("Run 5 km without back pain", "Finish my first fun run"),
    "returning_runner": ("Get back to running 10 km", "Run three times a week again"),
    "seasoned_runner": ("Train for a half marathon pain-free", "Get back to sub-50 min 10 km"),
    "other_sport": ("Play a full season of netball", "Deadlift again without fear"),
}
_ADDENDA = (
    "Correction: symptoms were in the {side} buttock, as in the intake, not the other side.",
    "GP letter received: lumbar X-ray unremarkable; continue as planned.",
    "Patient phoned the next day: post-session soreness settled within 24 hours.",
    "Clarification: load on the deadlift was per side of the trap bar, total as logged.",
    "Patient emailed: running 5 km twice this week without symptoms.",
)
_RED_FLAG_CLEARANCES = (
    "Seen by GP: neurological exam normal, no cauda equina signs; cleared for manual "
    "therapy and graded loading.",
    "GP review and lumbar MRI: L5/S1 disc bulge without nerve root compromise; cleared for "
    "myotherapy, avoid heavy spinal loading for four weeks.",
    "GP: bloods and X-ray normal; cleared for treatment.",
)


@dataclass
class ClinicalSummary:
    intakes: int = 0
    open_red_flags: int = 0
    plans_by_phase: dict[str, int] = field(default_factory=dict)
    notes: int = 0
    signed_notes: int = 0
    exercises: int = 0
    addenda: int = 0
    pain_scores: int = 0
    odi_scores: int = 0
    home_exercises: int = 0
    home_exercise_logs: int = 0


def seed_clinical_records(patients: list[Patient], *, seed: int, now: datetime) -> bool:
    """Write the demo patients' clinical records, unless any of them has some already.
    Return whether anything was written."""
    ids = [patient.pk for patient in patients]
    if (
        Intake.objects.filter(patient_id__in=ids).exists()
        or TreatmentPlan.objects.filter(patient_id__in=ids).exists()
        or TreatmentNote.objects.filter(appointment__patient_id__in=ids).exists()
    ):
        return False
    stories = stories_of(patients, seed=seed, now=now)
    if not stories:
        return False
    _Writer(stories, now).write()
    return True


def clinical_summary() -> ClinicalSummary:
    return ClinicalSummary(
        intakes=Intake.objects.count(),
        open_red_flags=_open_red_flag_count(),
        plans_by_phase=dict(
            Counter(
                TreatmentPlan.objects.filter(status=PlanStatus.ACTIVE).values_list(
                    "current_phase", flat=True
                )
            )
        ),
        notes=TreatmentNote.objects.count(),
        signed_notes=TreatmentNote.objects.filter(signed_at__isnull=False).count(),
        exercises=ExerciseEntry.objects.count(),
        addenda=TreatmentNote.objects.filter(addenda__isnull=False).count(),
        pain_scores=OutcomeMeasure.objects.filter(kind=MeasureKind.PAIN).count(),
        odi_scores=OutcomeMeasure.objects.filter(kind=MeasureKind.ODI).count(),
        home_exercises=HomeExercise.objects.count(),
        home_exercise_logs=HomeExerciseLog.objects.count(),
    )


def _open_red_flag_count() -> int:
    """Patients with red flags that no clearance covers (the one rule of `treatments`)."""
    patients = Intake.objects.values_list("patient_id", flat=True).distinct()
    return len(open_red_flags_by_patient(patients))


# Writing -----------------------------------------------------------------------------------


class _Writer:
    """Walks each story through the services in the order it happened."""

    def __init__(self, stories: list[Story], now: datetime):
        self.stories = stories
        self.now = now
        self.zone = ZoneInfo(data.MELBOURNE)
        self.signed = 0  # signed notes so far, across the stories
        in_strength = [
            s for s in stories if s.current_phase == Phase.STRENGTHEN and not s.red_flags
        ]
        self.fallen = in_strength[0] if in_strength else None

    def write(self) -> None:
        for story in self.stories:
            intake = self._intake(story)
            if story.red_flags_cleared:
                self._clear_red_flags(story, intake)
            plan = self._sessions(story, self._plan(story))
            if plan.current_phase == Phase.MAINTAIN:
                self._home_programme(story, plan)
            if story is self.fallen:
                self._fall(story)

    # Intake and red flags

    def _intake(self, story: Story) -> Intake:
        rng = story.rng
        assessment = story.visits[0].appointment
        kind = "sciatica" if story.sciatica else rng.choice(("back", "back", "hip"))
        locations = ["lower_back"]
        if kind != "back":
            locations += [f"buttock_{story.side}", f"hip_{story.side}"]
        if kind == "sciatica":
            locations.append(f"leg_{story.side}")
        symptoms = []
        if story.sciatica:
            symptoms = rng.sample(
                [
                    "pins_and_needles",
                    "numbness_burning_tingling",
                    "sharp_pain_down_leg",
                    "trouble_sleeping",
                    "constant_pain",
                ],
                rng.randint(2, 4),
            )
        elif rng.random() < 0.3:
            symptoms = ["trouble_sleeping"]
        entered_by = assessment.practitioner.user if rng.random() < 0.2 else None
        answers: dict[str, Any] = {
            "complaint": rng.choice(_COMPLAINTS[kind]).format(side=story.side),
            "symptom_locations": locations,
            "sciatica_symptoms": symptoms,
            "pain_score": round(story.pain_start),
            "duration": rng.choice(("chronic", "chronic", "subacute", "acute")),
            "activity": story.activity,
            "goals": rng.choice(_GOALS[story.activity]),
            "red_flags": story.red_flags,
        }
        # Online the day or two before; at the desk an hour before the assessment.
        before = timedelta(hours=1) if entered_by else timedelta(hours=rng.randint(20, 70))
        return submit_intake(
            patient=story.patient,
            answers=answers,
            entered_by=entered_by,
            start_back=_start_back(story),
            now=assessment.start - before,
        )

    def _clear_red_flags(self, story: Story, intake: Intake) -> None:
        """Cleared by their GP within a few days, before the first hands-on session, and
        recorded by the practitioner who assessed them that evening."""
        first_release = story.phase_starts.get(Phase.RELEASE, story.first_day)
        cleared_on = min(
            story.first_day + timedelta(days=story.rng.randint(1, 4)),
            max(first_release - timedelta(days=1), story.first_day),
        )
        clear_red_flags(
            intake=intake,
            cleared_by=story.visits[0].appointment.practitioner.user,
            cleared_on=cleared_on,
            note=story.rng.choice(_RED_FLAG_CLEARANCES),
            now=datetime.combine(cleared_on, time(17), self.zone),
        )

    def _fall(self, story: Story) -> None:
        """The latest news of one patient in strength training: a fall last week."""
        submit_intake(
            patient=story.patient,
            answers={
                "complaint": f"Fell off my bike on Saturday; {story.side} hip and lower back "
                "sore again",
                "symptom_locations": ["lower_back", f"hip_{story.side}"],
                "sciatica_symptoms": [],
                "pain_score": 5,
                "duration": "acute",
                "activity": story.activity,
                "goals": story.rng.choice(_GOALS[story.activity]),
                "red_flags": ["recent_trauma"],
            },
            entered_by=None,
            now=self.now - timedelta(days=3, hours=5),
        )

    # Plans

    def _plan(self, story: Story) -> TreatmentPlan:
        """Drawn up at the end of the assessment, for as many sessions of each phase as the
        patient went on to book (or the usual number, if more)."""
        rng = story.rng
        interval = rng.choice((4, 5, 6, 6, 8))
        counts = Counter(PHASE_OF_SERVICE[v.key] for v in story.visits)
        planned = {
            Phase.ASSESS: (1 + story.sciatica, Decimal("1")),
            Phase.RELEASE: (max(counts[Phase.RELEASE], rng.randint(3, 6)), Decimal("1")),
            Phase.STRENGTHEN: (max(counts[Phase.STRENGTHEN], rng.randint(6, 10)), Decimal("2")),
            Phase.MAINTAIN: (6, Decimal("0.2")),
        }
        assessment = story.visits[0].appointment
        return create_plan(
            patient=story.patient,
            practitioner=assessment.practitioner,
            goals=_plan_goals(story),
            phases=[
                {"phase": phase, "planned_sessions": sessions, "sessions_per_week": weekly}
                for phase, (sessions, weekly) in planned.items()
            ],
            maintenance_interval_weeks=interval,
            schedule={"odi_every_weeks": ODI_EVERY_DAYS // 7},
            now=assessment.end,
        )

    # Notes, exercise logs, addenda, scores

    def _sessions(self, story: Story, plan: TreatmentPlan) -> TreatmentPlan:
        nmpt_done = 0
        next_odi = story.first_day
        for position, visit in enumerate(story.visits):
            if not visit.completed:
                continue
            appointment = visit.appointment
            author = appointment.practitioner
            ended = appointment.end
            pain = self._pain(story, visit, position)
            changes = note_of(story, visit, pain, nmpt_done)
            exercises = None
            if visit.key == data.NMPT_SESSION:
                exercises = exercise_log(story, nmpt_done, pain)
                nmpt_done += 1
            note = start_note(appointment=appointment, author=author, now=ended)
            note = update_draft(
                note=note, author=author, changes=changes, exercises=exercises, now=ended
            )
            phase = PHASE_OF_SERVICE[visit.key]
            if phase != plan.current_phase and story.phase_visits.get(phase) is visit:
                plan = move_plan_to_phase(plan=plan, phase=phase, by=author.user, now=ended)
            if self.now - ended > DRAFT_WITHIN:
                signed_at = ended + timedelta(minutes=story.rng.randint(5, 180))
                note = sign_note(note=note, author=author, now=signed_at)
                self._amend_now_and_then(story, note, author, signed_at)
            if visit.day >= next_odi:
                self._odi(story, visit)
                next_odi = visit.day + timedelta(days=ODI_EVERY_DAYS)
        return plan

    # The home programme of maintenance

    def _home_programme(self, story: Story, plan: TreatmentPlan) -> None:
        """Three exercises of the library, prescribed by the plan's practitioner as the plan
        entered maintenance, and the patient's logs of them over the last weeks: a patient
        keeps their programme with their own steadiness (a random number of their own, so
        that the story's other draws stay as they were)."""
        rng = random.Random(f"home-programme:{story.patient.email}")
        started = plan.maintenance_started_at or self.now
        exercises = rng.sample(list(Exercise.objects.filter(name__in=HOME_EXERCISES)), 3)
        prescribed = [
            prescribe_home_exercise(
                plan=plan,
                exercise=exercise,
                by=plan.practitioner.user,
                times_per_week=rng.choice((3, 3, 4, 5)),
                now=started,
            )
            for exercise in exercises
        ]
        steadiness = rng.uniform(0.3, 1.0)
        today = timezone.localdate(self.now, self.zone)
        day = max(timezone.localdate(started, self.zone), today - timedelta(weeks=8))
        while day < today:
            evening = datetime.combine(day, time(19), tzinfo=self.zone)
            for item in prescribed:
                if rng.random() < steadiness * item.times_per_week / 7:
                    log_home_exercise(
                        patient=story.patient,
                        home_exercise=item,
                        done_on=day,
                        sets_done=item.sets,
                        reps_done=item.reps,
                        pain=min(10, max(0, round(story.pain_on(day) + rng.gauss(0, 0.5)))),
                        now=evening,
                    )
            day += timedelta(days=1)

    def _pain(self, story: Story, visit: Visit, position: int) -> int:
        if position == 0:
            return round(story.pain_start)
        pain = story.pain_on(visit.day) + story.rng.gauss(0, 0.6)
        if story.rng.random() < 0.05:
            pain += 2  # a flare-up
        return max(0, min(10, round(pain)))

    def _odi(self, story: Story, visit: Visit) -> None:
        target = max(0.0, story.odi_on(visit.day) + story.rng.gauss(0, 2.5))
        appointment = visit.appointment
        record_odi(
            patient=story.patient,
            answers=odi_answers(story.rng, target, skip_sex_life=story.skips_sex_life),
            by=appointment.practitioner.user,
            recorded_at=appointment.start,
            appointment=appointment,
        )

    def _amend_now_and_then(
        self, story: Story, note: TreatmentNote, author: Practitioner, signed_at: datetime
    ) -> None:
        index, self.signed = self.signed, self.signed + 1
        if index % AMENDED_EVERY != 17:
            return
        add_addendum(
            note=note,
            author=author,
            text=_ADDENDA[index % len(_ADDENDA)].format(side=story.side),
            now=min(signed_at + timedelta(days=1 + index % 2, hours=2), self.now),
        )


def _plan_goals(story: Story) -> str:
    goal = {
        "sedentary": "Sit and work through the day without back pain",
        "new_runner": "Run 5 km pain-free, three times a week",
        "returning_runner": "Return to running 10 km without buttock or back pain",
        "seasoned_runner": "Build back to half-marathon training pain-free",
        "other_sport": "Return to full training and competition",
    }[story.activity]
    return (
        f"{goal}. Release the anterior chain (hip flexors, quadriceps) and deep hip rotators, "
        "strengthen the posterior chain (glutes, hamstrings, adductors), then maintain."
    )
