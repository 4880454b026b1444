"""Courses of care booked in one step: "six myotherapy sessions weekly", "NMPT Tue/Thu 7:00
for eight weeks", "maintenance every four weeks".

A course is a rule (`CourseRule`: from a first date, every N weeks on chosen weekdays at one
time of the location's clock, for N visits or until a date) and the appointments it made.
`preview_course` answers visit by visit whether the time is free and, where it is not, the
nearest alternatives; `book_course` books them, each visit through `book_appointment` with
every check and database constraint of a single booking (no visit is exempt because it is
part of a series), all or nothing in one transaction, or the free ones only, or with the
alternatives the caller chose.

Refusals (`DomainError` codes): `invalid` (the rule, naming the field), `course_not_bookable`
(all or nothing, and some visits were refused: `visits` lists each with its own code),
`nothing_to_book` (every visit skipped or refused).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from kernel.errors import DomainError
from patients.models import Patient
from practice.models import Location, Practitioner, Service

from .availability import Slot, free_slots
from .models import (
    MAX_COURSE_INTERVAL_WEEKS,
    MAX_COURSE_VISITS,
    OCCUPYING_STATUSES,
    Appointment,
    Course,
    Source,
)
from .services import book_appointment
from .signals import course_booked

# Alternatives offered for a visit whose time is taken, nearest first, one of each kind.
SAME_DAY, OTHER_PRACTITIONER, NEXT_DAY = "same_day", "other_practitioner", "next_day"
# How many days after a taken visit the "next day" alternative may fall on.
NEXT_DAY_SEARCH_DAYS = 3
# A course ends within this of its first date, whatever its rule says.
MAX_COURSE_SPAN = timedelta(days=400)


@dataclass(frozen=True)
class CourseRule:
    """When the visits fall. `weekdays`: 0 = Monday .. 6 = Sunday; empty means the first
    date's weekday. Exactly one of `visits` and `until` ends the course."""

    first_date: date
    at: time
    weekdays: Collection[int] = ()
    every_weeks: int = 1
    visits: int | None = None
    until: date | None = None

    def checked(self) -> CourseRule:
        """The rule as booked (weekdays sorted, the first date's when none), or `invalid`
        naming the field."""
        weekdays = sorted(self.weekdays) if self.weekdays else [self.first_date.weekday()]
        if any(day not in range(7) for day in weekdays):
            raise DomainError.invalid("weekdays", ["Days are 0 (Monday) to 6 (Sunday)."])
        if len(set(weekdays)) != len(weekdays):
            raise DomainError.invalid("weekdays", ["Name each day once."])
        if not 1 <= self.every_weeks <= MAX_COURSE_INTERVAL_WEEKS:
            raise DomainError.invalid(
                "every_weeks", [f"From 1 to {MAX_COURSE_INTERVAL_WEEKS} weeks."]
            )
        if (self.visits is None) == (self.until is None):
            raise DomainError.invalid("visits", ["Give either how many visits or an end date."])
        if self.visits is not None and not 1 <= self.visits <= MAX_COURSE_VISITS:
            raise DomainError.invalid("visits", [f"From 1 to {MAX_COURSE_VISITS} visits."])
        if self.until is not None:
            if self.until < self.first_date:
                raise DomainError.invalid("until", ["Must not be before the first date."])
            if self.until - self.first_date > MAX_COURSE_SPAN:
                raise DomainError.invalid(
                    "until", [f"A course spans at most {MAX_COURSE_SPAN.days} days."]
                )
        rule = CourseRule(
            first_date=self.first_date,
            at=self.at.replace(second=0, microsecond=0, tzinfo=None),
            weekdays=tuple(weekdays),
            every_weeks=self.every_weeks,
            visits=self.visits,
            until=self.until,
        )
        if self.until is not None and len(rule.days()) > MAX_COURSE_VISITS:
            raise DomainError.invalid(
                "until", [f"That makes more than {MAX_COURSE_VISITS} visits; end it sooner."]
            )
        if not rule.days():
            raise DomainError.invalid("until", ["No visit falls between the dates."])
        return rule

    def days(self) -> list[date]:
        """The visits' dates: in every `every_weeks`-th week from the first date's, on the
        rule's weekdays, none before the first date, until the count or the end date."""
        days: list[date] = []
        monday = self.first_date - timedelta(days=self.first_date.weekday())
        last = self.until or self.first_date + MAX_COURSE_SPAN
        while monday <= last and len(days) < (self.visits or MAX_COURSE_VISITS + 1):
            for weekday in sorted(self.weekdays):
                day = monday + timedelta(days=weekday)
                if self.first_date <= day <= last and len(days) < (
                    self.visits or MAX_COURSE_VISITS + 1
                ):
                    days.append(day)
            monday += timedelta(weeks=self.every_weeks)
        return days

    def starts(self, location: Location) -> list[datetime]:
        """The visits' starts: the rule's time on the location's clock on each day."""
        return [
            datetime.combine(day, self.at, tzinfo=location.zone).astimezone(UTC)
            for day in self.days()
        ]


@dataclass(frozen=True)
class Alternative:
    kind: str  # SAME_DAY, OTHER_PRACTITIONER or NEXT_DAY
    start: datetime
    practitioner_id: int


@dataclass(frozen=True)
class VisitCheck:
    """One visit of a previewed course: its time, whether it is free for the patient with
    the course's practitioner, and if not, why (`reason`, a refusal code) and what is near."""

    number: int  # 1 for the first visit
    start: datetime
    practitioner_id: int | None  # None: nobody is free for the first visit
    free: bool
    reason: str = ""
    alternatives: tuple[Alternative, ...] = ()


@dataclass(frozen=True)
class Preview:
    practitioner: Practitioner | None  # None: nobody is free for the first visit
    visits: list[VisitCheck]


def preview_course(
    *,
    service: Service,
    location: Location,
    rule: CourseRule,
    practitioner: Practitioner | None = None,
    patient: Patient | None = None,
    online: bool = False,
    now: datetime | None = None,
) -> Preview:
    """Each visit of the course, free or not, with alternatives for those that are not.

    `practitioner` None means "whoever is free for the first visit, then the same for all".
    Free is what `free_slots` offers (the same scheduling core: working hours, leave, the
    practitioner and a room place free, the online rules when `online`), with the patient's
    own bookings taken out; the booking itself checks the rest (e.g. the new-patient rule).
    One search over the whole course, whatever its length."""
    now = now or timezone.now()
    rule = rule.checked()
    starts = rule.starts(location)
    last_day = rule.days()[-1] + timedelta(days=NEXT_DAY_SEARCH_DAYS)
    slots = free_slots(service, rule.days()[0], last_day, location=location, online=online, now=now)
    patient_busy = _patient_busy(patient, starts[0], last_day, location) if patient else []
    free = _FreeTimes(
        [slot for slot in slots if not _overlaps(slot, patient_busy)], location, service
    )
    if practitioner is None:
        chosen_id = free.first_practitioner_at(starts[0])
        practitioner = Practitioner.objects.filter(pk=chosen_id).first() if chosen_id else None
        if practitioner is None:
            return Preview(
                None, [_taken(n, start, None, free, starts) for n, start in _numbered(starts)]
            )
    visits = []
    for number, start in _numbered(starts):
        if free.has(start, practitioner.pk):
            visits.append(VisitCheck(number, start, practitioner.pk, free=True))
        else:
            visits.append(_taken(number, start, practitioner.pk, free, starts))
    return Preview(practitioner, visits)


@dataclass
class VisitResult:
    number: int
    start: datetime
    practitioner_id: int
    appointment: Appointment | None = None
    refused: DomainError | None = None
    skipped: bool = False


@dataclass
class CourseBooking:
    course: Course
    visits: list[VisitResult] = field(default_factory=list)

    @property
    def booked(self) -> list[Appointment]:
        return [visit.appointment for visit in self.visits if visit.appointment is not None]


@dataclass(frozen=True)
class Choice:
    """What to do with one visit instead of its rule's time: skip it, or book an
    alternative (a start, and a practitioner when not the course's)."""

    skip: bool = False
    start: datetime | None = None
    practitioner: Practitioner | None = None


def book_course(
    *,
    patient: Patient,
    service: Service,
    practitioner: Practitioner,
    location: Location,
    rule: CourseRule,
    choices: Mapping[int, Choice] | None = None,
    free_only: bool = False,
    source: str = Source.RECEPTION,
    created_by: User | None = None,
    now: datetime | None = None,
) -> CourseBooking:
    """Book every visit of the course, each by `book_appointment` (its checks, its
    constraints, its messages' reminders), in one transaction.

    `choices` replaces visits (by number) with a chosen alternative or skips them. With
    `free_only`, a visit that is refused is left out and the rest are booked; otherwise one
    refusal refuses the course (`course_not_bookable`, each refused visit with its code) and
    nothing is booked. A course with no visit booked is refused (`nothing_to_book`)."""
    now = now or timezone.now()
    rule = rule.checked()
    choices = choices or {}
    unknown = set(choices) - set(range(1, len(rule.days()) + 1))
    if unknown:
        raise DomainError.invalid(
            "choices", [f"No visit {n} in this course." for n in sorted(unknown)]
        )
    with transaction.atomic():
        course = Course.objects.create(
            patient=patient,
            service=service,
            practitioner=practitioner,
            location=location,
            first_date=rule.first_date,
            at=rule.at,
            weekdays=list(rule.weekdays),
            every_weeks=rule.every_weeks,
            visits=rule.visits,
            until=rule.until,
            source=source,
            created_by=created_by,
            created_at=now,
        )
        booking = CourseBooking(course)
        for number, start in _numbered(rule.starts(location)):
            choice = choices.get(number, Choice())
            visit = VisitResult(
                number,
                choice.start or start,
                (choice.practitioner or practitioner).pk,
                skipped=choice.skip,
            )
            booking.visits.append(visit)
            if choice.skip:
                continue
            try:
                visit.appointment = book_appointment(
                    patient=patient,
                    service=service,
                    practitioner=choice.practitioner or practitioner,
                    start=visit.start,
                    location=location,
                    source=source,
                    created_by=created_by,
                    course=course,
                    now=now,
                )
            except DomainError as refusal:
                visit.refused = refusal
        refused = [visit for visit in booking.visits if visit.refused is not None]
        refusals = {"visits": [_refusal_of(visit, location) for visit in refused]}
        if refused and not free_only:
            raise DomainError(
                "course_not_bookable",
                f"{len(refused)} of the course's visits cannot be booked as asked; "
                "choose alternatives, skip them, or book the free ones only.",
                extra=refusals,
            )
        if not booking.booked:
            raise DomainError(
                "nothing_to_book", "None of the course's visits can be booked.", extra=refusals
            )
        course_booked.send(sender=Course, course=course, appointments=booking.booked, now=now)
    return booking


def _refusal_of(visit: VisitResult, location: Location) -> dict[str, object]:
    assert visit.refused is not None
    return {
        "number": visit.number,
        "start": visit.start.astimezone(location.zone).isoformat(),
        "code": visit.refused.code,
        "detail": visit.refused.detail,
    }


def _numbered(starts: Sequence[datetime]) -> list[tuple[int, datetime]]:
    return list(enumerate(starts, start=1))


class _FreeTimes:
    """The free starts of one search, by practitioner and by local day."""

    def __init__(self, slots: list[Slot], location: Location, service: Service) -> None:
        self.zone = location.zone
        self.duration = service.duration
        self.free: set[tuple[datetime, int]] = set()
        self.by_day: dict[tuple[date, int], list[datetime]] = defaultdict(list)
        self.by_start: dict[datetime, list[int]] = defaultdict(list)
        for slot in slots:
            self.free.add((slot.start, slot.practitioner_id))
            self.by_day[self.day_of(slot.start), slot.practitioner_id].append(slot.start)
            self.by_start[slot.start].append(slot.practitioner_id)

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def has(self, start: datetime, practitioner_id: int) -> bool:
        return (start, practitioner_id) in self.free

    def first_practitioner_at(self, start: datetime) -> int | None:
        return min(self.by_start.get(start, ()), default=None)

    def nearest_on(
        self, day: date, practitioner_id: int, wanted: datetime, avoid: list[datetime]
    ) -> datetime | None:
        """The free start of that day nearest the wanted time of day, clear of `avoid`."""
        wanted_local = wanted.astimezone(self.zone)
        wanted_minute = wanted_local.hour * 60 + wanted_local.minute

        def distance(start: datetime) -> int:
            local = start.astimezone(self.zone)
            return abs(local.hour * 60 + local.minute - wanted_minute)

        candidates = [
            start
            for start in self.by_day.get((day, practitioner_id), ())
            if not any(abs(start - other) < self.duration for other in avoid)
        ]
        return min(candidates, key=lambda start: (distance(start), start), default=None)


def _taken(
    number: int,
    start: datetime,
    practitioner_id: int | None,
    free: _FreeTimes,
    starts: list[datetime],
) -> VisitCheck:
    """A visit whose time is not free, with the nearest alternatives: the same day at
    another time, the same time with another practitioner, the next days."""
    others = [other for other in starts if other != start]
    alternatives = []
    day = free.day_of(start)
    if practitioner_id is not None:
        same_day = free.nearest_on(day, practitioner_id, start, others)
        if same_day is not None:
            alternatives.append(Alternative(SAME_DAY, same_day, practitioner_id))
    colleagues = sorted(set(free.by_start.get(start, ())) - {practitioner_id})
    if colleagues:
        alternatives.append(Alternative(OTHER_PRACTITIONER, start, colleagues[0]))
    if practitioner_id is not None:
        for ahead in range(1, NEXT_DAY_SEARCH_DAYS + 1):
            later = free.nearest_on(day + timedelta(days=ahead), practitioner_id, start, others)
            if later is not None:
                alternatives.append(Alternative(NEXT_DAY, later, practitioner_id))
                break
    return VisitCheck(
        number,
        start,
        practitioner_id,
        free=False,
        reason="slot_unavailable",
        alternatives=tuple(alternatives),
    )


def _patient_busy(
    patient: Patient, first: datetime, last_day: date, location: Location
) -> list[tuple[datetime, datetime]]:
    until = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=location.zone)
    return list(
        Appointment.objects.filter(
            patient=patient, status__in=OCCUPYING_STATUSES, end__gt=first, start__lt=until
        ).values_list("start", "end")
    )


def _overlaps(slot: Slot, busy: list[tuple[datetime, datetime]]) -> bool:
    return any(start < slot.end and slot.start < end for start, end in busy)
