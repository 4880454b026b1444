"""Changes to clinical records: intake, red-flag clearance, plans, notes, outcomes.

Each function is one transaction. Refusals are `DomainError`s with stable codes:
`note_signed` (a signed note is final), `not_the_author` (only the author edits or signs a
draft), `note_not_signed` (addenda amend signed notes), `note_exists` (one note per
session), `not_a_session` (a note needs a session that took place or is under way),
`red_flags_clear` (nothing to clear), `not_treating_practitioner` (only a practitioner who
treats the patient clears red flags), `plan_active` (one active plan per patient),
`plan_closed` (a completed or discontinued plan is not reopened), `invalid_phase`,
`invalid_measure`; for the home programme `not_treating_practitioner` (only a practitioner
who treats the patient prescribes), `already_prescribed` (an exercise is in a programme
once at a time), `home_exercise_stopped` (a stopped prescription is final),
`already_logged` (one log per exercise per day), `log_closed` (a log is corrected for
`LOG_EDITABLE_DAYS` days).

Each takes `now`, the moment it acts at (None: the clock's time), and stamps what it writes
with that one moment, the rows' own created/updated times included (`kernel.clock`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import User
from appointments.models import Appointment
from kernel.clock import save_at
from kernel.errors import DomainError
from patients.models import Patient
from practice.models import Practitioner

from .instruments import (
    ODI_VERSION,
    PAIN_VERSION,
    PSFS_VERSION,
    RMDQ_VERSION,
    START_BACK_VERSION,
    PsfsActivity,
    ScoringError,
    odi_percent,
    score_pain,
    score_psfs,
    score_rmdq,
    score_start_back,
)
from .models import (
    SCHEDULED_MEASURES,
    Addendum,
    Exercise,
    ExerciseEntry,
    HomeExercise,
    HomeExerciseLog,
    Intake,
    MeasureKind,
    OutcomeMeasure,
    Phase,
    PlanPhase,
    PlanStatus,
    RedFlag,
    RedFlagClearance,
    RiskScreening,
    TreatmentNote,
    TreatmentPlan,
)
from .selectors import (
    may_clear_red_flags,
    open_red_flags_by_patient,
    red_flags_a_clearance_would_cover,
    sessions_that_can_carry_a_note,
    treats,
)

NOTE_FIELDS = (
    "subjective",
    "pain_score",
    "pain_locations",
    "posture_findings",
    "regions_treated",
    "objective",
    "assessment",
    "plan",
)
EXERCISE_FIELDS = ("exercise", "sets", "reps", "load_kg", "effort", "guarded", "comment")


# --- intake and red flags ---------------------------------------------------------------


def submit_intake(
    *,
    patient: Patient,
    answers: dict[str, Any],
    entered_by: User | None,
    start_back: StartBackAnswers | None = None,
    now: datetime | None = None,
) -> Intake:
    """Record an intake questionnaire, and with it the STarT Back screening when answered.
    Red flags among the answers mark the patient until a practitioner records a clearance;
    a new intake without red flags clears nothing."""
    now = now or timezone.now()
    intake = Intake(patient=patient, entered_by=entered_by, **answers)
    with transaction.atomic():
        save_at(intake, now)
        if start_back is not None:
            screen_start_back(
                patient=patient, answers=start_back, by=entered_by, intake=intake, now=now
            )
    return intake


@dataclass(frozen=True)
class StartBackAnswers:
    agree: list[bool]  # items 1 to 8
    bothersomeness: str  # item 9, one of `Bothersomeness`


def screen_start_back(
    *,
    patient: Patient,
    answers: StartBackAnswers,
    by: User | None,
    intake: Intake | None = None,
    now: datetime | None = None,
) -> RiskScreening:
    """Score and record a STarT Back screening (at intake, or a re-screen)."""
    try:
        result = score_start_back(answers.agree, answers.bothersomeness)
    except ScoringError as error:
        raise DomainError(
            "invalid_measure", str(error), fields={"start_back": [str(error)]}
        ) from error
    return RiskScreening.objects.create(
        patient=patient,
        intake=intake,
        answered_at=now or timezone.now(),
        entered_by=by,
        instrument_version=START_BACK_VERSION,
        agree=list(answers.agree),
        bothersomeness=answers.bothersomeness,
        total=result.total,
        psychosocial=result.psychosocial,
        risk=result.risk,
    )


# The red flags of cauda equina syndrome, which cannot wait for the first session: the
# nerves at the base of the spine are compressed, and a delay of hours can leave lasting
# numbness, incontinence or weakness. "Episodes of leg weakness" stands for the progressive
# weakness of the guidelines (the questionnaire does not ask whether it is getting worse).
URGENT_RED_FLAGS = (
    RedFlag.SADDLE_NUMBNESS,
    RedFlag.BLADDER_BOWEL_CHANGE,
    RedFlag.LEG_WEAKNESS_EPISODES,
)

URGENT_CARE_MESSAGE = (
    "Some of your answers ({answers}) can be signs of a serious problem with the nerves at "
    "the base of your spine. Please get medical help today: go to a hospital emergency "
    "department, or call 000 if it is getting worse quickly. Do not wait for your "
    "appointment with us. We have also let your practitioner know."
)


@dataclass(frozen=True)
class UrgentAdvice:
    """What a patient who reports urgent red flags is told at once, in plain words."""

    red_flags: list[str]
    message: str


def urgent_advice(red_flags: Iterable[str]) -> UrgentAdvice | None:
    """The advice to seek urgent medical care when `red_flags` hold any of the urgent ones
    (`URGENT_RED_FLAGS`); None otherwise."""
    reported = set(red_flags)
    urgent = [flag for flag in URGENT_RED_FLAGS if flag in reported]
    if not urgent:
        return None
    answers = "; ".join(str(RedFlag(flag).label).lower() for flag in urgent)
    return UrgentAdvice(
        red_flags=[str(flag) for flag in urgent],
        message=URGENT_CARE_MESSAGE.format(answers=answers),
    )


def open_red_flags(patient: Patient) -> list[str]:
    """The patient's red flags that no clearance covers yet (`open_red_flags_by_patient`)."""
    return open_red_flags_by_patient([patient.pk]).get(patient.pk, [])


def clear_red_flags(
    *,
    intake: Intake,
    cleared_by: User,
    cleared_on: date,
    note: str,
    now: datetime | None = None,
) -> RedFlagClearance:
    """A practitioner who treats the patient records that the red flags on record up to this
    intake were dealt with (e.g. seen by GP): the clearance covers this intake and every
    earlier one of the patient."""
    if not may_clear_red_flags(cleared_by, intake.patient):
        raise DomainError(
            "not_treating_practitioner",
            "Only a practitioner who treats the patient clears their red flags.",
        )
    if not red_flags_a_clearance_would_cover(intake):
        raise DomainError("red_flags_clear", "No open red flags up to this intake.")
    if not note.strip():
        raise DomainError(
            "invalid",
            "Say how the red flags were cleared.",
            fields={"note": ["Required."]},
        )
    clearance = RedFlagClearance(
        intake=intake, cleared_by=cleared_by, cleared_on=cleared_on, note=note.strip()
    )
    try:
        with transaction.atomic():
            save_at(clearance, now or timezone.now())
    except IntegrityError as error:
        raise DomainError("red_flags_clear", "These red flags are already cleared.") from error
    return clearance


# --- treatment plans --------------------------------------------------------------------


def create_plan(
    *,
    patient: Patient,
    practitioner: Practitioner,
    goals: str,
    phases: Iterable[dict[str, Any]],
    maintenance_interval_weeks: int = 6,
    schedule: dict[str, int | None] | None = None,
    now: datetime | None = None,
) -> TreatmentPlan:
    """Start a course of care; a patient has at most one active plan. It begins in the
    assess phase, whose clock starts today. `schedule` says how often each questionnaire
    is taken (`SCHEDULED_MEASURES`' fields: weeks, or None)."""
    now = now or timezone.now()
    schedule = schedule or {}
    if unknown := set(schedule) - set(SCHEDULED_MEASURES.values()):
        raise ValueError(f"not a plan's schedule: {sorted(unknown)}")
    plan = TreatmentPlan(
        patient=patient,
        practitioner=practitioner,
        goals=goals,
        maintenance_interval_weeks=maintenance_interval_weeks,
        **schedule,
    )
    try:
        with transaction.atomic():
            save_at(plan, now)
            PlanPhase.objects.bulk_create(PlanPhase(plan=plan, **phase) for phase in phases)
            PlanPhase.objects.filter(plan=plan, phase=plan.current_phase, started_on=None).update(
                started_on=timezone.localdate(now)
            )
    except IntegrityError as error:
        raise DomainError(
            "plan_active", "This patient already has an active treatment plan."
        ) from error
    return plan


PLAN_FIELDS = ("goals", "maintenance_interval_weeks", "status", *SCHEDULED_MEASURES.values())


def update_plan(
    *,
    plan: TreatmentPlan,
    changes: dict[str, Any],
    by: User | None,
    now: datetime | None = None,
) -> TreatmentPlan:
    """Change a plan's goals, maintenance interval, measure schedule or status. An active
    plan may be completed or discontinued (its current phase ends today); a closed plan
    stays closed."""
    now = now or timezone.now()
    with transaction.atomic():
        plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        new_status = changes.get("status", plan.status)
        if plan.status != PlanStatus.ACTIVE and new_status != plan.status:
            raise DomainError(
                "plan_closed", "A completed or discontinued plan stays closed; start a new plan."
            )
        closing = plan.status == PlanStatus.ACTIVE and new_status != PlanStatus.ACTIVE
        for name, value in changes.items():
            if name not in PLAN_FIELDS:
                raise ValueError(f"{name} is not a plan field")
            setattr(plan, name, value)
        save_at(plan, now)
        if closing:
            today = timezone.localdate(now)
            PlanPhase.objects.filter(plan=plan, phase=plan.current_phase, ended_on=None).update(
                ended_on=today
            )
            # A closed plan's home programme ends with it.
            HomeExercise.objects.filter(plan=plan, stopped_on=None).update(
                stopped_on=Greatest("started_on", Value(today))
            )
    return plan


def move_plan_to_phase(
    *, plan: TreatmentPlan, phase: str, by: User | None, now: datetime | None = None
) -> TreatmentPlan:
    """Move an active plan along the pathway. Entering the maintenance phase starts the
    maintenance-visit prompts' clock."""
    now = now or timezone.now()
    if phase not in Phase.values:
        raise DomainError("invalid_phase", f"{phase!r} is not a phase of the pathway.")
    with transaction.atomic():
        plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PlanStatus.ACTIVE:
            raise DomainError("invalid_phase", "Only an active plan moves between phases.")
        today = timezone.localdate(now)
        PlanPhase.objects.filter(plan=plan, phase=plan.current_phase, ended_on=None).update(
            ended_on=today
        )
        PlanPhase.objects.filter(plan=plan, phase=phase, started_on=None).update(started_on=today)
        plan.current_phase = phase
        if phase == Phase.MAINTAIN and plan.maintenance_started_at is None:
            plan.maintenance_started_at = now
        save_at(plan, now, update_fields=["current_phase", "maintenance_started_at", "updated_at"])
    return plan


# --- treatment notes --------------------------------------------------------------------


def start_note(
    *, appointment: Appointment, author: Practitioner, now: datetime | None = None
) -> TreatmentNote:
    """Open the draft note of a session that can carry one (`sessions_that_can_carry_a_note`).

    The session's row stays locked until the note is written, so a cancellation or a
    no-show racing it either comes first (and the note is refused) or sees the note (and is
    refused: `appointments.services`)."""
    now = now or timezone.now()
    note = TreatmentNote(
        appointment=appointment,
        patient_id=appointment.patient_id,
        session_start=appointment.start,
        author=author,
    )
    try:
        with transaction.atomic():
            _lock_session_that_can_carry_a_note(appointment, now)
            save_at(note, now)
    except IntegrityError as error:
        raise DomainError("note_exists", "This session already has a note.") from error
    return note


def _lock_session_that_can_carry_a_note(appointment: Appointment, now: datetime) -> None:
    session = (
        Appointment.objects.select_for_update(of=("self",))
        .filter(sessions_that_can_carry_a_note(now), pk=appointment.pk)
        .first()
    )
    if session is None:
        raise DomainError(
            "not_a_session",
            "Notes are written for sessions that have started and were not cancelled or missed.",
        )


def update_draft(
    *,
    note: TreatmentNote,
    author: Practitioner,
    changes: dict[str, Any],
    exercises: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
) -> TreatmentNote:
    """Edit a draft: only its author, only while unsigned. `exercises`, when given,
    replaces the exercise log."""
    with transaction.atomic():
        note = _draft_of(note, author)
        for name, value in changes.items():
            if name not in NOTE_FIELDS:
                raise ValueError(f"{name} is not a note field")
            setattr(note, name, value)
        save_at(note, now or timezone.now())
        if exercises is not None:
            note.exercises.all().delete()
            ExerciseEntry.objects.bulk_create(
                ExerciseEntry(note=note, position=position, **entry)
                for position, entry in enumerate(exercises)
            )
    return note


def sign_note(
    *, note: TreatmentNote, author: Practitioner, now: datetime | None = None
) -> TreatmentNote:
    """Lock the note for ever. Its pain score also joins the patient's outcome series.
    Signing asks the note rule again: a draft begun before the rule (for a session that has
    not happened) is not signed until its session can carry a note."""
    now = now or timezone.now()
    with transaction.atomic():
        note = _draft_of(note, author)
        _lock_session_that_can_carry_a_note(note.appointment, now)
        note.signed_at = now
        save_at(note, now, update_fields=["signed_at", "updated_at"])
        if note.pain_score is not None:
            appointment = note.appointment
            record_pain(
                patient=appointment.patient,
                score=note.pain_score,
                by=author.user,
                recorded_at=appointment.start,
                appointment=appointment,
            )
    return note


def add_addendum(
    *, note: TreatmentNote, author: Practitioner, text: str, now: datetime | None = None
) -> Addendum:
    """Amend a signed note; the original stays as it was signed."""
    if not text.strip():
        raise DomainError("invalid", "Write the addendum.", fields={"text": ["Required."]})
    if not note.is_signed:
        raise DomainError(
            "note_not_signed", "A draft is edited directly; addenda amend signed notes."
        )
    addendum = Addendum(note=note, author=author, text=text.strip())
    save_at(addendum, now or timezone.now())
    return addendum


def _draft_of(note: TreatmentNote, author: Practitioner) -> TreatmentNote:
    current = (
        TreatmentNote.objects.select_for_update(of=("self", "appointment"))
        .select_related("appointment__patient")
        .get(pk=note.pk)
    )
    if current.is_signed:
        raise DomainError("note_signed", "A signed note is final; add an addendum instead.")
    if current.author_id != author.pk:
        raise DomainError("not_the_author", "Only the note's author edits or signs a draft.")
    return current


# --- outcome measures -------------------------------------------------------------------


def _scored(answer_name: str, score: Callable[[Any], Decimal], answers: Any) -> Decimal:
    """The instrument's score of `answers`, or the refusal that names the answer."""
    try:
        return score(answers)
    except ScoringError as error:
        raise DomainError(
            "invalid_measure", str(error), fields={answer_name: [str(error)]}
        ) from error


def _record(
    *,
    patient: Patient,
    kind: str,
    value: Decimal,
    version: str,
    by: User | None,
    recorded_at: datetime | None,
    appointment: Appointment | None,
    now: datetime | None,
    **answers: Any,
) -> OutcomeMeasure:
    return OutcomeMeasure.objects.create(
        patient=patient,
        kind=kind,
        value=value,
        instrument_version=version,
        recorded_at=recorded_at or now or timezone.now(),
        recorded_by=by,
        appointment=appointment,
        **answers,
    )


def record_pain(
    *,
    patient: Patient,
    score: int,
    by: User | None,
    recorded_at: datetime | None = None,
    appointment: Appointment | None = None,
    now: datetime | None = None,
) -> OutcomeMeasure:
    """Record a pain score (NRS-11) taken at `recorded_at` (None: `now`)."""
    try:
        value = score_pain(score)
    except ScoringError as error:
        raise DomainError(
            "invalid_measure", "Pain scores run from 0 to 10.", fields={"value": ["0 to 10."]}
        ) from error
    return _record(
        patient=patient,
        kind=MeasureKind.PAIN,
        value=value,
        version=PAIN_VERSION,
        by=by,
        recorded_at=recorded_at,
        appointment=appointment,
        now=now,
    )


def record_odi(
    *,
    patient: Patient,
    answers: list[int | None],
    by: User | None,
    recorded_at: datetime | None = None,
    appointment: Appointment | None = None,
    now: datetime | None = None,
) -> OutcomeMeasure:
    """Score and record an Oswestry Disability Index questionnaire taken at `recorded_at`
    (None: `now`)."""
    return _record(
        patient=patient,
        kind=MeasureKind.ODI,
        value=_scored("odi_answers", odi_percent, answers),
        version=ODI_VERSION,
        odi_answers=list(answers),
        by=by,
        recorded_at=recorded_at,
        appointment=appointment,
        now=now,
    )


def record_rmdq(
    *,
    patient: Patient,
    answers: list[bool | None],
    by: User | None,
    recorded_at: datetime | None = None,
    appointment: Appointment | None = None,
    now: datetime | None = None,
) -> OutcomeMeasure:
    """Score and record a Roland-Morris Disability Questionnaire (24 statements, yes or no,
    None where unanswered: at most two, prorated) taken at `recorded_at` (None: `now`)."""
    return _record(
        patient=patient,
        kind=MeasureKind.RMDQ,
        value=_scored("rmdq_answers", score_rmdq, answers),
        version=RMDQ_VERSION,
        rmdq_answers=list(answers),
        by=by,
        recorded_at=recorded_at,
        appointment=appointment,
        now=now,
    )


def record_psfs(
    *,
    patient: Patient,
    activities: list[PsfsActivity],
    by: User | None,
    recorded_at: datetime | None = None,
    appointment: Appointment | None = None,
    now: datetime | None = None,
) -> OutcomeMeasure:
    """Score and record a Patient-Specific Functional Scale: the patient's 3-5 activities,
    each named and rated 0-10, taken at `recorded_at` (None: `now`)."""
    value = _scored("psfs", score_psfs, activities)
    return _record(
        patient=patient,
        kind=MeasureKind.PSFS,
        value=value,
        version=PSFS_VERSION,
        psfs_activities=[item.activity.strip() for item in activities],
        psfs_scores=[item.score for item in activities],
        by=by,
        recorded_at=recorded_at,
        appointment=appointment,
        now=now,
    )


# --- the home programme -------------------------------------------------------------------

# How many days after the day it records a patient may still correct a log (or log a day
# they forgot): long enough for a weekend away, short enough that the log is a record.
LOG_EDITABLE_DAYS = 3
HOME_EXERCISE_DOSE = ("sets", "reps", "load_kg", "times_per_week", "notes")
LOG_FIELDS = ("sets_done", "reps_done", "pain", "note")


def _check_treats(by: User, plan: TreatmentPlan) -> None:
    if not treats(by, plan.patient):
        raise DomainError(
            "not_treating_practitioner",
            "Only a practitioner who treats the patient prescribes their home programme.",
        )


def prescribe_home_exercise(
    *,
    plan: TreatmentPlan,
    exercise: Exercise,
    by: User,
    times_per_week: int,
    sets: int | None = None,
    reps: int | None = None,
    load_kg: Decimal | None = None,
    notes: str = "",
    started_on: date | None = None,
    now: datetime | None = None,
) -> HomeExercise:
    """Add an exercise of the library to an active plan's home programme, from `started_on`
    (None: today; never earlier). Sets, reps and load default to the library's."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    _check_treats(by, plan)
    if plan.status != PlanStatus.ACTIVE:
        raise DomainError("plan_closed", "Only an active plan takes a home programme.")
    if not exercise.active:
        raise DomainError.invalid("exercise", ["This exercise is retired from the library."])
    if started_on is not None and started_on < today:
        raise DomainError.invalid("started_on", ["Cannot start in the past."])
    home_exercise = HomeExercise(
        plan=plan,
        exercise=exercise,
        sets=sets or exercise.default_sets,
        reps=reps or exercise.default_reps,
        load_kg=load_kg if load_kg is not None else exercise.default_load_kg,
        times_per_week=times_per_week,
        notes=notes.strip(),
        started_on=started_on or today,
        prescribed_by=by.practitioner,
    )
    try:
        with transaction.atomic():
            save_at(home_exercise, now)
    except IntegrityError as error:
        raise DomainError(
            "already_prescribed",
            "This exercise is already in the programme: change it instead.",
        ) from error
    return home_exercise


def _current(home_exercise: HomeExercise, by: User) -> HomeExercise:
    current = (
        HomeExercise.objects.select_for_update(of=("self",))
        .select_related("plan__patient", "exercise")
        .get(pk=home_exercise.pk)
    )
    _check_treats(by, current.plan)
    if current.stopped_on is not None:
        raise DomainError("home_exercise_stopped", "This prescription was stopped; it is final.")
    return current


def _stop(home_exercise: HomeExercise, today: date) -> date:
    """Stop it from today, or, if it has not started yet, from its start: never active."""
    stopped_on = max(today, home_exercise.started_on)
    HomeExercise.objects.filter(pk=home_exercise.pk).update(stopped_on=stopped_on)
    return stopped_on


def revise_home_exercise(
    *, home_exercise: HomeExercise, changes: dict[str, Any], by: User, now: datetime | None = None
) -> HomeExercise:
    """Change the dose of a prescribed exercise: the prescription as it was stops today and
    a new version with `changes` (of `HOME_EXERCISE_DOSE`) starts today, so the programme's
    history keeps what was prescribed when."""
    now = now or timezone.now()
    if unknown := set(changes) - set(HOME_EXERCISE_DOSE):
        raise ValueError(f"not a prescription's dose: {sorted(unknown)}")
    with transaction.atomic():
        current = _current(home_exercise, by)
        starts = _stop(current, timezone.localdate(now))
        revised = HomeExercise(
            plan=current.plan,
            exercise=current.exercise,
            **{name: getattr(current, name) for name in HOME_EXERCISE_DOSE},
            started_on=starts,
            prescribed_by=by.practitioner,
        )
        for name, value in changes.items():
            setattr(revised, name, value.strip() if name == "notes" else value)
        save_at(revised, now)
    return revised


def stop_home_exercise(
    *, home_exercise: HomeExercise, by: User, now: datetime | None = None
) -> HomeExercise:
    """Take an exercise off the programme from today."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _current(home_exercise, by)
        current.stopped_on = _stop(current, timezone.localdate(now))
    return current


def _loggable_day(done_on: date, today: date) -> None:
    if done_on > today:
        raise DomainError.invalid("done_on", ["Cannot be in the future."])
    if done_on < today - timedelta(days=LOG_EDITABLE_DAYS):
        raise DomainError.invalid(
            "done_on", [f"Log the last {LOG_EDITABLE_DAYS} days' exercises at most."]
        )


def log_home_exercise(
    *,
    patient: Patient,
    home_exercise: HomeExercise,
    done_on: date,
    sets_done: int,
    reps_done: int,
    pain: int | None = None,
    note: str = "",
    now: datetime | None = None,
) -> HomeExerciseLog:
    """The patient logs what they did of an exercise of their programme on a day (today or
    one of the last `LOG_EDITABLE_DAYS`) on which it was part of their programme."""
    now = now or timezone.now()
    if home_exercise.plan.patient_id != patient.pk:
        raise DomainError.invalid("home_exercise", ["Not an exercise of your programme."])
    _loggable_day(done_on, timezone.localdate(now))
    if done_on < home_exercise.started_on or (
        home_exercise.stopped_on is not None and done_on >= home_exercise.stopped_on
    ):
        raise DomainError.invalid("done_on", ["This exercise was not in your programme then."])
    log = HomeExerciseLog(
        home_exercise=home_exercise,
        patient_id=patient.pk,
        exercise_id=home_exercise.exercise_id,
        done_on=done_on,
        sets_done=sets_done,
        reps_done=reps_done,
        pain=pain,
        note=note.strip(),
    )
    try:
        with transaction.atomic():
            save_at(log, now)
    except IntegrityError as error:
        raise DomainError(
            "already_logged",
            "You logged this exercise for that day already: change that log instead.",
        ) from error
    return log


def correct_home_exercise_log(
    *, log: HomeExerciseLog, changes: dict[str, Any], now: datetime | None = None
) -> HomeExerciseLog:
    """The patient corrects a log of theirs (`LOG_FIELDS`) within `LOG_EDITABLE_DAYS` of
    the day it records."""
    now = now or timezone.now()
    if unknown := set(changes) - set(LOG_FIELDS):
        raise ValueError(f"not a log's field: {sorted(unknown)}")
    with transaction.atomic():
        log = HomeExerciseLog.objects.select_for_update().get(pk=log.pk)
        if log.done_on < timezone.localdate(now) - timedelta(days=LOG_EDITABLE_DAYS):
            raise DomainError(
                "log_closed", f"A log is corrected within {LOG_EDITABLE_DAYS} days of its day."
            )
        for name, value in changes.items():
            setattr(log, name, value.strip() if name == "note" else value)
        save_at(log, now)
    return log
