"""The clinic's outcomes report, for the manager: of the patients who started care in a
period, how many reached a clinically important improvement in the Oswestry Disability
Index and in pain by 6 and by 12 weeks after their baseline, overall and by service,
practitioner or pathway phase, and how many sessions it took. One function,
`outcomes_report`, that the admin's page, its CSV and the API all ask.

What it counts:

- **Started care**: a patient's first completed appointment (of any service) falls in the
  period, on the clinic's calendar. Every completed appointment from then on is a session.
- **Improved by T weeks**: for each measure (ODI, pain), a measurement recorded after the
  patient's baseline and at most T weeks after it that `treatments.change.classify` calls
  an important improvement (the thresholds of `ImportantChange`; the baseline is the
  patient's first measurement of that kind, as everywhere else).
- **Not improved**: measured again within T weeks of the baseline, never improved.
- **Not measured**: no baseline, or no measurement after it within T weeks: reported on
  its own, never as a failure.
- **Too early**: the last day of the T weeks after the baseline (or after the start,
  without a baseline) is today or later: left out of every figure but this one, whatever
  the patient's scores so far, so that the share is not flattered by early improvers.
  Time points are clinic days (daylight saving moves no one across one).
- The share improved is improved / (improved + not improved), always with both counts.
- **Sessions to improve**: for those who improved by 12 weeks, the sessions (completed
  appointments) from the start up to the moment the improvement was recorded, that
  session included; the median, with its n.

Each patient is in one group of each grouping, so that the groups add up to the whole:
- **service** and **practitioner**: those of most of the patient's sessions in their first
  12 weeks (a tie goes to the one seen first);
- **pathway phase**: the furthest phase of the patient's plans started within those 12
  weeks (assess when none).

**Small groups are withheld** (privacy: a group of two patients is two people): a group with
fewer than `CLINIC_OUTCOMES_MIN_COUNT` patients (5 unless set) shows no figure, only that it
is small. Since the groups add up to the overall figures, one withheld group could be worked
out by subtraction; so whenever a grouping withholds any group, it withholds, smallest first,
as many others as it takes for at least two to be withheld with together at least the
minimum count of patients (complementary suppression). The overall row is withheld when the
whole cohort is below the minimum. Figures within a group that is shown are not withheld
further: each is given with its n. (Each grouping is protected on its own: setting the
table by service beside the one by practitioner is not guarded against.)

Reads five queries at most, whatever the number of patients: the cohort's sessions, their
plans' phases, the thresholds, their ODI and pain scores, and the services or practitioners
that name the groups.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Min, TextChoices
from django.utils import timezone

from appointments.models import Appointment, Status
from kernel.errors import DomainError
from kernel.rest import clinic_midnight
from practice.models import Practitioner, Service

from .change import IMPROVED, Scored, changes_of, thresholds
from .models import PHASE_ORDER, MeasureKind, OutcomeMeasure, Phase, PlanPhase

WEEKS = (6, 12)
MEASURES = (MeasureKind.ODI, MeasureKind.PAIN)
MEASURE_NAMES = {MeasureKind.ODI: "ODI", MeasureKind.PAIN: "Pain"}  # short, for tables
# How long after the start a patient's sessions say which service, practitioner and phase
# their care was: the report's longest time point.
HORIZON = timedelta(weeks=max(WEEKS))


class GroupBy(TextChoices):
    SERVICE = "service", "Service"
    PRACTITIONER = "practitioner", "Practitioner"
    PHASE = "phase", "Pathway phase"


class Withheld(TextChoices):
    FEWER_THAN_MIN = "fewer_than_min_count", "fewer than the minimum count of patients"
    COMPLEMENTARY = "complementary", "withheld so that a smaller group cannot be worked out"


@dataclass
class Tally:
    """One measure at one time point, for one group of patients."""

    improved: int = 0
    not_improved: int = 0
    not_measured: int = 0
    too_early: int = 0

    @property
    def measured(self) -> int:
        return self.improved + self.not_improved

    @property
    def share(self) -> float | None:
        """improved / measured, or None when nobody was measured."""
        return self.improved / self.measured if self.measured else None


@dataclass
class SessionsToImprove:
    """The sessions it took each patient who improved by 12 weeks, for one measure."""

    sessions: list[int] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.sessions)

    @property
    def median(self) -> float | None:
        return float(statistics.median(self.sessions)) if self.sessions else None


@dataclass
class Row:
    """The figures of one group (or of the whole cohort); all None when withheld."""

    key: str  # the group's id or value ("" for the whole cohort)
    label: str
    patients: int
    withheld: str | None = None  # a `Withheld`, or None when shown
    tallies: dict[tuple[str, int], Tally] = field(default_factory=dict)  # (measure, weeks)
    sessions: dict[str, SessionsToImprove] = field(default_factory=dict)  # by measure

    @property
    def patients_shown(self) -> int | None:
        """The number of patients, as pages may show it: None for a withheld group (the
        complementary ones would give away the small ones)."""
        return None if self.withheld else self.patients


@dataclass(frozen=True)
class OutcomesReport:
    start: date
    end: date
    by: str
    min_count: int
    overall: Row
    groups: list[Row]


def min_count() -> int:
    return settings.CLINIC_OUTCOMES_MIN_COUNT


def default_period(today: date) -> tuple[date, date]:
    """The last twelve months: the 365 days up to `today`, both included."""
    return today - timedelta(days=364), today


def outcomes_report(*, start: date, end: date, by: str, now: datetime) -> OutcomesReport:
    """The report of the patients who started care from `start` to `end` (clinic dates,
    both included), grouped `by` a `GroupBy`, as things stood at `now`."""
    if start > end:
        raise DomainError.invalid("to", ["The period must end on or after its first day."])
    if by not in GroupBy.values:
        raise DomainError.invalid("by", [f"Choose one of: {', '.join(GroupBy.values)}."])
    cohort = _cohort(start, end)
    patients = _patients(cohort, now=now) if cohort else {}
    keys = {patient: _group_of(record, by) for patient, record in patients.items()}
    labels = _labels(by, set(keys.values()))
    least = min_count()
    overall = _row("", "All patients", patients.values())
    if overall.patients < least:
        _withhold(overall, Withheld.FEWER_THAN_MIN)
    members: dict[str, list[_Patient]] = defaultdict(list)
    for patient, key in keys.items():
        members[key].append(patients[patient])
    groups = [_row(key, labels[key], records) for key, records in members.items()]
    if by == GroupBy.PHASE:  # in the pathway's order
        groups.sort(key=lambda row: PHASE_ORDER.index(row.key))
    else:
        groups.sort(key=lambda row: (row.label.casefold(), row.key))
    _suppress(groups, least)
    return OutcomesReport(start, end, by, least, overall, groups)


# --- reading -------------------------------------------------------------------------------


@dataclass
class _Patient:
    sessions: list[tuple[datetime, int, int]]  # (start, service, practitioner), in order
    phase: str = Phase.ASSESS
    # (measure, weeks) -> IMPROVED / "not_improved" / "not_measured" / "too_early"
    outcomes: dict[tuple[str, int], str] = field(default_factory=dict)
    sessions_to_improve: dict[str, int] = field(default_factory=dict)  # by measure

    @property
    def started_at(self) -> datetime:
        return self.sessions[0][0]

    @property
    def horizon(self) -> date:
        """The last day of the first 12 weeks of care."""
        return timezone.localdate(self.started_at) + HORIZON


NOT_IMPROVED, NOT_MEASURED, TOO_EARLY = "not_improved", "not_measured", "too_early"


def _cohort(start: date, end: date) -> dict[int, list[tuple[datetime, int, int]]]:
    """Every completed session of the patients whose first one is in the period (one
    query)."""
    completed = Appointment.objects.filter(status=Status.COMPLETED)
    starters = (
        completed.values("patient_id")
        .annotate(first=Min("start"))
        .filter(first__gte=clinic_midnight(start), first__lt=clinic_midnight(end + timedelta(1)))
        .values("patient_id")
    )
    sessions: dict[int, list[tuple[datetime, int, int]]] = defaultdict(list)
    for patient, at, service, practitioner in (
        completed.filter(patient_id__in=starters)
        .order_by("patient_id", "start", "pk")
        .values_list("patient_id", "start", "service_id", "practitioner_id")
    ):
        sessions[patient].append((at, service, practitioner))
    return sessions


def _patients(
    cohort: dict[int, list[tuple[datetime, int, int]]], *, now: datetime
) -> dict[int, _Patient]:
    """Each patient of the cohort with their phase and their outcomes (three queries)."""
    today = timezone.localdate(now)
    patients = {patient: _Patient(sessions) for patient, sessions in cohort.items()}
    ids = list(patients)
    for patient, phase, started_on in PlanPhase.objects.filter(
        plan__patient_id__in=ids, started_on__isnull=False
    ).values_list("plan__patient_id", "phase", "started_on"):
        record = patients[patient]
        if started_on <= record.horizon and PHASE_ORDER.index(phase) > PHASE_ORDER.index(
            record.phase
        ):
            record.phase = phase
    rows = list(
        OutcomeMeasure.objects.filter(patient_id__in=ids, kind__in=MEASURES)
        .order_by("patient_id", "kind", "recorded_at", "pk")
        .values_list("pk", "patient_id", "kind", "value", "recorded_at")
    )
    changes = changes_of(
        (Scored(pk, patient, kind, value) for pk, patient, kind, value, _ in rows), thresholds()
    )
    series: dict[tuple[int, str], list[tuple[datetime, str]]] = defaultdict(list)
    for pk, patient, kind, _, recorded_at in rows:
        series[patient, kind].append((recorded_at, changes[pk].verdict))
    for patient, record in patients.items():
        for kind in MEASURES:
            _outcomes(record, kind, series.get((patient, kind), []), today=today)
    return patients


def _outcomes(
    record: _Patient, kind: str, series: list[tuple[datetime, str]], *, today: date
) -> None:
    """Where the patient stands in `kind` at each time point. Time points are clinic days:
    "by 6 weeks" is up to the same weekday six weeks after the baseline's day, included,
    whatever the clock did in between (daylight saving), and a time point is over once its
    last day is."""
    first = series[0][0] if series else record.started_at
    for weeks in WEEKS:
        until = timezone.localdate(first) + timedelta(weeks=weeks)
        follow_ups = [(at, v) for at, v in series[1:] if timezone.localdate(at) <= until]
        if until >= today:
            outcome = TOO_EARLY
        elif any(verdict == IMPROVED for _, verdict in follow_ups):
            outcome = IMPROVED
        else:
            outcome = NOT_IMPROVED if follow_ups else NOT_MEASURED
        record.outcomes[kind, weeks] = outcome
        if weeks == max(WEEKS) and outcome == IMPROVED:
            improved_at = next(at for at, verdict in follow_ups if verdict == IMPROVED)
            record.sessions_to_improve[kind] = sum(
                1 for at, _, _ in record.sessions if at <= improved_at
            )


def _group_of(record: _Patient, by: str) -> str:
    if by == GroupBy.PHASE:
        return str(record.phase)
    column = 1 if by == GroupBy.SERVICE else 2
    seen = [s[column] for s in record.sessions if timezone.localdate(s[0]) <= record.horizon]
    counts = Counter(seen)
    # The most sessions; a tie goes to the one seen first.
    return str(max(counts, key=lambda key: (counts[key], -seen.index(key))))


def _labels(by: str, keys: set[str]) -> dict[str, str]:
    """What each group is called (one query for services or practitioners)."""
    if by == GroupBy.PHASE:
        return {key: str(Phase(key).label) for key in keys}
    if not keys:
        return {}
    ids = [int(key) for key in keys]
    if by == GroupBy.SERVICE:
        return {str(s.pk): s.name for s in Service.objects.filter(pk__in=ids)}
    return {
        str(p.pk): str(p) for p in Practitioner.objects.filter(pk__in=ids).select_related("user")
    }


# --- counting and withholding ----------------------------------------------------------------


def _row(key: str, label: str, records) -> Row:
    records = list(records)
    row = Row(key=key, label=label, patients=len(records))
    for kind in MEASURES:
        for weeks in WEEKS:
            tally = row.tallies[kind, weeks] = Tally()
            for record in records:
                outcome = record.outcomes[kind, weeks]
                setattr(tally, outcome, getattr(tally, outcome) + 1)
        row.sessions[kind] = SessionsToImprove(
            sorted(r.sessions_to_improve[kind] for r in records if kind in r.sessions_to_improve)
        )
    return row


def _withhold(row: Row, reason: str) -> None:
    row.withheld = reason
    row.tallies = {}
    row.sessions = {}


def _suppress(groups: list[Row], least: int) -> None:
    """Withhold the groups below `least` patients, then, while what is withheld could be
    worked out from the overall figures (one group alone, or groups that together are
    below `least`), the smallest group still shown."""
    for row in groups:
        if row.patients < least:
            _withhold(row, Withheld.FEWER_THAN_MIN)
    while True:
        withheld = [row for row in groups if row.withheld]
        shown = [row for row in groups if not row.withheld]
        if not withheld or not shown:
            return
        if len(withheld) >= 2 and sum(row.patients for row in withheld) >= least:
            return
        _withhold(min(shown, key=lambda row: row.patients), Withheld.COMPLEMENTARY)
