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
from practice.models import BookingRules, Location, Practitioner, Service

from .availability import FreeStarts, free_starts, is_offered, start_bounds
from .models import (
    MAX_COURSE_INTERVAL_WEEKS,
    MAX_COURSE_VISITS,
    OCCUPYING_STATUSES,
    Appointment,
    Course,
    Source,
    Status,
)
from .services import book_appointment, cancel_appointment
from .signals import course_booked, course_visits_cancelled

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
        # One past the most a course may have, so that `checked` sees an end date's excess.
        limit = self.visits or MAX_COURSE_VISITS + 1
        while monday <= last and len(days) < limit:
            for weekday in sorted(self.weekdays):
                day = monday + timedelta(days=weekday)
                if self.first_date <= day <= last and len(days) < limit:
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
    Free is what `free_slots` offers (the same scheduling core, `free_starts`: working
    hours, leave, the practitioner and a room place free, the online rules when `online`),
    with the patient's own bookings taken out; the booking itself checks the rest (e.g. the
    new-patient rule). Two searches, whatever the course's length: everyone on the visits'
    days (who is free at each visit's time), and the course's practitioner on those days
    and the days after them (the other times of the day, the next days)."""
    now = now or timezone.now()
    rule = rule.checked()
    starts = rule.starts(location)
    days = rule.days()
    numbered = _numbered(starts)
    if not is_offered(service, online=online):
        reason = "service_unavailable" if not service.is_active else "not_bookable_online"
        return Preview(
            practitioner,
            [
                VisitCheck(n, start, getattr(practitioner, "pk", None), False, reason)
                for n, start in numbered
            ],
        )
    rules = BookingRules.current()
    earliest, latest = start_bounds(
        now, online=online, lead_time=rules.online_lead_time, horizon=rules.online_horizon
    )
    next_days = {
        day + timedelta(days=ahead) for day in days for ahead in range(1, NEXT_DAY_SEARCH_DAYS + 1)
    }

    def search(who: Practitioner | None, on: set[date], only: set[int] | None = None) -> FreeStarts:
        return free_starts(
            service,
            days[0],
            max(on),
            who,
            location,
            grid_minutes=rules.slot_grid_minutes,
            earliest=earliest,
            latest=latest,
            now=now,
            days=on,
            only=only,
            over_offers=not online,
        )

    busy = _patient_busy(patient, starts[0], max(next_days), location) if patient else []
    duration = int(service.duration.total_seconds())
    visit_seconds = [int(start.timestamp()) for start in starts]
    free_at: dict[int, list[int]] = defaultdict(list)  # visit start -> who is free then
    wanted = set(visit_seconds)
    for start, practitioner_id, _ in search(None, set(days), wanted).starts:
        if start in wanted and not _overlaps(start, start + duration, busy):
            free_at[start].append(practitioner_id)
    if practitioner is None:
        first_free = min(free_at.get(visit_seconds[0], ()), default=None)
        practitioner = Practitioner.objects.filter(pk=first_free).first() if first_free else None
    if practitioner is None:
        return Preview(
            None,
            [
                _taken(n, start, None, free_at, {}, location, visit_seconds, duration)
                for n, start in numbered
            ],
        )
    own: dict[date, list[int]] = defaultdict(list)  # the practitioner's free starts by day
    for start, _, _ in search(practitioner, set(days) | next_days).starts:
        if not _overlaps(start, start + duration, busy):
            own[_day_of(start, location)].append(start)
    visits = []
    for (number, start), seconds in zip(numbered, visit_seconds, strict=True):
        if practitioner.pk in free_at.get(seconds, ()):
            visits.append(VisitCheck(number, start, practitioner.pk, free=True))
        else:
            visits.append(
                _taken(
                    number, start, practitioner.pk, free_at, own, location, visit_seconds, duration
                )
            )
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


# Which visits of a course a change takes: the one named, it and the later ones, or every
# one still to come.
THIS, FOLLOWING, ALL = "this", "following", "all"
SCOPES = (THIS, FOLLOWING, ALL)


@dataclass
class CancelledVisit:
    appointment: Appointment
    refused: DomainError | None = None


def cancel_course_visits(
    *,
    appointment: Appointment,
    scope: str,
    by: User | None,
    reason: str = "",
    online: bool = False,
    now: datetime | None = None,
) -> list[CancelledVisit]:
    """Cancel a visit of a course, it and the following ones, or all the course's visits
    still to come, each by `cancel_appointment` (its rules: the cancellation window per
    visit online, a reason from staff, a session with a note stays), in one transaction. A
    visit refused is left booked and answered with its code; the patient is told of the
    rest in one message (`course_visits_cancelled`). Nothing cancelled: `nothing_to_cancel`
    with each visit's refusal."""
    now = now or timezone.now()
    if scope not in SCOPES:
        raise DomainError.invalid("scope", [f"One of {', '.join(SCOPES)}."])
    if appointment.course_id is None:
        raise DomainError("not_in_a_course", "This appointment is not a visit of a course.")
    with transaction.atomic():
        booked = Appointment.objects.filter(
            course_id=appointment.course_id, status=Status.BOOKED
        ).order_by("start")
        if scope == THIS:
            visits = [appointment]
        elif scope == FOLLOWING:
            visits = list(booked.filter(start__gte=appointment.start))
        else:
            visits = list(booked.filter(start__gt=now))
        results = []
        for visit in visits:
            try:
                cancelled = cancel_appointment(
                    appointment=visit,
                    by=by,
                    reason=reason,
                    online=online,
                    in_course_change=True,
                    now=now,
                )
            except DomainError as refusal:
                results.append(CancelledVisit(visit, refusal))
            else:
                results.append(CancelledVisit(cancelled))
        done = [result.appointment for result in results if result.refused is None]
        if not done:
            raise DomainError(
                "nothing_to_cancel",
                "None of those visits can be cancelled.",
                extra={
                    "visits": [
                        {
                            "appointment": result.appointment.pk,
                            "code": result.refused.code,
                            "detail": result.refused.detail,
                        }
                        for result in results
                        if result.refused is not None
                    ]
                },
            )
        course_visits_cancelled.send(
            sender=Course, course=appointment.course, appointments=done, now=now
        )
    return results


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


def _day_of(seconds: int, location: Location) -> date:
    return datetime.fromtimestamp(seconds, location.zone).date()


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _taken(
    number: int,
    start: datetime,
    practitioner_id: int | None,
    free_at: Mapping[int, list[int]],
    own: Mapping[date, list[int]],
    location: Location,
    visit_seconds: list[int],
    duration: int,
) -> VisitCheck:
    """A visit whose time is not free, with the nearest alternatives: the same day at
    another time, the same time with another practitioner, the next days. None overlaps
    another visit of the course."""
    seconds = int(start.timestamp())
    others = [other for other in visit_seconds if other != seconds]
    local = start.astimezone(location.zone)
    wanted_minute = local.hour * 60 + local.minute

    def nearest(day: date) -> int | None:
        def distance(candidate: int) -> tuple[int, int]:
            moment = datetime.fromtimestamp(candidate, location.zone)
            return abs(moment.hour * 60 + moment.minute - wanted_minute), candidate

        candidates = [
            candidate
            for candidate in own.get(day, ())
            if candidate != seconds and not any(abs(candidate - o) < duration for o in others)
        ]
        return min(candidates, key=distance, default=None)

    alternatives = []
    day = local.date()
    if practitioner_id is not None and (same_day := nearest(day)) is not None:
        alternatives.append(Alternative(SAME_DAY, _moment(same_day), practitioner_id))
    colleagues = sorted(set(free_at.get(seconds, ())) - {practitioner_id})
    if colleagues:
        alternatives.append(Alternative(OTHER_PRACTITIONER, start, colleagues[0]))
    if practitioner_id is not None:
        for ahead in range(1, NEXT_DAY_SEARCH_DAYS + 1):
            if (later := nearest(day + timedelta(days=ahead))) is not None:
                alternatives.append(Alternative(NEXT_DAY, _moment(later), practitioner_id))
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
) -> list[tuple[int, int]]:
    """The patient's own booked time over the course, in epoch seconds."""
    until = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=location.zone)
    return [
        (int(start.timestamp()), int(end.timestamp()))
        for start, end in Appointment.objects.filter(
            patient=patient, status__in=OCCUPYING_STATUSES, end__gt=first, start__lt=until
        ).values_list("start", "end")
    ]


def _overlaps(start: int, end: int, busy: list[tuple[int, int]]) -> bool:
    return any(from_ < end and start < until for from_, until in busy)
