"""Group classes: NMPT in the gym with one coach and a few patients, each with a place of
their own.

Staff schedule a class, or a series of them by a course's rule (`courses.CourseRule`: every
N weeks on chosen weekdays, for N classes or until a date), each class accepted or refused
on its own. A scheduled class takes its coach and its whole room as a booking does: the
database refuses a class over a booking or a hold and a booking or hold over a class
(`models.CLASS_TAKES_PRACTITIONER`), and free slots never offer a class's time.

Patients book a place (online where the class allows it, under the online rules of a
booking) in one class or in every class of a series still to come; the database keeps the
places within the capacity and one per patient (`models.ClassPlace`). Each function is one
transaction; locks are taken patient, then class, then place, so they never wait for each
other in a circle. Refusals (`DomainError` codes): `class_full`, `already_booked`,
`class_cancelled`, `class_started`, `not_bookable_online`, `inside_lead_time`,
`beyond_booking_horizon`, `new_patient_needs_assessment`, `patient_archived`,
`patient_inactive`, `inside_cancellation_window`, `invalid_status_transition`,
`class_not_started`, `not_on_the_day`, `class_took_place`, `slot_unavailable`,
`outside_hours`, `practitioner_unavailable`, `service_unavailable`, `reason_required`,
`series_not_schedulable`, `series_not_bookable`, `nothing_to_book`, `invalid`.

Cancelling a class cancels its places; telling each patient is not done yet (no message
kind for it in `notifications`): reception calls them from the class's attendee list.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import User
from kernel.errors import DomainError
from patients.models import Patient
from patients.services import check_not_archived
from practice.models import BookingRules, Leave, Location, Practitioner, Room, Service

from .availability import MAX_APPOINTMENT_SPAN, practitioners_for
from .courses import CourseRule
from .models import (
    CLASS_REFUSED_BY_PRACTITIONER,
    CLASS_REFUSED_BY_ROOM,
    MAX_CLASS_CAPACITY,
    OCCUPYING_STATUSES,
    PLACE_WITHIN_CAPACITY,
    Appointment,
    Attendance,
    ClassPlace,
    ClassSeries,
    ClassStatus,
    GroupClass,
    PlaceStatus,
    SlotHold,
    Source,
)
from .services import (
    _constraint_name,
    _end_expired_holds,
    _lock_patient,
    _window_containing,
    assessed_before,
)

# What a class's refusal by the database says, by the refusing constraint's name.
_TAKEN_COACH = "{coach} is already booked or coaching at that time."
_TAKEN_ROOM = "{room} is taken at that time."
_SCHEDULING_REFUSALS = {
    "group_class_no_practitioner_overlap": _TAKEN_COACH,
    CLASS_REFUSED_BY_PRACTITIONER: _TAKEN_COACH,
    "group_class_no_room_overlap": _TAKEN_ROOM,
    CLASS_REFUSED_BY_ROOM: _TAKEN_ROOM,
}
_PLACE_REFUSALS = {
    "class_place_one_per_seat": "class_full",
    PLACE_WITHIN_CAPACITY: "class_full",
    "class_place_once_per_patient": "already_booked",
}


def schedule_class(
    *,
    service: Service,
    practitioner: Practitioner,
    location: Location,
    start: datetime,
    capacity: int,
    room: Room | None = None,
    bookable_online: bool = True,
    series: ClassSeries | None = None,
    created_by: User | None = None,
    now: datetime | None = None,
) -> GroupClass:
    """Schedule a class of `service` coached by `practitioner` at `start`, in `room` or the
    first room of the service's kind at `location` that is free for the whole class.

    The coach must deliver the service and be working then (rota, not on leave); the coach
    and the room must be free of bookings, holds and other classes — the database decides
    that (`slot_unavailable`), the checks here only name it first."""
    now = now or timezone.now()
    if timezone.is_naive(start):
        raise ValueError("start must be timezone-aware")
    start = start.astimezone(UTC).replace(microsecond=0)
    end = start + service.duration
    blocked_until = end + service.buffer_after
    if not 1 <= capacity <= MAX_CLASS_CAPACITY:
        raise DomainError.invalid("capacity", [f"From 1 to {MAX_CLASS_CAPACITY} places."])
    if not service.is_active:
        raise DomainError("service_unavailable", f"{service} is no longer offered.")
    if not Practitioner.objects.filter(practitioners_for(service), pk=practitioner.pk).exists():
        raise DomainError(
            "practitioner_unavailable",
            f"{practitioner} does not deliver {service}.",
            fields={"practitioner": [f"{practitioner} does not deliver {service}."]},
        )
    if start <= now:
        raise DomainError("slot_in_past", "That time has already passed.")
    _window_containing(practitioner, start, end, location.pk)
    if Leave.objects.filter(practitioner=practitioner, start__lt=end, end__gt=start).exists():
        raise DomainError("outside_hours", f"{practitioner} is on leave at that time.")
    if room is not None and not (
        room.location_id == location.pk and room.kind == service.room_kind and room.is_active
    ):
        raise DomainError.invalid("room", [f"Not an open room for {service} at {location}."])
    try:
        with transaction.atomic():
            # What has expired blocks nothing: its rows go before ours is written.
            _end_expired_holds(now, start=start, until=blocked_until)
            room = room or _free_room(service, location, start, blocked_until, now)
            return GroupClass.objects.create(
                series=series,
                service=service,
                practitioner=practitioner,
                location=location,
                room=room,
                start=start,
                end=end,
                blocked_until=blocked_until,
                capacity=capacity,
                bookable_online=bookable_online,
                created_by=created_by,
                created_at=now,
            )
    except IntegrityError as error:
        message = _SCHEDULING_REFUSALS.get(_constraint_name(error) or "")
        if message is None:
            raise
        raise DomainError(
            "slot_unavailable", message.format(coach=practitioner, room=room)
        ) from error


def _free_room(
    service: Service, location: Location, start: datetime, until: datetime, now: datetime
) -> Room:
    """The first open room of the service's kind at `location` (by name) with nothing in it
    between `start` and `until`: a class takes the whole room."""

    def overlapping(rows: QuerySet) -> Exists:
        return Exists(
            rows.filter(
                room=OuterRef("pk"),
                start__gt=start - MAX_APPOINTMENT_SPAN,
                start__lt=until,
                blocked_until__gt=start,
            )
        )

    room = (
        Room.objects.filter(location=location, kind=service.room_kind, is_active=True)
        .exclude(overlapping(Appointment.objects.filter(status__in=OCCUPYING_STATUSES)))
        .exclude(overlapping(SlotHold.objects.filter(expires_at__gt=now)))
        .exclude(overlapping(GroupClass.objects.filter(status=ClassStatus.SCHEDULED)))
        .order_by("name")
        .first()
    )
    if room is None:
        raise DomainError("slot_unavailable", f"No room for {service} is free at that time.")
    return room


@dataclass
class ScheduledClass:
    """One class of a series: scheduled, or refused with why."""

    number: int
    start: datetime
    group_class: GroupClass | None = None
    refused: DomainError | None = None


@dataclass
class SeriesScheduling:
    series: ClassSeries
    classes: list[ScheduledClass] = field(default_factory=list)

    @property
    def scheduled(self) -> list[GroupClass]:
        return [c.group_class for c in self.classes if c.group_class is not None]


def schedule_class_series(
    *,
    service: Service,
    practitioner: Practitioner,
    location: Location,
    rule: CourseRule,
    capacity: int,
    room: Room | None = None,
    bookable_online: bool = True,
    free_only: bool = False,
    created_by: User | None = None,
    now: datetime | None = None,
) -> SeriesScheduling:
    """Schedule a class on every date of `rule` (its `visits` counting the classes), each
    by `schedule_class`, in one transaction. One refused class refuses the series
    (`series_not_schedulable`, each refused class with its code) unless `free_only`, which
    schedules the others; none scheduled: `nothing_to_book`."""
    now = now or timezone.now()
    rule = rule.checked()
    with transaction.atomic():
        series = ClassSeries.objects.create(
            service=service,
            practitioner=practitioner,
            location=location,
            first_date=rule.first_date,
            at=rule.at,
            weekdays=list(rule.weekdays),
            every_weeks=rule.every_weeks,
            classes=rule.visits,
            until=rule.until,
            created_by=created_by,
            created_at=now,
        )
        scheduling = SeriesScheduling(series)
        for number, start in enumerate(rule.starts(location), start=1):
            one = ScheduledClass(number, start)
            scheduling.classes.append(one)
            try:
                one.group_class = schedule_class(
                    service=service,
                    practitioner=practitioner,
                    location=location,
                    start=start,
                    capacity=capacity,
                    room=room,
                    bookable_online=bookable_online,
                    series=series,
                    created_by=created_by,
                    now=now,
                )
            except DomainError as refusal:
                one.refused = refusal
        refused = [
            {
                "number": one.number,
                "start": one.start.astimezone(location.zone).isoformat(),
                "code": one.refused.code,
                "detail": one.refused.detail,
            }
            for one in scheduling.classes
            if one.refused is not None
        ]
        if refused and not free_only:
            raise DomainError(
                "series_not_schedulable",
                f"{len(refused)} of the series' classes cannot be scheduled; "
                "pick another time, or schedule the free ones only.",
                extra={"classes": refused},
            )
        if not scheduling.scheduled:
            raise DomainError(
                "nothing_to_book",
                "None of the series' classes can be scheduled.",
                extra={"classes": refused},
            )
    return scheduling


def book_place(
    *,
    group_class: GroupClass,
    patient: Patient,
    source: str = Source.RECEPTION,
    booked_by: User | None = None,
    now: datetime | None = None,
) -> ClassPlace:
    """Book `patient` a place in the class: the first free seat. Online (`source=online`)
    only where the class and its service allow it, under a booking's online rules (lead
    time, horizon); for everyone the patient's record must be open and, where new patients
    start with an assessment, the patient assessed before the class.

    The class's row is locked while its places are counted, so bookers of one class go one
    at a time; the database's seat keys and capacity trigger hold even without that."""
    now = now or timezone.now()
    with _refusing_places(), transaction.atomic():
        locked = _lock_patient(patient.pk)
        current = _lock_class(group_class)
        _check_place_bookable(current, locked, online=source == Source.ONLINE, now=now)
        taken = dict(
            current.places.filter(status=PlaceStatus.BOOKED).values_list("patient_id", "seat")
        )
        if locked.pk in taken:
            raise DomainError("already_booked", "You already have a place in this class.")
        seat = next((n for n in range(1, current.capacity + 1) if n not in taken.values()), None)
        if seat is None:
            raise DomainError("class_full", "The class is full.")
        return ClassPlace.objects.create(
            group_class=current,
            patient=locked,
            seat=seat,
            source=source,
            booked_by=booked_by,
            booked_at=now,
        )


@contextmanager
def _refusing_places() -> Iterator[None]:
    """The database's refusal of a place, as its code (the locks above make it rare)."""
    try:
        yield
    except IntegrityError as error:
        code = _PLACE_REFUSALS.get(_constraint_name(error) or "")
        if code is None:
            raise
        raise DomainError(code, "The class is full or you already have a place.") from error


def _check_place_bookable(
    group_class: GroupClass, patient: Patient, *, online: bool, now: datetime
) -> None:
    if group_class.status == ClassStatus.CANCELLED:
        raise DomainError("class_cancelled", "This class is cancelled.")
    if group_class.start <= now:
        raise DomainError("class_started", "This class has already started.")
    check_not_archived(patient.archived_at)
    if not patient.is_active:
        raise DomainError("patient_inactive", "This patient's record is not active.")
    rules = BookingRules.current()
    if online:
        if not (group_class.bookable_online and group_class.service.bookable_online):
            raise DomainError(
                "not_bookable_online",
                "Places in this class cannot be booked online; please call the clinic.",
            )
        if group_class.start < now + rules.online_lead_time:
            raise DomainError(
                "inside_lead_time",
                f"Online bookings must be made at least "
                f"{rules.online_lead_time_minutes} minutes ahead.",
            )
        if group_class.start > now + rules.online_horizon:
            raise DomainError(
                "beyond_booking_horizon",
                f"Online bookings open {rules.online_horizon_days} days ahead.",
            )
    if (
        rules.new_patients_start_with_assessment
        and not group_class.service.is_assessment
        and not assessed_before(patient.pk, group_class.start).exists()
    ):
        raise DomainError(
            "new_patient_needs_assessment",
            "New patients start with an initial assessment; please book that first.",
        )


@dataclass
class PlaceResult:
    group_class: GroupClass
    place: ClassPlace | None = None
    refused: DomainError | None = None


def book_series_places(
    *,
    series: ClassSeries,
    patient: Patient,
    source: str = Source.RECEPTION,
    booked_by: User | None = None,
    free_only: bool = False,
    now: datetime | None = None,
) -> list[PlaceResult]:
    """Book `patient` a place in every scheduled class of the series still to come, each by
    `book_place`, in one transaction: all or nothing (`series_not_bookable`, each refused
    class with its code), or with `free_only` those that can be booked. None: `nothing_to_book`.
    """
    now = now or timezone.now()
    with transaction.atomic():
        classes = (
            series.group_classes.filter(status=ClassStatus.SCHEDULED, start__gt=now)
            .select_related("service", "location")
            .order_by("start")
        )
        results = []
        for group_class in classes:
            result = PlaceResult(group_class)
            results.append(result)
            try:
                result.place = book_place(
                    group_class=group_class,
                    patient=patient,
                    source=source,
                    booked_by=booked_by,
                    now=now,
                )
            except DomainError as refusal:
                result.refused = refusal
        refused = [refusal_of(result) for result in results if result.refused is not None]
        if refused and not free_only:
            raise DomainError(
                "series_not_bookable",
                f"{len(refused)} of the series' classes cannot be booked; book the free "
                "ones only, or single classes.",
                extra={"classes": refused},
            )
        if not any(result.place for result in results):
            raise DomainError(
                "nothing_to_book",
                "None of the series' classes can be booked.",
                extra={"classes": refused},
            )
    return results


def refusal_of(result: PlaceResult) -> dict[str, object]:
    """One refused class of a series booking, as the API answers it."""
    assert result.refused is not None
    return {
        "group_class": result.group_class.pk,
        "start": result.group_class.local_start.isoformat(),
        "code": result.refused.code,
        "detail": result.refused.detail,
    }


def cancel_place(
    *, place: ClassPlace, by: User | None, online: bool = False, now: datetime | None = None
) -> ClassPlace:
    """Give up a place. Online, not inside the cancellation window (as for a booking); staff
    may, and then it is recorded as a late cancellation."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock_patient(place.patient_id)
        group_class = _lock_class(place.group_class)
        current = ClassPlace.objects.select_for_update().get(pk=place.pk)
        if current.status != PlaceStatus.BOOKED or current.attendance:
            raise DomainError(
                "invalid_status_transition", "Only a booked place not yet attended is cancelled."
            )
        window = BookingRules.current().cancellation_window
        late = now > group_class.start - window
        if online and late:
            hours = int(window.total_seconds() // 3600)
            raise DomainError(
                "inside_cancellation_window",
                f"Places cannot be cancelled online less than {hours} hours before the class; "
                f"please call the clinic.",
            )
        current.status = PlaceStatus.CANCELLED
        current.attendance = Attendance.LATE_CANCEL if late else ""
        current.cancelled_at, current.cancelled_by = now, by
        current.save(update_fields=["status", "attendance", "cancelled_at", "cancelled_by"])
    current.group_class = group_class
    return current


def mark_attendance(
    *, place: ClassPlace, attendance: str, by: User | None, now: datetime | None = None
) -> ClassPlace:
    """Record whether the patient came: arrived (from the class's day on) or no-show (once
    it has started). Either may be corrected to the other; a late cancellation is recorded
    by cancelling the place."""
    now = now or timezone.now()
    if attendance not in (Attendance.ARRIVED, Attendance.NO_SHOW):
        raise DomainError.invalid("attendance", ["Either arrived or no_show."])
    with transaction.atomic():
        group_class = _lock_class(place.group_class)
        current = ClassPlace.objects.select_for_update().get(pk=place.pk)
        if current.status != PlaceStatus.BOOKED or group_class.status != ClassStatus.SCHEDULED:
            raise DomainError(
                "invalid_status_transition", "Attendance is marked on a booked place only."
            )
        zone = group_class.location.zone
        if now.astimezone(zone).date() < group_class.local_start.date():
            raise DomainError(
                "not_on_the_day",
                f"The class is on {group_class.local_start:%A %d %B %Y}; attendance is marked "
                f"from that day on.",
            )
        if attendance == Attendance.NO_SHOW and now < group_class.start:
            raise DomainError(
                "class_not_started", "The class has not started yet; no one is a no-show."
            )
        current.attendance = attendance
        current.attendance_marked_at = now
        current.save(update_fields=["attendance", "attendance_marked_at"])
    current.group_class = group_class
    return current


def cancel_class(
    *, group_class: GroupClass, by: User | None, reason: str, now: datetime | None = None
) -> GroupClass:
    """Cancel a class and every booked place in it, one transaction; the coach's and the
    room's time is free again at once. Refused once someone has been marked arrived (the
    class took place)."""
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise DomainError(
            "reason_required",
            "Say why the class is cancelled.",
            fields={"reason": ["This field is required."]},
        )
    with transaction.atomic():
        current = _lock_class(group_class)
        if current.status != ClassStatus.SCHEDULED:
            raise DomainError("class_cancelled", "This class is already cancelled.")
        places = current.places.filter(status=PlaceStatus.BOOKED)
        if places.filter(attendance=Attendance.ARRIVED).exists():
            raise DomainError("class_took_place", "Patients have arrived for this class.")
        places.update(
            status=PlaceStatus.CANCELLED, attendance="", cancelled_at=now, cancelled_by=by
        )
        current.status = ClassStatus.CANCELLED
        current.cancelled_at, current.cancelled_by = now, by
        current.cancellation_reason = reason
        current.save(
            update_fields=["status", "cancelled_at", "cancelled_by", "cancellation_reason"]
        )
    return current


def _lock_class(group_class: GroupClass) -> GroupClass:
    return (
        GroupClass.objects.select_for_update(of=("self",))
        .select_related("service", "location", "practitioner__user", "room")
        .get(pk=group_class.pk)
    )
