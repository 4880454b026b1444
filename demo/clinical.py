"""The demo clinic's clinical records, written from the appointments it already holds.

For each demo patient: the intake questionnaire they filled in before their assessment (a
few raise red flags; most of those were cleared by a GP, two are still open), one treatment
plan whose phases started and ended on the days of their visits (assess → release at the
first myotherapy session → strengthen at the first NMPT session → maintain at the first
maintenance visit), a signed SOAP note for every completed session older than a day (drafts
for the latest ones), with NMPT exercise logs that progress — squats, deadlifts, hip
thrusts, sprints, stretches, some lifts guarded early on — and a few addenda; a pain score
from every signed note and an Oswestry Disability Index at the assessment and about every
four weeks, trending down as patients recover, with the odd flare-up.

History cannot go through `treatments.services` (they stamp today's date on what they do),
so the rows are written here, the way the services would have left them: a signed note's
pain score joins the outcome series, ODI percentages come from `odi_percent`, addenda only
amend signed notes. Notes are inserted as drafts with their exercise logs, then signed in
one UPDATE (the database's triggers refuse any change to a signed note or its log).

Deterministic: each patient's choices come from a `random.Random` seeded with the demo seed
and their email, so they do not depend on the order or on what another patient drew.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from appointments.models import Appointment, Status
from patients.models import Patient
from treatments.models import (
    ExerciseEntry,
    Intake,
    MeasureKind,
    OutcomeMeasure,
    Phase,
    PlanPhase,
    PlanStatus,
    RedFlagClearance,
    TreatmentNote,
    TreatmentPlan,
    odi_percent,
)
from treatments.selectors import open_red_flags_by_patient

from . import data

# Which phase of the pathway each kind of visit belongs to; a consultation with the
# sciatica specialist is part of the assessment.
PHASE_OF_SERVICE = {
    data.ASSESSMENT: Phase.ASSESS,
    data.SCIATICA_CONSULT: Phase.ASSESS,
    data.SMM_45: Phase.RELEASE,
    data.SMM_60: Phase.RELEASE,
    data.NMPT_SESSION: Phase.STRENGTHEN,
    data.MAINTENANCE: Phase.MAINTAIN,
}
PHASE_INDEX = {phase: index for index, phase in enumerate(Phase)}
ODI_EVERY_DAYS = 28
# A note is signed once the session is over by this much; later ones are still drafts.
DRAFT_WITHIN = timedelta(days=1)

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
_ACTIVITIES = (
    "sedentary",
    "sedentary",
    "new_runner",
    "returning_runner",
    "seasoned_runner",
    "other_sport",
)
_EASES = ("walking", "a hot shower", "lying on my back with knees bent", "gentle stretching")
_AGGRAVATES = ("sitting", "bending forward", "long drives", "running downhill", "getting up")
_SIDE = {"left": "left", "right": "right"}
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
class Visit:
    appointment: Appointment
    key: str  # the service's key in `data.SERVICES`
    day: date  # local

    @property
    def completed(self) -> bool:
        return self.appointment.status == Status.COMPLETED


@dataclass
class Story:
    """One patient's course: how bad it was, how fast it settles, what they do."""

    patient: Patient
    rng: random.Random
    visits: list[Visit]
    sciatica: bool
    side: str
    pain_start: float
    pain_end: float
    odi_start: float
    odi_end: float
    days_to_settle: float
    activity: str
    skips_sex_life: bool
    red_flags: list[str] = field(default_factory=list)
    red_flags_cleared: bool = False
    phase_starts: dict[str, date] = field(default_factory=dict)

    @property
    def first_day(self) -> date:
        return self.visits[0].day

    def pain_on(self, day: date) -> float:
        settled = math.exp(-(day - self.first_day).days / self.days_to_settle)
        return self.pain_end + (self.pain_start - self.pain_end) * settled

    def odi_on(self, day: date) -> float:
        settled = math.exp(-(day - self.first_day).days / (self.days_to_settle * 1.2))
        return self.odi_end + (self.odi_start - self.odi_end) * settled


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


def seed_clinical_records(patients: list[Patient], *, seed: int) -> bool:
    """Write the demo patients' clinical records, unless any of them has some already.
    Return whether anything was written."""
    ids = [patient.pk for patient in patients]
    if (
        Intake.objects.filter(patient_id__in=ids).exists()
        or TreatmentPlan.objects.filter(patient_id__in=ids).exists()
        or TreatmentNote.objects.filter(appointment__patient_id__in=ids).exists()
    ):
        return False
    stories = _stories(patients, seed)
    if not stories:
        return False
    _Writer(stories).write()
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
    )


def _open_red_flag_count() -> int:
    """Patients with red flags that no clearance covers (the one rule of `treatments`)."""
    patients = Intake.objects.values_list("patient_id", flat=True).distinct()
    return len(open_red_flags_by_patient(patients))


# Stories -----------------------------------------------------------------------------------


def _stories(patients: list[Patient], seed: int) -> list[Story]:
    key_of = {spec.name: spec.key for spec in data.SERVICES}
    zone = ZoneInfo(data.MELBOURNE)
    now = timezone.now()
    visits: dict[int, list[Visit]] = defaultdict(list)
    appointments = (
        Appointment.objects.filter(patient__in=patients, start__lt=now)
        .select_related("service", "practitioner__user", "location")
        .order_by("start", "pk")
    )
    for appointment in appointments:
        key = key_of.get(appointment.service.name)
        if key is not None:
            day = appointment.start.astimezone(zone).date()
            visits[appointment.patient_id].append(Visit(appointment, key, day))
    stories = []
    for patient in patients:
        theirs = visits.get(patient.pk)
        if not theirs or theirs[0].key != data.ASSESSMENT:
            continue  # not a demo pathway: leave them alone
        rng = random.Random(f"{seed}:{patient.email}")
        sciatica = any(v.key == data.SCIATICA_CONSULT for v in theirs)
        story = Story(
            patient=patient,
            rng=rng,
            visits=theirs,
            sciatica=sciatica,
            side=rng.choice(("left", "right")),
            pain_start=rng.uniform(6, 8.5) if sciatica else rng.uniform(4.5, 7.5),
            pain_end=rng.uniform(0, 2),
            odi_start=rng.uniform(38, 62) if sciatica else rng.uniform(24, 50),
            odi_end=rng.uniform(4, 12),
            days_to_settle=rng.uniform(28, 55),
            activity=rng.choice(_ACTIVITIES),
            skips_sex_life=rng.random() < 0.2,
        )
        story.phase_starts = _phase_starts(theirs)
        stories.append(story)
    _choose_red_flags(stories)
    return stories


def _phase_starts(visits: list[Visit]) -> dict[str, date]:
    """The day each phase began: the first attended visit of a later phase moves the plan
    on (a myotherapy session during strength training does not move it back)."""
    starts = {Phase.ASSESS: visits[0].day}
    current = Phase.ASSESS
    for visit in visits:
        phase = PHASE_OF_SERVICE[visit.key]
        if visit.completed and PHASE_INDEX[phase] > PHASE_INDEX[current]:
            starts[phase] = visit.day
            current = phase
    return starts


def _choose_red_flags(stories: list[Story]) -> None:
    """Some patients answered yes to red-flag questions: most sciatica patients with severe
    leg symptoms saw their GP and were cleared before hands-on treatment; the newest patient
    is still waiting for their GP (open)."""
    newest = max(stories, key=lambda story: (story.first_day, story.patient.pk))
    newest.red_flags = ["severe_leg_pain", "leg_weakness_episodes"]
    cleared = [s for s in stories if s.sciatica and s is not newest][:4]
    for story, flags in zip(
        cleared,
        (
            ["severe_leg_pain"],
            ["leg_weakness_episodes"],
            ["severe_leg_pain", "leg_weakness_episodes"],
            ["unexplained_weight_loss"],
        ),
        strict=False,
    ):
        story.red_flags, story.red_flags_cleared = flags, True
    others = [s for s in stories if not s.sciatica and s is not newest and len(s.visits) > 3]
    if others:
        others[0].red_flags, others[0].red_flags_cleared = ["recent_trauma"], True


# Writing -----------------------------------------------------------------------------------


class _Writer:
    def __init__(self, stories: list[Story]):
        self.stories = stories
        self.now = timezone.now()
        self.zone = ZoneInfo(data.MELBOURNE)

    def write(self) -> None:
        self._intakes()
        self._plans()
        self._notes_and_scores()

    # Intake and red flags

    def _intakes(self) -> None:
        intakes: list[Intake] = []
        submitted: list[datetime] = []
        for story in self.stories:
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
            intakes.append(
                Intake(
                    patient=story.patient,
                    entered_by=entered_by,
                    complaint=rng.choice(_COMPLAINTS[kind]).format(side=_SIDE[story.side]),
                    symptom_locations=locations,
                    sciatica_symptoms=symptoms,
                    pain_score=round(story.pain_start),
                    duration=rng.choice(("chronic", "chronic", "subacute", "acute")),
                    activity=story.activity,
                    goals=rng.choice(_GOALS[story.activity]),
                    red_flags=story.red_flags,
                )
            )
            # Online the day or two before; at the desk an hour before the assessment.
            before = timedelta(hours=1) if entered_by else timedelta(hours=rng.randint(20, 70))
            submitted.append(assessment.start - before)
        # The latest news of one patient in strength training: a fall last week.
        fallen = self._fallen()
        if fallen is not None:
            intakes.append(
                Intake(
                    patient=fallen.patient,
                    complaint=f"Fell off my bike on Saturday; {fallen.side} hip and lower back "
                    "sore again",
                    symptom_locations=["lower_back", f"hip_{fallen.side}"],
                    sciatica_symptoms=[],
                    pain_score=5,
                    duration="acute",
                    activity=fallen.activity,
                    goals=fallen.rng.choice(_GOALS[fallen.activity]),
                    red_flags=["recent_trauma"],
                )
            )
            submitted.append(self.now - timedelta(days=3, hours=5))
        Intake.objects.bulk_create(intakes)
        for intake, when in zip(intakes, submitted, strict=True):
            intake.submitted_at = when
        Intake.objects.bulk_update(intakes, ["submitted_at"])

        clearances = []
        recorded = []
        by_patient = {intake.patient_id: intake for intake in intakes[: len(self.stories)]}
        for story in self.stories:
            if not story.red_flags_cleared:
                continue
            intake = by_patient[story.patient.pk]
            # Cleared by their GP within a few days, before the first hands-on session.
            first_release = story.phase_starts.get(Phase.RELEASE, story.first_day)
            cleared_on = min(
                story.first_day + timedelta(days=story.rng.randint(1, 4)),
                max(first_release - timedelta(days=1), story.first_day),
            )
            clearances.append(
                RedFlagClearance(
                    intake=intake,
                    cleared_by=story.visits[0].appointment.practitioner.user,
                    cleared_on=cleared_on,
                    note=story.rng.choice(_RED_FLAG_CLEARANCES),
                )
            )
            recorded.append(datetime.combine(cleared_on, datetime.min.time(), self.zone))
        RedFlagClearance.objects.bulk_create(clearances)
        for clearance, when in zip(clearances, recorded, strict=True):
            clearance.recorded_at = when + timedelta(hours=17)
        RedFlagClearance.objects.bulk_update(clearances, ["recorded_at"])

    def _fallen(self) -> Story | None:
        in_strength = [
            s
            for s in self.stories
            if max(s.phase_starts, key=lambda p: PHASE_INDEX[p]) == Phase.STRENGTHEN
            and not s.red_flags
        ]
        return in_strength[0] if in_strength else None

    # Plans

    def _plans(self) -> None:
        plans, phases, stamps = [], [], []
        for story in self.stories:
            rng = story.rng
            starts = story.phase_starts
            current = max(starts, key=lambda phase: PHASE_INDEX[phase])
            first = story.visits[0].appointment
            maintain_on = starts.get(Phase.MAINTAIN)
            plan = TreatmentPlan(
                patient=story.patient,
                practitioner=first.practitioner,
                goals=_plan_goals(story),
                status=PlanStatus.ACTIVE,
                current_phase=current,
                maintenance_interval_weeks=rng.choice((4, 5, 6, 6, 8)),
                maintenance_started_at=self._morning(maintain_on) if maintain_on else None,
            )
            plans.append(plan)
            stamps.append((first.end, self._morning(starts[current])))
            counts = Counter(PHASE_OF_SERVICE[v.key] for v in story.visits)
            planned = {
                Phase.ASSESS: (1 + story.sciatica, Decimal("1")),
                Phase.RELEASE: (max(counts[Phase.RELEASE], rng.randint(3, 6)), Decimal("1")),
                Phase.STRENGTHEN: (max(counts[Phase.STRENGTHEN], rng.randint(6, 10)), Decimal("2")),
                Phase.MAINTAIN: (6, Decimal("0.2")),
            }
            ordered = list(Phase)
            for index, phase in enumerate(ordered):
                started = starts.get(phase)
                following = [starts[p] for p in ordered[index + 1 :] if p in starts]
                phases.append(
                    (
                        plan,
                        PlanPhase(
                            phase=phase,
                            planned_sessions=planned[phase][0],
                            sessions_per_week=planned[phase][1],
                            started_on=started,
                            ended_on=following[0] if started and following else None,
                        ),
                    )
                )
        TreatmentPlan.objects.bulk_create(plans)
        for plan, (created, updated) in zip(plans, stamps, strict=True):
            plan.created_at, plan.updated_at = created, updated
        TreatmentPlan.objects.bulk_update(plans, ["created_at", "updated_at"])
        for plan, phase in phases:
            phase.plan = plan
        PlanPhase.objects.bulk_create(phase for _, phase in phases)

    # Notes, exercise logs, addenda, scores

    def _notes_and_scores(self) -> None:
        notes: list[TreatmentNote] = []
        signed_at: list[datetime | None] = []
        exercises: list[tuple[TreatmentNote, list[dict]]] = []
        measures: list[OutcomeMeasure] = []
        for story in self.stories:
            nmpt_done = 0
            next_odi = story.first_day
            for position, visit in enumerate(story.visits):
                if not visit.completed:
                    continue
                appointment = visit.appointment
                pain = self._pain(story, visit, position)
                note = _note(story, visit, pain, nmpt_done)
                notes.append(note)
                if visit.key == data.NMPT_SESSION:
                    exercises.append((note, _exercise_log(story, nmpt_done, pain)))
                    nmpt_done += 1
                done = appointment.end
                if self.now - done > DRAFT_WITHIN:
                    signed_at.append(done + timedelta(minutes=story.rng.randint(5, 180)))
                    measures.append(
                        OutcomeMeasure(
                            patient=story.patient,
                            kind=MeasureKind.PAIN,
                            value=Decimal(pain),
                            recorded_at=appointment.start,
                            recorded_by=appointment.practitioner.user,
                            appointment=appointment,
                        )
                    )
                else:
                    signed_at.append(None)
                if visit.day >= next_odi:
                    measures.append(self._odi(story, visit))
                    next_odi = visit.day + timedelta(days=ODI_EVERY_DAYS)

        TreatmentNote.objects.bulk_create(notes)
        ExerciseEntry.objects.bulk_create(
            ExerciseEntry(note=note, position=position, **entry)
            for note, log in exercises
            for position, entry in enumerate(log)
        )
        # Written at the end of the session, then signed: the one change a draft may take.
        for note, signed in zip(notes, signed_at, strict=True):
            note.created_at = note.appointment.end
            note.updated_at = signed or note.appointment.end
            note.signed_at = signed
        TreatmentNote.objects.bulk_update(notes, ["created_at", "updated_at", "signed_at"])
        OutcomeMeasure.objects.bulk_create(measures)
        self._addenda([(n, s) for n, s in zip(notes, signed_at, strict=True) if s is not None])

    def _pain(self, story: Story, visit: Visit, position: int) -> int:
        if position == 0:
            return round(story.pain_start)
        pain = story.pain_on(visit.day) + story.rng.gauss(0, 0.6)
        if story.rng.random() < 0.05:
            pain += 2  # a flare-up
        return max(0, min(10, round(pain)))

    def _odi(self, story: Story, visit: Visit) -> OutcomeMeasure:
        target = max(0.0, story.odi_on(visit.day) + story.rng.gauss(0, 2.5))
        answers = _odi_answers(story.rng, target, skip_sex_life=story.skips_sex_life)
        appointment = visit.appointment
        return OutcomeMeasure(
            patient=story.patient,
            kind=MeasureKind.ODI,
            value=odi_percent(answers),
            odi_answers=answers,
            recorded_at=appointment.start,
            recorded_by=appointment.practitioner.user,
            appointment=appointment,
        )

    def _addenda(self, signed: list[tuple[TreatmentNote, datetime]]) -> None:
        """Every fortieth signed note or so was amended a day or two later. Inserted with
        their own times in SQL: the ORM would stamp them now, and addenda never change."""
        rows = []
        for index, (note, signed_at) in enumerate(signed):
            if index % 41 != 17:
                continue
            when = min(signed_at + timedelta(days=1 + index % 2, hours=2), self.now)
            story_side = "left" if index % 2 else "right"
            text = _ADDENDA[index % len(_ADDENDA)].format(side=story_side)
            rows.append((note.pk, note.author_id, when, text))
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO treatments_addendum (note_id, author_id, created_at, text) "
                    "VALUES (%s, %s, %s, %s)",
                    rows,
                )

    def _morning(self, day: date) -> datetime:
        return datetime.combine(day, datetime.min.time(), self.zone) + timedelta(hours=9)


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


def _note(story: Story, visit: Visit, pain: int, nmpt_done: int) -> TreatmentNote:
    rng = story.rng
    appointment = visit.appointment
    side = story.side
    base_locations = ["lower_back"] if pain < 3 else ["lower_back", f"buttock_{side}"]
    if story.sciatica and pain >= 4:
        base_locations.append(f"leg_{side}")
    note = TreatmentNote(
        appointment=appointment,
        patient_id=appointment.patient_id,
        author=appointment.practitioner,
        pain_score=pain,
        pain_locations=base_locations if pain else [],
    )
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
        note.subjective = (
            f"Pain {pain}/10 in the lower back{' and ' + side + ' leg' if story.sciatica else ''}"
            f", worse with {rng.choice(_AGGRAVATES)}, eased by {rng.choice(_EASES)}."
        )
        note.posture_findings = findings
        note.regions_treated = [] if story.red_flags else ["lower_back", "hip_flexors"]
        slr = (
            f"SLR positive on the {side} at {rng.randint(45, 65)}°, slump reproduces buttock pain."
            if story.sciatica
            else "SLR negative both sides."
        )
        note.objective = (
            "Standing: pelvis tipped forward with increased lumbar curve. Thomas test: tight hip "
            f"flexors and quadriceps. Bridge: glute max weak, {side} more than the other. {slr}"
            + ("" if story.red_flags else " Brief SMM to the lower back and hip flexors.")
        )
        flags = (
            " Red flags reported at intake: GP review before hands-on treatment."
            if story.red_flags
            else " No red flags on screening."
        )
        note.assessment = (
            "Pain driven by a tight anterior chain and weak posterior chain"
            + (", with piriformis irritation of the sciatic nerve" if story.sciatica else "")
            + "."
            + flags
        )
        note.plan = (
            "Release phase: SMM to the lower back, hips and deep hip rotators weekly, then NMPT "
            "twice a week. Baseline ODI recorded."
        )
    elif visit.key == data.SCIATICA_CONSULT:
        early = Phase.RELEASE not in story.phase_starts or visit.day <= story.phase_starts.get(
            Phase.RELEASE, visit.day
        )
        note.subjective = f"Leg symptoms {'unchanged' if early else 'settling'}; pain {pain}/10."
        note.posture_findings = ["anterior_pelvic_tilt"]
        note.regions_treated = ["piriformis", "buttock"]
        note.objective = (
            "Neuro screen: power 5/5 L2-S1, reflexes symmetrical, sensation intact. "
            f"{side.capitalize()} piriformis tender, reproduces the leg pain."
        )
        note.assessment = (
            "Peripheral sciatic irritation at the piriformis; no sign of nerve root compromise."
            if early
            else "Leg symptoms settled; fit to start loading."
        )
        note.plan = "Continue SMM; review before NMPT." if early else "Clear to start NMPT."
    elif visit.key == data.NMPT_SESSION:
        note.subjective = f"Pain {pain}/10 before the session. {mood}"
        note.objective = (
            "Supervised NMPT in the gym: squat pattern, hip hinge, hip thrust"
            + (", sprint work" if nmpt_done >= 2 else "")
            + ", stretches for the hip flexors and adductors."
        )
        note.posture_findings = ["weak_glutes"] if nmpt_done < 4 else []
        guarded = nmpt_done < 3
        note.assessment = (
            "Still guarding on the hinge: kept the load, worked on range."
            if guarded
            else "Strength improving; moving well under load."
        )
        note.plan = "Progress squat and deadlift by 2.5-5 kg next session."
    elif visit.key == data.MAINTENANCE:
        note.subjective = f"Pain-free most days ({pain}/10 today). {rng.choice(_BETTER)}"
        note.regions_treated = ["lower_back", "hips", "piriformis"]
        note.objective = (
            "Maintenance SMM: lower back, hips and deep hip rotators. Pelvis near neutral."
        )
        note.assessment = "Maintaining well."
        note.plan = "Next maintenance visit as planned; keep up the home stretches."
    else:  # a myotherapy session (SMM)
        regions = rng.sample(_SMM_REGIONS, rng.randint(3, 5))
        note.subjective = f"Pain {pain}/10. {mood}"
        note.regions_treated = regions
        note.posture_findings = rng.sample(
            ["anterior_pelvic_tilt", "tight_hip_flexors", "hips_internally_rotated"],
            1 if pain < 4 else 2,
        )
        words = ", ".join(_REGION_WORDS[r] for r in regions)
        note.objective = (
            f"SMM to the {words}. Marked tension in the {side} "
            f"{rng.choice(['piriformis', 'gemelli', 'hip flexors'])}, released well."
        )
        note.assessment = rng.choice(
            (
                "Responding well; hip internal rotation improving.",
                "Tissue tension reducing session to session.",
                "Less guarding on hip flexion; pelvis sitting more level.",
            )
        )
        note.plan = rng.choice(
            (
                "SMM next week; home hip flexor stretch daily.",
                "One more release session, then NMPT.",
            )
        )
    return note


def _exercise_log(story: Story, session: int, pain: int) -> list[dict]:
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


def _odi_answers(rng: random.Random, percent: float, *, skip_sex_life: bool) -> list[int | None]:
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
