"""Who may read clinical records: the one place that decides it.

Managers read every patient's records; a practitioner those of the patients in their care
(`care.selectors.in_care_of`: a booking someone else made, an assignment by
reception or a manager, or a "break the glass" that has not expired); reception and other
patients nobody's. Patients read their own signed notes and scores through their export,
not through these.
"""

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role, roles_of
from appointments.models import Appointment, Status
from care.selectors import in_care_of, is_in_care_of
from patients.models import Patient

from .change import WORSE, Scored, changes_of
from .models import (
    SCHEDULED_MEASURES,
    Addendum,
    Exercise,
    ExerciseEntry,
    HomeExercise,
    HomeExerciseLog,
    ImportantChange,
    Intake,
    OutcomeMeasure,
    PlanPhase,
    PlanStatus,
    RedFlag,
    RiskScreening,
    TreatmentNote,
    TreatmentPlan,
)


def _clinical_records_of(user: User, patient: str) -> Q:
    """The rows whose `patient` column names a patient whose clinical records `user` reads:
    a filter on the records' own column, so that a list of them and its count are checked
    row by row against the care relationships (`care.selectors.in_care_of`) rather than
    joined to the patient register first."""
    roles = roles_of(user)
    if Role.MANAGER in roles:
        return Q()
    if Role.PRACTITIONER in roles and hasattr(user, "practitioner"):
        return in_care_of(user.practitioner, patient)
    return Q(pk__in=[])  # nobody's: no query is run at all


def clinical_patients_for(user: User) -> QuerySet[Patient]:
    return Patient.objects.filter(_clinical_records_of(user, "pk"))


def sessions_that_can_carry_a_note(now: datetime | None = None) -> Q:
    """The one rule for which sessions a note may record: a session that is taking place or
    took place. That is one checked in or completed, or one still booked whose start has
    passed (reception may not have checked the patient in). A session that has not started,
    a cancelled one or a no-show never carries a note, so that no signed record (nor its pain
    score in the outcome series) describes a visit that did not happen. The API, the admin
    and `treatments.services` all ask this; `appointments.services` keeps the other half
    (a session with a note is not cancelled, moved or marked a no-show)."""
    now = now or timezone.now()
    return Q(status__in=[Status.CHECKED_IN, Status.COMPLETED]) | Q(
        status=Status.BOOKED, start__lte=now
    )


def can_carry_a_note(appointment: Appointment) -> bool:
    """Whether this session can carry a note now (`sessions_that_can_carry_a_note`), for a
    page about one session: one query."""
    return Appointment.objects.filter(sessions_that_can_carry_a_note(), pk=appointment.pk).exists()


def clinical_patient_ids_among(user: User, patient_ids: Iterable[int]) -> set[int]:
    """Which of these patients' clinical records `user` may read (one query): for pages
    that show many patients and the clinical part (red-flag reasons) only for some."""
    ids = set(patient_ids)
    if not ids:
        return set()
    return set(clinical_patients_for(user).filter(pk__in=ids).values_list("pk", flat=True))


def sessions_to_write_up_for(user: User) -> QuerySet[Appointment]:
    """The sessions whose note the user may start: their own, as the session's
    practitioner (a manager writes no notes), that can carry a note."""
    practitioner = getattr(user, "practitioner", None)
    if practitioner is None or Role.PRACTITIONER not in roles_of(user):
        return Appointment.objects.none()
    return Appointment.objects.filter(sessions_that_can_carry_a_note(), practitioner=practitioner)


def notes_for(user: User) -> QuerySet[TreatmentNote]:
    return (
        TreatmentNote.objects.filter(_clinical_records_of(user, "patient"))
        .select_related(
            "appointment__patient",
            "appointment__service",
            "appointment__location",
            "author__user",
        )
        .prefetch_related("exercises", Prefetch("addenda", queryset=_addenda()))
    )


def exercise_logs_of(note_ids: Iterable[int]) -> QuerySet[ExerciseEntry]:
    """The entries of these notes' exercise logs, note by note, each log in its order: for
    answers about notes the caller read through `notes_for` (their ids come from there)."""
    return ExerciseEntry.objects.filter(note_id__in=note_ids).order_by("note_id", "position", "pk")


def addenda_of(note_ids: Iterable[int]) -> QuerySet[Addendum]:
    """The addenda of these notes, oldest first: as `exercise_logs_of`."""
    return Addendum.objects.filter(note_id__in=note_ids).order_by("created_at", "pk")


def plans_for(user: User) -> QuerySet[TreatmentPlan]:
    return (
        TreatmentPlan.objects.filter(_clinical_records_of(user, "patient"))
        .select_related("patient", "practitioner__user")
        .prefetch_related(Prefetch("phases", queryset=PlanPhase.objects.order_by("pk")))
    )


def outcomes_for(user: User) -> QuerySet[OutcomeMeasure]:
    return OutcomeMeasure.objects.filter(_clinical_records_of(user, "patient")).select_related(
        "patient"
    )


def with_baselines(measures: QuerySet[OutcomeMeasure]) -> QuerySet[OutcomeMeasure]:
    """Each measure with its patient's baseline of its kind (the first recorded, ties by
    id: `baseline_value`, `baseline_id`) and its kind's threshold of important change
    (`threshold_*`, None without one), for `treatments.change.change_of` to classify a
    page of measures in the page's one query."""
    first = OutcomeMeasure.objects.filter(
        patient_id=OuterRef("patient_id"), kind=OuterRef("kind")
    ).order_by("recorded_at", "pk")
    threshold = ImportantChange.objects.filter(kind=OuterRef("kind"))
    return measures.annotate(
        baseline_value=Subquery(first.values("value")[:1]),
        baseline_id=Subquery(first.values("pk")[:1]),
        **{
            f"threshold_{name}": Subquery(threshold.values(name)[:1])
            for name in ("points", "percent", "direction", "recovered_at_most")
        },
    )


def intakes_for(user: User) -> QuerySet[Intake]:
    """Each intake comes with `red_flags_covered`: whether a clearance covers it (see
    `_covered_by_a_clearance`)."""
    return with_red_flags_covered(
        Intake.objects.filter(_clinical_records_of(user, "patient"))
    ).select_related("patient", "clearance")


# --- red flags: the one rule ------------------------------------------------------------
#
# An intake's red flags stay open until a clearance covers them. A clearance recorded on an
# intake covers that intake and every earlier intake of the patient: the clinician cleared
# what was on record then. So a later intake can add red flags but never remove any; only
# a clearance does. "Earlier" is the order of submission, ties (same instant) by id.


def _covered_by_a_clearance() -> Exists:
    """True for an intake with a clearance on itself or on a later intake of its patient."""
    return Exists(
        Intake.objects.filter(
            Q(submitted_at__gt=OuterRef("submitted_at"))
            | Q(submitted_at=OuterRef("submitted_at"), pk__gte=OuterRef("pk")),
            patient_id=OuterRef("patient_id"),
            clearance__isnull=False,
        )
    )


def with_red_flags_covered(intakes: QuerySet[Intake]) -> QuerySet[Intake]:
    return intakes.annotate(red_flags_covered=_covered_by_a_clearance())


def open_red_flag_intakes(intakes: QuerySet[Intake]) -> QuerySet[Intake]:
    """Those of `intakes` whose red flags no clearance covers."""
    return intakes.exclude(red_flags=[]).exclude(_covered_by_a_clearance())


def has_open_red_flags(patient_id: str = "pk") -> Exists:
    """True for a row whose patient has open red flags (the rule of `open_red_flag_intakes`),
    for a list to annotate: `patient_id` is the path from the row to its patient's id."""
    return Exists(open_red_flag_intakes(Intake.objects.filter(patient_id=OuterRef(patient_id))))


def open_red_flags_by_patient(patient_ids: Iterable[int]) -> dict[int, list[str]]:
    """The open red flags of many patients in one query: the union of the flags of every
    intake that no clearance covers, in the order of `RedFlag`. Patients without open red
    flags are left out. It decides nothing about visibility: the reasons are for
    practitioners and managers; reception shows only that there are some."""
    ids = list(patient_ids)
    if not ids:
        return {}
    raised: dict[int, set[str]] = {}
    for patient_id, red_flags in open_red_flag_intakes(
        Intake.objects.filter(patient_id__in=ids)
    ).values_list("patient_id", "red_flags"):
        raised.setdefault(patient_id, set()).update(red_flags)
    return {
        patient_id: [flag for flag in RedFlag.values if flag in flags]
        for patient_id, flags in raised.items()
    }


def treats(user: User, patient: Patient) -> bool:
    """Whether `user` acts as a practitioner in whose care the patient is
    (`care.selectors.is_in_care_of`): the rule for a clinician's acts on a patient (clearing
    red flags, prescribing home exercises). A manager reads the records but does not act,
    superuser or not, unless they are also the patient's practitioner. (The API and the
    admin also ask for the act's group permission, as for every clinical write.)"""
    practitioner = getattr(user, "practitioner", None)
    return (
        practitioner is not None
        and Role.PRACTITIONER in roles_of(user)
        and is_in_care_of(practitioner, patient)
    )


def may_clear_red_flags(user: User, patient: Patient) -> bool:
    """Clearing a red flag is a clinician's act (`treats`)."""
    return treats(user, patient)


def red_flags_a_clearance_would_cover(intake: Intake) -> list[str]:
    """The open red flags that a clearance recorded on `intake` would close: those of the
    intake itself and of the patient's earlier intakes that no clearance covers yet."""
    earlier = Intake.objects.filter(
        Q(submitted_at__lt=intake.submitted_at)
        | Q(submitted_at=intake.submitted_at, pk__lte=intake.pk),
        patient_id=intake.patient_id,
    )
    flags: set[str] = set()
    for red_flags in open_red_flag_intakes(earlier).values_list("red_flags", flat=True):
        flags.update(red_flags)
    return [flag for flag in RedFlag.values if flag in flags]


def _addenda() -> QuerySet[Addendum]:
    return Addendum.objects.select_related("author__user").order_by("created_at", "pk")


# --- risk screening: the latest STarT Back, and who should be screened again ------------


def latest_risk_by_patient(patient_ids: Iterable[int]) -> dict[int, str]:
    """The risk group of each patient's latest STarT Back screening (one query); patients
    never screened are left out. Like `open_red_flags_by_patient`, it decides nothing about
    visibility: the risk is clinical, for those who read the patient's records."""
    ids = list(patient_ids)
    if not ids:
        return {}
    latest = (
        RiskScreening.objects.filter(patient_id__in=ids)
        .order_by("patient_id", "-answered_at", "-pk")
        .distinct("patient_id")
        .values_list("patient_id", "risk")
    )
    return dict(latest)


def rescreen_due_among(patient_ids: Iterable[int]) -> set[int]:
    """The patients whose latest two measurements of one kind were both an important
    worsening from their baseline (`treatments.change`), and who have not been screened
    (STarT Back) since the latest such worsening: their course is going the wrong way, so
    the clinic asks again how they are at risk. Three queries whatever the patients."""
    ids = list(patient_ids)
    if not ids:
        return set()
    rows = list(
        OutcomeMeasure.objects.filter(patient_id__in=ids)
        .order_by("patient_id", "kind", "recorded_at", "pk")
        .values_list("pk", "patient_id", "kind", "value", "recorded_at")
    )
    changes = changes_of(Scored(pk, patient, kind, value) for pk, patient, kind, value, _ in rows)
    last_two: dict[tuple[int, str], list[tuple[str, datetime]]] = {}
    for pk, patient, kind, _, recorded_at in rows:
        series = last_two.setdefault((patient, kind), [])
        series.append((changes[pk].verdict, recorded_at))
        del series[:-2]
    worsening = {}
    for (patient, _), series in last_two.items():
        if len(series) == 2 and all(verdict == WORSE for verdict, _ in series):
            since = series[-1][1]
            worsening[patient] = max(since, worsening.get(patient, since))
    screened = dict(
        RiskScreening.objects.filter(patient_id__in=worsening)
        .order_by("patient_id", "-answered_at")
        .distinct("patient_id")
        .values_list("patient_id", "answered_at")
    )
    return {
        patient
        for patient, since in worsening.items()
        if patient not in screened or screened[patient] < since
    }


# --- due measures: the plan's schedule against what was last taken ------------------------


@dataclass(frozen=True)
class Scheduled:
    """A questionnaire the patient's active plan schedules, and when it was last taken."""

    kind: str
    every_weeks: int
    last_taken: datetime | None

    def due_on(self, day: date) -> bool:
        """Never taken, or last taken `every_weeks` or more before `day` (clinic days)."""
        return (
            self.last_taken is None
            or timezone.localdate(self.last_taken) + timedelta(weeks=self.every_weeks) <= day
        )


def measure_schedules_among(patient_ids: Iterable[int]) -> dict[int, list[Scheduled]]:
    """The questionnaires each of these patients' active plan schedules
    (`models.SCHEDULED_MEASURES`), with when each was last taken: two queries whatever the
    patients. Patients without a schedule are left out. See `measures_due_on`."""
    ids = list(patient_ids)
    if not ids:
        return {}
    plans = TreatmentPlan.objects.filter(patient_id__in=ids, status=PlanStatus.ACTIVE).values(
        "patient_id", *SCHEDULED_MEASURES.values()
    )
    weeks = {
        (plan["patient_id"], kind): plan[field]
        for plan in plans
        for kind, field in SCHEDULED_MEASURES.items()
        if plan[field] is not None
    }
    if not weeks:
        return {}
    last_taken = {
        (patient, kind): when
        for patient, kind, when in OutcomeMeasure.objects.filter(
            patient_id__in={patient for patient, _ in weeks}, kind__in=list(SCHEDULED_MEASURES)
        )
        .values("patient_id", "kind")
        .annotate(last=Max("recorded_at"))
        .values_list("patient_id", "kind", "last")
    }
    schedules: dict[int, list[Scheduled]] = {}
    for (patient, kind), every in weeks.items():
        schedules.setdefault(patient, []).append(
            Scheduled(kind, every, last_taken.get((patient, kind)))
        )
    return schedules


def measures_due_on(schedules: dict[int, list[Scheduled]], patient_id: int, day: date) -> list[str]:
    """The questionnaires `patient_id` is due on `day`, from `measure_schedules_among`."""
    return [s.kind for s in schedules.get(patient_id, []) if s.due_on(day)]


# --- the home programme: who reads it, what is current, and how well it is kept ------------


def exercise_library(*, active_only: bool = True) -> QuerySet[Exercise]:
    """The clinic's exercises (not patient data: for every clinician), by name."""
    exercises = Exercise.objects.order_by("name", "pk")
    return exercises.filter(active=True) if active_only else exercises


def home_exercises_for(user: User) -> QuerySet[HomeExercise]:
    """The prescribed home exercises of the patients whose clinical records `user` reads."""
    return HomeExercise.objects.filter(_clinical_records_of(user, "plan__patient")).select_related(
        "plan__patient", "exercise", "prescribed_by__user"
    )


def home_exercise_logs_for(user: User) -> QuerySet[HomeExerciseLog]:
    """The home exercise logs of the patients whose clinical records `user` reads."""
    return HomeExerciseLog.objects.filter(_clinical_records_of(user, "patient")).select_related(
        "patient", "exercise"
    )


def on_the_programme(day: date) -> Q:
    """The prescriptions that are part of a programme on `day`: started, not yet stopped,
    of an active plan."""
    return Q(plan__status=PlanStatus.ACTIVE, started_on__lte=day) & (
        Q(stopped_on__isnull=True) | Q(stopped_on__gt=day)
    )


def programme_of(patient: Patient, day: date | None = None) -> QuerySet[HomeExercise]:
    """The patient's home programme on `day` (None: today), for the patient themselves."""
    day = day or timezone.localdate()
    return (
        HomeExercise.objects.filter(on_the_programme(day), plan__patient=patient)
        .select_related("exercise", "prescribed_by__user")
        .order_by("started_on", "pk")
    )


def prescriptions_of(patient: Patient) -> QuerySet[HomeExercise]:
    """Every exercise ever prescribed to the patient, every version: for the patient
    themselves (a log of a day they forgot; their adherence)."""
    return HomeExercise.objects.filter(plan__patient=patient).select_related("plan")


def own_exercise_logs(user: User) -> QuerySet[HomeExerciseLog]:
    """The signed-in patient's own home exercise logs, latest day first (nobody's for a
    user who is no patient)."""
    patient = getattr(user, "patient", None)
    if patient is None:
        return HomeExerciseLog.objects.none()
    return (
        HomeExerciseLog.objects.filter(patient=patient)
        .select_related("exercise")
        .order_by("-done_on", "exercise__name", "pk")
    )


ADHERENCE_WEEKS = 26  # the weeks of adherence a page shows, latest last


@dataclass(frozen=True)
class WeekAdherence:
    """One week (Monday to Sunday, clinic days) of a home programme: how many times the
    programme's exercises are prescribed that week (each its times a week, prorated over
    the days of the week it is on the programme, at least once) and how many of those were
    done (a log counts once a day, and no exercise counts for more than its prescribed
    times). The current week counts the whole week's times: "1 of 3 so far"."""

    week_of: date  # the Monday
    prescribed: int
    done: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.prescribed) if self.prescribed else 0


def adherence_by_week(
    prescriptions: Iterable[HomeExercise], logged: Counter[tuple[int, date]], today: date
) -> list[WeekAdherence]:
    """Weekly adherence (`WeekAdherence`) up to this week, oldest week first, the latest
    `ADHERENCE_WEEKS`. `logged` counts the logs by (prescription id, Monday)."""
    prescribed: Counter[date] = Counter()
    done: Counter[date] = Counter()
    for item in prescriptions:
        last = (item.stopped_on or date.max) - timedelta(days=1)
        day = item.started_on
        while day <= min(last, today):
            monday = day - timedelta(days=day.weekday())
            days_on = (min(last, monday + timedelta(days=6)) - day).days + 1
            # Rounded half up: 3 a week over 3 days is 1.
            expected = max(1, math.floor(item.times_per_week * days_on / 7 + 0.5))
            prescribed[monday] += expected
            done[monday] += min(logged[(item.pk, monday)], expected)
            day = monday + timedelta(days=7)
    weeks = sorted(prescribed)[-ADHERENCE_WEEKS:]
    return [WeekAdherence(monday, prescribed[monday], done[monday]) for monday in weeks]


def adherence_of(prescriptions: QuerySet[HomeExercise], today: date) -> list[WeekAdherence]:
    """Weekly adherence to these prescriptions (a patient's, read through
    `home_exercises_for` or `programme_of`'s patient): two queries."""
    items = list(prescriptions.order_by("started_on", "pk"))
    if not items:
        return []
    logged: Counter[tuple[int, date]] = Counter()
    for home_exercise_id, done_on in HomeExerciseLog.objects.filter(
        home_exercise__in=[item.pk for item in items]
    ).values_list("home_exercise_id", "done_on"):
        logged[(home_exercise_id, done_on - timedelta(days=done_on.weekday()))] += 1
    return adherence_by_week(items, logged, today)
