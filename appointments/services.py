"""Booking, rescheduling, cancelling and the appointment lifecycle.

Each function is one transaction and either does all of its work or none. A refusal is a
`DomainError` with a stable code:

- `slot_unavailable` — the practitioner, the patient or every room place is taken (or held)
  then;
- `hold_expired` — booking with a hold that has expired, was released or is someone else's;
- `too_many_holds` — the patient (or the visitor's address) holds as many times as allowed;
- `outside_hours` — not inside the practitioner's working hours (rota, breaks, leave);
- `slot_in_past`, `inside_lead_time`, `beyond_booking_horizon`, `not_on_slot_grid`;
- `service_unavailable`, `not_bookable_online`, `practitioner_unavailable`,
  `patient_archived`, `patient_inactive`, `new_patient_needs_assessment`;
- `inside_cancellation_window`, `invalid_status_transition`, `reason_required`,
  `appointment_not_started`;
- `session_has_note` — a session with a treatment note (draft or signed) took place: it is
  not cancelled, moved or marked a no-show (`treatments.selectors.sessions_that_can_carry_a_note`
  is the other half of that rule);
- `assessment_has_dependent_bookings` — while new patients must start with an assessment,
  an assessment that later bookings of the patient rely on is not cancelled, marked a
  no-show or moved after them; the refusal names those bookings, which reception cancels or
  moves first.

Each takes `now`, the moment it acts at (None: the clock's time), and decides and stamps
by that one moment (`kernel.clock`). Each returns the appointment as saved: the status
changes, moving and cancelling read the row again under lock and return that row; the
instance passed in only names the appointment and is left as it was.

Every change to a patient's bookings first locks the patient's row, so that two requests
for one patient (booking a treatment, cancelling the assessment it needs) run one after the
other and the second sees what the first did; the patient is locked before the appointment,
in every function, so that they never wait on each other in a circle.

Double booking is refused by PostgreSQL's exclusion constraints, not by the checks here:
the checks give good messages, the constraints give the guarantee under concurrency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn, TypeVar

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Exists, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from accounts.models import User
from audit.models import Action
from audit.services import record
from kernel.clock import save_at
from kernel.compiled import CompiledQuery
from kernel.errors import DomainError
from patients.models import Patient
from patients.services import check_not_archived
from practice.models import BookingRules, Leave, Location, Practitioner, Room, Service

from .availability import (
    MAX_APPOINTMENT_SPAN,
    WorkingWindow,
    practitioners_of,
    working_windows,
)
from .clashes import upcoming_clashes
from .models import (
    ALLOWED_TRANSITIONS,
    BOOKED_PRACTITIONER,
    BOOKED_ROOM_PLACE,
    CLASS_TAKES_PRACTITIONER,
    CLASS_TAKES_ROOM,
    HELD_PRACTITIONER,
    HELD_ROOM_PLACE,
    OCCUPYING_STATUSES,
    PRACTITIONER_LOCK,
    ROOM_LOCK,
    UNDOABLE_STATUSES,
    Appointment,
    ClashDecision,
    ClassStatus,
    ConfirmedVia,
    Course,
    GroupClass,
    SlotHold,
    Source,
    Status,
)
from .signals import (
    Moved,
    appointment_booked,
    appointment_cancelled,
    appointment_moved,
    working_time_changed,
)

T = TypeVar("T")

_CONSTRAINT_MESSAGES = {
    "appointment_no_practitioner_overlap": "{practitioner} is already booked at that time.",
    "appointment_no_patient_overlap": "The patient already has an appointment at that time.",
}
_CONSTRAINT_MESSAGES[HELD_PRACTITIONER] = "That time with {practitioner} is held for someone else."
_CONSTRAINT_MESSAGES[BOOKED_PRACTITIONER] = "{practitioner} is already booked at that time."
_CONSTRAINT_MESSAGES["slot_hold_no_practitioner_overlap"] = (
    "That time with {practitioner} is held for someone else."
)
_CONSTRAINT_MESSAGES[CLASS_TAKES_PRACTITIONER] = "{practitioner} is coaching a class at that time."
# A room place lost to a race, to a booking, to a hold or to a class (which takes the whole
# room): tried again in another place.
_ROOM_PLACE_CONSTRAINTS = {
    "appointment_no_room_place_overlap",
    HELD_ROOM_PLACE,
    BOOKED_ROOM_PLACE,
    "slot_hold_no_room_place_overlap",
    CLASS_TAKES_ROOM,
}
# Refusals that an expired hold may have caused: its row outlives it until deleted.
_HELD_CONSTRAINTS = {
    HELD_PRACTITIONER,
    HELD_ROOM_PLACE,
    "slot_hold_no_practitioner_overlap",
    "slot_hold_no_room_place_overlap",
}
_DEADLOCK_DETECTED = "40P01"
# Room places a booking may race for, and deadlocks between such races, before it gives up.
_ROOM_RACE_RETRIES = 20


@dataclass(frozen=True)
class _Placement:
    """Where and until when a requested booking would sit."""

    start: datetime
    end: datetime
    blocked_until: datetime
    location_id: int
    rules: BookingRules  # as the checks read them
    # A hold the clinic made to offer the time (`hold_for_offer`) takes the practitioner's
    # time then: a booking by staff ends it (`_end_offer_holds_in_the_way`).
    over_an_offer: bool


def book_appointment(
    *,
    patient: Patient,
    service: Service,
    practitioner: Practitioner,
    start: datetime,
    location: Location | int | None = None,
    source: str = Source.RECEPTION,
    created_by: User | None = None,
    note: str = "",
    hold: SlotHold | None = None,
    course: Course | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Book `service` for `patient` with `practitioner` at `start`, in a free room.

    Patients booking online (`source=online`) are held to the online rules: lead time,
    horizon, slot grid, online-bookable services. `location` (or its id: it is checked
    here, 400 `invalid` when it is no open location) pins the booking to one location.

    With `hold` (see `hold_slot`; its service, practitioner, start and location are the
    booking's, which the caller takes from it) the hold ends in the booking's transaction
    and its time is booked: refused with `hold_expired` when it has expired or gone, or
    belongs to another patient — even if the time is still free, so that the patient is
    told, and picks the time again, rather than book what they no longer see held.

    Staff (any source but `online`) book over a time the clinic holds to offer it: the
    booking ends that hold (`_end_offer_holds_in_the_way`). A patient's or a visitor's
    hold refuses staff and patients alike.
    """
    location_id = getattr(location, "pk", location)
    now = now or timezone.now()
    online = source == Source.ONLINE

    def book() -> Appointment:
        with transaction.atomic():
            # The patient as locked, not as the caller read them: the booking's messages go
            # on the channels agreed to now (a consent change committed while this waited
            # for the lock only scheduled the bookings it could see).
            locked = _lock_patient(patient.pk)
            if hold is not None:
                _end_hold_for_booking(hold, patient_id=patient.pk, now=now)
            placement = _check_bookable(
                patient_id=patient.pk,
                service=service,
                practitioner=practitioner,
                start=start,
                location_id=location_id,
                online=online,
                now=now,
            )
            if not online:
                _end_offer_holds_in_the_way(practitioner, placement)
            appointment = Appointment(
                patient=locked,
                practitioner=practitioner,
                service=service,
                location_id=placement.location_id,
                start=placement.start,
                end=placement.end,
                blocked_until=placement.blocked_until,
                price=service.price,
                source=source,
                created_by=created_by,
                note=note,
                course=course,
            )
            known = location if isinstance(location, Location) else None
            _save_in_a_free_room(appointment, service, now, location=known)
            appointment_booked.send(sender=Appointment, appointment=appointment, now=now)
        return appointment

    with _refusing_conflicts(practitioner):
        return _retrying_room_races(book, now=now)


def hold_slot(
    *,
    service: Service,
    practitioner: Practitioner,
    start: datetime,
    location: Location | int | None = None,
    patient: Patient | None = None,
    client_ip: str | None = None,
    now: datetime | None = None,
) -> SlotHold:
    """Keep a free time for `settings.HOLD_MINUTES` for a signed-in `patient`, or for a
    visitor (no patient) at `client_ip`, while they sign in, register or fill the intake.

    The online booking rules apply as to a booking (lead time, horizon, grid, working
    hours; for a patient also their record and the new-patient rule). A time booked or held
    by someone else is refused (`slot_unavailable`), by the database under concurrency (see
    `SlotHold`). A patient may hold `HOLDS_PER_PATIENT` times at once, a visitor's address
    `HOLDS_PER_IP`; over that, `too_many_holds`."""
    now = now or timezone.now()
    return _hold(
        service=service,
        practitioner=practitioner,
        start=start,
        location=location,
        patient=patient,
        client_ip=None if patient is not None else client_ip,
        expires_at=now + timedelta(minutes=settings.HOLD_MINUTES),
        online=True,
        counted=True,
        for_offer=False,
        now=now,
    )


def hold_for_offer(
    *,
    service: Service,
    practitioner: Practitioner,
    start: datetime,
    location: Location | int | None,
    expires_at: datetime,
    now: datetime | None = None,
) -> SlotHold:
    """Keep a free time until `expires_at` for the clinic to offer it (the waitlist's
    offers): the same hold as the booking site's, so the database refuses anyone else
    booking or holding it meanwhile, but owned by no patient — whichever patient the offer
    is taken by books with it (`book_appointment(hold=...)`). The clinic offers it, so the
    staff's rules apply (no lead time, horizon or grid) and no allowance counts it; the
    patient's own rules are the offer's to check, and the booking checks them again."""
    return _hold(
        service=service,
        practitioner=practitioner,
        start=start,
        location=location,
        patient=None,
        client_ip=None,
        expires_at=expires_at,
        online=False,
        counted=False,
        for_offer=True,
        now=now or timezone.now(),
    )


def _hold(
    *,
    service: Service,
    practitioner: Practitioner,
    start: datetime,
    location: Location | int | None,
    patient: Patient | None,
    client_ip: str | None,
    expires_at: datetime,
    online: bool,
    counted: bool,
    for_offer: bool,
    now: datetime,
) -> SlotHold:
    """A hold of the time, one transaction: checked as a booking (`online`: the patient's
    rules; otherwise the staff's), `counted` against the holder's allowance, the expired
    holds in its way gone; `for_offer`, the clinic's to offer (staff may book over it)."""
    location_id = getattr(location, "pk", location)

    def hold() -> SlotHold:
        with transaction.atomic():
            if counted:
                _check_hold_allowance(patient=patient, client_ip=client_ip, now=now)
            placement = _check_bookable(
                patient_id=patient.pk if patient is not None else None,
                service=service,
                practitioner=practitioner,
                start=start,
                location_id=location_id,
                online=online,
                now=now,
            )
            # What has expired blocks nothing: its rows go before ours is written.
            _end_expired_holds(now, start=placement.start, until=placement.blocked_until)
            held = SlotHold(
                service=service,
                practitioner=practitioner,
                location_id=placement.location_id,
                start=placement.start,
                end=placement.end,
                blocked_until=placement.blocked_until,
                expires_at=expires_at,
                patient=patient,
                client_ip=client_ip,
                for_offer=for_offer,
                created_at=now,
            )
            known = location if isinstance(location, Location) else None
            _save_in_a_free_room(held, service, now, location=known)
        return held

    with _refusing_conflicts(practitioner):
        return _retrying_room_races(hold, now=now)


def release_hold(*, hold_id: object, now: datetime | None = None) -> None:
    """End a hold before it expires: its time is free again at once. Whoever has the id may
    (it is the hold's secret); an unknown or expired one is no error, the time is free."""
    SlotHold.objects.filter(pk=hold_id).delete()


def end_expired_holds(*, now: datetime | None = None) -> int:
    """Delete the holds that have expired (beat runs it): they block nothing already, this
    frees their rows. Returns how many."""
    return _end_expired_holds(now or timezone.now())


def held_by(hold_id: object, *, now: datetime | None = None) -> SlotHold | None:
    """The live hold of that id, or None (unknown, released or expired)."""
    now = now or timezone.now()
    try:
        return (
            SlotHold.objects.filter(pk=hold_id, expires_at__gt=now)
            .select_related("service", "practitioner__user", "location")
            .first()
        )
    except (ValueError, TypeError):  # not a UUID at all
        return None


def _check_hold_allowance(*, patient: Patient | None, client_ip: str | None, now: datetime) -> None:
    """At most so many live holds per patient (their row locked, as for any change to their
    bookings) or, for visitors, per client address (an advisory lock on it): two requests at
    once cannot both take the last one."""
    live = SlotHold.objects.filter(expires_at__gt=now)
    if patient is not None:
        _lock_patient(patient.pk)
        live, limit = live.filter(patient_id=patient.pk), settings.HOLDS_PER_PATIENT
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_IP_LOCK, client_ip or ""]
            )
        live, limit = live.filter(patient=None, client_ip=client_ip), settings.HOLDS_PER_IP
    if live.count() >= limit:
        raise DomainError(
            "too_many_holds",
            f"At most {limit} times can be held at once; book or release one first.",
        )


# The advisory lock class of a visitor's address while their holds are counted.
_IP_LOCK = 17003


def _end_hold_for_booking(hold: SlotHold, *, patient_id: int, now: datetime) -> None:
    """Delete `hold` in the booking's transaction, or refuse with `hold_expired`.

    The hold's practitioner and room are locked first, in the order the database's triggers
    take them (`models.PRACTITIONER_LOCK`): someone holding the same time at this moment
    then waits for this booking, instead of both waiting for each other."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s), pg_advisory_xact_lock(%s, %s)",
            [PRACTITIONER_LOCK, hold.practitioner_id, ROOM_LOCK, hold.room_id],
        )
    ended = (
        SlotHold.objects.filter(pk=hold.pk, expires_at__gt=now)
        .filter(Q(patient_id=patient_id) | Q(patient=None))
        .delete()[0]
    )
    if not ended:
        raise DomainError(
            "hold_expired",
            "The time was no longer held for you; please pick a time again.",
        )


def _end_expired_holds(
    now: datetime, *, start: datetime | None = None, until: datetime | None = None
) -> int:
    expired = SlotHold.objects.filter(expires_at__lte=now)
    if start is not None and until is not None:
        expired = expired.filter(start__lt=until, blocked_until__gt=start)
    return expired.delete()[0]


def _end_offer_holds_in_the_way(practitioner: Practitioner, placement: _Placement) -> None:
    """Staff take precedence over the clinic's own offer of a time: the holds made to offer
    it (`hold_for_offer`) that take the practitioner's time at `placement` end, in the
    booking's (or move's) transaction, before its room is chosen. The offers made with
    them find their hold gone: their links say the time is taken at once, accepting is
    refused (`offer_taken`), and the waitlist's sweep marks them withdrawn. This module
    does not know the waitlist; the hold is all it ends.

    Of a patient accepting the offer at this moment, one waits on the hold's row: whoever
    locked it first books, the other is refused (the hold gone, or the time booked)."""
    if not placement.over_an_offer:
        return
    SlotHold.objects.filter(
        for_offer=True,
        practitioner=practitioner,
        start__lt=placement.blocked_until,
        blocked_until__gt=placement.start,
    ).delete()


def reschedule_appointment(
    *,
    appointment: Appointment,
    start: datetime,
    practitioner: Practitioner | None = None,
    by: User | None = None,
    online: bool = False,
    now: datetime | None = None,
) -> Appointment:
    """Move a booked appointment to `start` (and optionally another practitioner).

    Atomic: if the new time is refused the appointment keeps its old time, room and
    practitioner. Staff (not `online`) move it over a time held to offer, as they book.
    """
    now = now or timezone.now()
    # Staying with its practitioner means the one the locked row names; a refusal names them.
    moving_to: dict[str, Practitioner] = {}

    def move() -> Appointment:
        with transaction.atomic():
            current = _lock(appointment)
            new_practitioner = moving_to["practitioner"] = practitioner or current.practitioner
            if current.status != Status.BOOKED:
                raise DomainError(
                    "invalid_status_transition",
                    f"A {current.get_status_display().lower()} appointment cannot be moved.",
                )
            placement = _check_bookable(
                patient_id=current.patient_id,
                service=current.service,
                practitioner=new_practitioner,
                start=start,
                location_id=None,
                online=online,
                now=now,
                rescheduling=current,
            )
            _check_no_bookings_depend_on(current, moved_to=placement.start, rules=placement.rules)
            if not online:
                _end_offer_holds_in_the_way(new_practitioner, placement)
            moved_from = Moved(
                practitioner_id=current.practitioner_id,
                location_id=current.location_id,
                start=current.start,
                blocked_until=current.blocked_until,
            )
            current.practitioner = new_practitioner
            current.location_id = placement.location_id
            current.start = placement.start
            current.end = placement.end
            current.blocked_until = placement.blocked_until
            current.rescheduled_at = now
            current.confirmed_at, current.confirmed_via = None, ""
            current.updated_by = by
            _save_in_a_free_room(current, current.service, now)
            appointment_moved.send(
                sender=Appointment, appointment=current, now=now, moved_from=moved_from
            )
        return current

    with _refusing_conflicts(SimpleLazyObject(lambda: moving_to["practitioner"])):
        return _retrying_room_races(move, now=now)


def cancel_appointment(
    *,
    appointment: Appointment,
    by: User | None,
    reason: str = "",
    online: bool = False,
    in_course_change: bool = False,
    now: datetime | None = None,
) -> Appointment:
    """Cancel a booked appointment.

    Online, a patient cannot cancel inside the cancellation window. Staff can; inside the
    window (or after the start) it is recorded as a late cancellation. Staff must give a
    reason. `in_course_change`: one of several visits of a course cancelled together
    (`courses.cancel_course_visits`), which the patient is told of in one message.
    """
    now = now or timezone.now()
    reason = reason.strip()
    if not online and not reason:
        raise DomainError(
            "reason_required",
            "Say why the appointment is cancelled.",
            fields={"reason": ["This field is required."]},
        )
    with transaction.atomic():
        current = _lock(appointment)
        if current.status != Status.BOOKED:
            raise DomainError(
                "invalid_status_transition",
                f"A {current.get_status_display().lower()} appointment cannot be cancelled.",
            )
        _check_has_no_note(current, "cancelled")
        rules = BookingRules.current()
        if online:
            _check_outside_cancellation_window(current, "cancelled", now, rules)
        _check_no_bookings_depend_on(current, moved_to=None, rules=rules)
        late = now > current.start - rules.cancellation_window
        current.status = Status.LATE_CANCELLED if late else Status.CANCELLED
        current.cancelled_at = now
        current.cancelled_by = current.updated_by = by
        current.cancellation_reason = reason
        save_at(
            current,
            now,
            update_fields=[
                "status",
                "cancelled_at",
                "cancelled_by",
                "cancellation_reason",
                "updated_at",
                "updated_by",
            ],
        )
        appointment_cancelled.send(
            sender=Appointment, appointment=current, now=now, in_course_change=in_course_change
        )
    return current


def confirm_appointment(
    *,
    appointment: Appointment,
    via: str,
    by: User | None = None,
    now: datetime | None = None,
) -> Appointment:
    """The patient says they will come. Only a booked appointment still ahead can be
    confirmed; confirming it again changes nothing (a provider retrying a reply, a second
    click on a link)."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _lock(appointment)
        if current.status != Status.BOOKED or current.start <= now:
            raise DomainError(
                "not_confirmable",
                "Only a booked appointment that has not started can be confirmed.",
            )
        if current.confirmed_at is None:
            current.confirmed_at, current.confirmed_via = now, ConfirmedVia(via)
            current.updated_by = by
            save_at(
                current,
                now,
                update_fields=["confirmed_at", "confirmed_via", "updated_at", "updated_by"],
            )
    return current


def check_in_appointment(
    *, appointment: Appointment, by: User | None, now: datetime | None = None
) -> Appointment:
    """The patient has arrived: only on the day of the appointment, in its location's time
    zone. Checked in a week early, the appointment would no longer be booked when its
    reminders came due, and they would be withdrawn without anyone noticing."""
    return _change_status(
        appointment, Status.CHECKED_IN, by=by, now=now, stamp="checked_in_at", on_the_day=True
    )


def complete_appointment(
    *, appointment: Appointment, by: User | None, now: datetime | None = None
) -> Appointment:
    """The session took place."""
    return _change_status(
        appointment, Status.COMPLETED, by=by, now=now, stamp="completed_at", after_start=True
    )


def mark_no_show(
    *, appointment: Appointment, by: User | None, now: datetime | None = None
) -> Appointment:
    """The patient did not come. Frees the practitioner and the room for the rest of the slot.
    Refused for a session with a note (it took place) and for an assessment that later
    bookings rely on (reception moves or cancels those first, then books a new assessment)."""
    return _change_status(
        appointment, Status.NO_SHOW, by=by, now=now, after_start=True, session_did_not_happen=True
    )


def _change_status(
    appointment: Appointment,
    status: str,
    *,
    by: User | None,
    now: datetime | None,
    stamp: str | None = None,
    after_start: bool = False,
    on_the_day: bool = False,
    session_did_not_happen: bool = False,
) -> Appointment:
    now = now or timezone.now()
    with transaction.atomic():
        current = _lock(appointment)
        if status not in ALLOWED_TRANSITIONS[current.status]:
            raise DomainError(
                "invalid_status_transition",
                f"A {current.get_status_display().lower()} appointment cannot become "
                f"{Status(status).label.lower()}.",
            )
        if (
            on_the_day
            and now.astimezone(current.location.zone).date() != current.local_start.date()
        ):
            raise DomainError(
                "not_on_the_day",
                f"The appointment is on {current.local_start:%A %d %B %Y}; it can be marked "
                f"{Status(status).label.lower()} only on that day.",
            )
        if after_start and now < current.start:
            raise DomainError(
                "appointment_not_started",
                f"The appointment has not started yet; it cannot be marked "
                f"{Status(status).label.lower()}.",
            )
        if session_did_not_happen:
            _check_has_no_note(current, f"marked {Status(status).label.lower()}")
            _check_no_bookings_depend_on(current, moved_to=None)
        current.status = status
        current.updated_by = by
        fields = ["status", "updated_at", "updated_by"]
        if stamp:
            setattr(current, stamp, now)
            fields.append(stamp)
        save_at(current, now, update_fields=fields)
    return current


def undo_status_change(
    *,
    appointment: Appointment,
    by: User | None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Put a check-in or a no-show made by mistake back to booked, written to the audit log
    (who undid what, from where) in the same transaction.

    Refused for a session with a treatment note (it took place). A no-show gave up the
    practitioner's and the room's time: the appointment takes them back in a free place of a
    room, and is refused (`slot_unavailable`) when someone has been booked there since.
    Reminders that were withdrawn while it was not booked stay withdrawn."""
    now = now or timezone.now()

    def undo() -> Appointment:
        with transaction.atomic():
            current = _lock(appointment)
            if current.status not in UNDOABLE_STATUSES:
                raise DomainError(
                    "invalid_status_transition",
                    f"A {current.get_status_display().lower()} appointment has no check-in or "
                    f"no-show to undo.",
                )
            undone = Status(current.status)
            _check_has_no_note(current, f"put back from {undone.label.lower()} to booked")
            current.status = Status.BOOKED
            current.updated_by = by
            changed = ["status"]
            if undone == Status.CHECKED_IN:
                current.checked_in_at = None
                changed.append("checked_in_at")
            if undone == Status.NO_SHOW:
                _save_in_a_free_room(current, current.service, now)
            else:
                save_at(current, now, update_fields=[*changed, "updated_at", "updated_by"])
            record(
                Action.UPDATE,
                request=request,
                actor=by,
                obj=current,
                detail={"undo": str(undone), "fields": changed},
            )
        return current

    with _refusing_conflicts(appointment.practitioner):
        return _retrying_room_races(undo, now=now)


def change_working_time(
    *,
    practitioner_ids: Iterable[int],
    change: Callable[[], T],
    decision: str | None,
    by: User | None,
    now: datetime | None = None,
) -> tuple[T, list[Appointment]]:
    """Save a change to practitioners' working time — leave, a rota line and its breaks,
    extra hours, or their removal: `change` saves it — and settle the bookings it leaves
    outside that time. Returns what `change` returned and those bookings.

    One transaction: the bookings from `now` on that clash already (`upcoming_clashes`),
    the change, and those that clash afterwards. Those the change made clash need a
    `decision` (`ClashDecision`): without one it is refused, 409 `bookings_clash` naming
    each, and nothing is saved. KEEP and MOVE keep them, marked so (the diary flags every
    clash, and MOVE tells reception to move it); CANCEL cancels each through
    `cancel_appointment`, so the patient gets the cancellation notice and the reminders are
    withdrawn, latest first (an assessment after the bookings that rely on it). A booking
    that cannot be cancelled (it has a note, say) refuses the whole change."""
    now = now or timezone.now()
    practitioner_ids = set(practitioner_ids)
    if decision not in (None, "", *ClashDecision.values):
        raise DomainError.invalid("clash_decision", [f"Not one of {ClashDecision.values}."])
    with transaction.atomic():
        before = upcoming_clashes(practitioner_ids, now=now)
        result = change()
        after = upcoming_clashes(practitioner_ids, now=now)
        clashing = list(
            Appointment.objects.filter(pk__in=after.keys() - before.keys())
            .select_related("patient", "service", "practitioner__user", "location")
            .order_by("-start")
        )
        if clashing and not decision:
            named = "; ".join(
                f"{a.patient} — {a.service} on {a.local_start:%a %d %b %Y %H:%M} (#{a.pk}): "
                f"{after[a.pk]}"
                for a in reversed(clashing)
            )
            raise DomainError(
                "bookings_clash",
                f"{len(clashing)} booking(s) would be left outside the practitioner's working "
                f"time: {named}. Choose whether to keep them (flagged), flag them for reception "
                f"to move, or cancel them with a notice to each patient.",
                fields={"clash_decision": ["Choose what to do with the clashing bookings."]},
            )
        if decision == ClashDecision.CANCEL:
            for appointment in clashing:
                reason = f"The practitioner's working time changed: {after[appointment.pk]}"
                cancel_appointment(appointment=appointment, by=by, reason=reason, now=now)
        elif clashing:
            Appointment.objects.filter(pk__in=[a.pk for a in clashing]).update(
                clash_decision=decision, updated_by=by, updated_at=now
            )
        working_time_changed.send(
            sender=Practitioner, practitioner_ids=sorted(practitioner_ids), now=now
        )
    return result, clashing


def _lock(appointment: Appointment) -> Appointment:
    """The appointment's row, locked, after its patient's row (see the module's docstring)."""
    _lock_patient(appointment.patient_id)
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient", "service", "practitioner__user", "location", "room")
        .get(pk=appointment.pk)
    )


def _lock_patient(patient_id: int) -> Patient:
    return Patient.objects.select_for_update().get(pk=patient_id)


def _check_has_no_note(appointment: Appointment, verb: str) -> None:
    if _with_a_note(appointment.pk).exists():
        _refuse_having_a_note(verb)


def _with_a_note(appointment_id: int) -> QuerySet[Appointment]:
    """The appointment, if it has a treatment note: then the session took place, and its
    record would otherwise describe a visit that never happened. The note is locked with the
    session's row by `treatments.services.start_note`, so no note can appear between this
    look and the change."""
    return Appointment.objects.filter(pk=appointment_id, treatment_note__isnull=False)


def _refuse_having_a_note(verb: str) -> NoReturn:
    raise DomainError(
        "session_has_note",
        f"This session has a treatment note, so it took place; it cannot be {verb}.",
    )


def _check_outside_cancellation_window(
    appointment: Appointment, verb: str, now: datetime, rules: BookingRules
) -> None:
    window = rules.cancellation_window
    if now > appointment.start - window:
        hours = int(window.total_seconds() // 3600)
        raise DomainError(
            "inside_cancellation_window",
            f"Appointments cannot be {verb} online less than {hours} hours before they "
            f"start; please call the clinic.",
        )


def _check_bookable(
    *,
    patient_id: int | None,
    service: Service,
    practitioner: Practitioner,
    start: datetime,
    location_id: int | None,
    online: bool,
    now: datetime,
    rescheduling: Appointment | None = None,
) -> _Placement:
    """Every rule a booking (or a move, `rescheduling`) must pass, in the order its
    refusals are given. Call it holding the patient's row lock: what it reads of the
    patient's record and bookings then stays true until the transaction ends. Without a
    patient (a visitor holding a time) the patient's rules wait for the booking."""
    if timezone.is_naive(start):
        raise ValueError("start must be timezone-aware")
    # In UTC: arithmetic on a local zone's datetime is wall-clock arithmetic, which would
    # make a session that spans a clock change an hour too long or short.
    start = start.astimezone(UTC).replace(microsecond=0)
    end = start + service.duration
    facts = _booking_facts(
        patient_id=patient_id or 0,  # 0: no patient has it
        service=service,
        practitioner=practitioner,
        start=start,
        end=end,
        rescheduling=rescheduling,
        location_id=location_id,
    )
    rules = facts.rules
    if not facts.location_open:
        raise DomainError.invalid(
            "location", [f'Invalid pk "{location_id}" - object does not exist.']
        )

    if rescheduling is not None:
        if facts.session_has_note:
            _refuse_having_a_note("moved")
        if online:
            _check_outside_cancellation_window(rescheduling, "moved", now, rules)
    visitor = patient_id is None
    check_not_archived(facts.archived_at)
    if not facts.patient_is_active and not visitor:
        raise DomainError("patient_inactive", "This patient's record is not active.")
    if not service.is_active:
        raise DomainError("service_unavailable", f"{service} is no longer offered.")
    if online and not service.bookable_online:
        raise DomainError(
            "not_bookable_online", f"{service} cannot be booked online; please call the clinic."
        )
    if not facts.practitioner_delivers:
        raise DomainError(
            "practitioner_unavailable",
            f"{practitioner} does not deliver {service}.",
            fields={"practitioner": [f"{practitioner} does not deliver {service}."]},
        )
    if start <= now:
        raise DomainError("slot_in_past", "That time has already passed.")
    if online:
        if start < now + rules.online_lead_time:
            raise DomainError(
                "inside_lead_time",
                f"Online bookings must be made at least "
                f"{rules.online_lead_time_minutes} minutes ahead.",
            )
        if start > now + rules.online_horizon:
            raise DomainError(
                "beyond_booking_horizon",
                f"Online bookings open {rules.online_horizon_days} days ahead.",
            )

    window = _window_containing(practitioner, start, end, location_id)
    if online:
        local = start.astimezone(window.zone)
        if (local.hour * 60 + local.minute) % rules.slot_grid_minutes or local.second:
            raise DomainError(
                "not_on_slot_grid",
                f"Appointments start every {rules.slot_grid_minutes} minutes.",
            )
    if facts.practitioner_on_leave:
        raise DomainError("outside_hours", f"{practitioner} is on leave at that time.")
    needs_assessment = rules.new_patients_start_with_assessment and not service.is_assessment
    if needs_assessment and not facts.patient_assessed and not visitor:
        raise DomainError(
            "new_patient_needs_assessment",
            "New patients start with an initial assessment; please book that first.",
        )
    return _Placement(
        start=start,
        end=end,
        blocked_until=end + service.buffer_after,
        # The window lies at `location` when one was asked for.
        location_id=window.location_id,
        rules=rules,
        over_an_offer=facts.over_an_offer,
    )


@dataclass(frozen=True)
class _BookingFacts:
    """What `_check_bookable` asks of the database, read in one query."""

    rules: BookingRules
    archived_at: datetime | None
    patient_is_active: bool
    practitioner_delivers: bool
    practitioner_on_leave: bool
    patient_assessed: bool
    session_has_note: bool
    location_open: bool
    over_an_offer: bool


def _booking_facts(
    *,
    patient_id: int,
    service: Service,
    practitioner: Practitioner,
    start: datetime,
    end: datetime,
    rescheduling: Appointment | None,
    location_id: int | None,
) -> _BookingFacts:
    """The booking rules with, beside them, every fact about the patient, the practitioner
    and the diary that the checks need: one round trip instead of six, its SQL compiled once
    per service disciplines and kind of change (`kernel.compiled`)."""
    values = {
        "patient": patient_id,
        "practitioner": practitioner.pk,
        "start": start,
        "end": end,
        "blocked_until": end + service.buffer_after,
    }
    if rescheduling is not None:
        values["moved"] = rescheduling.pk
    if location_id is not None:
        values["location"] = location_id
    shape = (tuple(service.disciplines), rescheduling is not None, location_id is not None)
    rows = _BOOKING_FACTS.rows(shape, **values)
    if not rows:  # the rules' row is made on first use
        BookingRules.current()
        rows = _BOOKING_FACTS.rows(shape, **values)
    *rules, archived_at, is_active, delivers, on_leave, assessed, has_note, open_, offered = rows[0]
    return _BookingFacts(
        rules=BookingRules(**dict(zip(_RULES_FIELDS, rules, strict=True))),
        archived_at=archived_at,
        patient_is_active=bool(is_active),
        practitioner_delivers=delivers,
        practitioner_on_leave=on_leave,
        patient_assessed=assessed,
        session_has_note=has_note,
        location_open=open_,
        over_an_offer=offered,
    )


_RULES_FIELDS = tuple(field.attname for field in BookingRules._meta.concrete_fields)


def _booking_facts_query(
    shape: tuple[tuple[str, ...], bool, bool],
    *,
    patient: int,
    practitioner: int,
    start: datetime,
    end: datetime,
    blocked_until: datetime,
    moved: int | None = None,
    location: int | None = None,
) -> QuerySet:
    disciplines, _, _ = shape
    of_patient = Patient.objects.filter(pk=patient).order_by()
    delivering = Practitioner.objects.filter(practitioners_of(disciplines), pk=practitioner)
    return (
        BookingRules.objects.filter(pk=BookingRules.SINGLETON_ID)
        .annotate(
            fact_archived_at=Subquery(of_patient.values("archived_at")),
            fact_patient_is_active=Subquery(of_patient.values("is_active")),
            fact_delivers=Exists(delivering),
            fact_on_leave=Exists(
                Leave.objects.filter(practitioner_id=practitioner, start__lt=end, end__gt=start)
            ),
            fact_assessed=Exists(_assessed_before(patient, start, leaving_out_id=moved)),
            fact_has_note=Exists(_with_a_note(moved)) if moved else Value(False),
            fact_location_open=(
                Exists(Location.objects.filter(pk=location, is_active=True))
                if location
                else Value(True)
            ),
            fact_over_an_offer=Exists(
                SlotHold.objects.filter(
                    for_offer=True,
                    practitioner_id=practitioner,
                    start__lt=blocked_until,
                    blocked_until__gt=start,
                )
            ),
        )
        .values_list(
            *_RULES_FIELDS,
            "fact_archived_at",
            "fact_patient_is_active",
            "fact_delivers",
            "fact_on_leave",
            "fact_assessed",
            "fact_has_note",
            "fact_location_open",
            "fact_over_an_offer",
        )
    )


_BOOKING_FACTS = CompiledQuery(_booking_facts_query)


def _window_containing(
    practitioner: Practitioner, start: datetime, end: datetime, location_id: int | None
) -> WorkingWindow:
    # The local date differs by location; a day either side covers every zone.
    day = start.astimezone(timezone.get_default_timezone()).date()
    windows = working_windows(
        [practitioner.pk],
        day - timedelta(days=1),
        day + timedelta(days=1),
        location_id=location_id,
    )
    start_epoch, end_epoch = int(start.timestamp()), int(end.timestamp())
    for window in windows:
        if window.start <= start_epoch and end_epoch <= window.end:
            return window
    where = f" at {Location.objects.get(pk=location_id)}" if location_id else ""
    raise DomainError(
        "outside_hours",
        f"{practitioner} is not working{where} for the whole of that time.",
    )


def _assessed_before(
    patient_id: int, start: datetime, *, leaving_out_id: int | None
) -> QuerySet[Appointment]:
    """The new-patient rule: a booking at `start` needs an assessment booked (or held)
    before it, or any completed session (the patient is no longer new); these are the
    appointments that satisfy it. `leaving_out_id` is the appointment whose move or
    cancellation is being checked."""
    assessments = Service.objects.filter(is_assessment=True).values("pk")
    assessed = Appointment.objects.filter(
        Q(service__in=assessments, status__in=OCCUPYING_STATUSES, start__lt=start)
        | Q(status=Status.COMPLETED),
        patient_id=patient_id,
    )
    if leaving_out_id is not None:
        assessed = assessed.exclude(pk=leaving_out_id)
    return assessed


def assessed_before(patient_id: object, start: datetime) -> QuerySet[Appointment]:
    """The appointments that let `patient_id` (an id, or an `OuterRef` to one) book a
    treatment at `start` under the new-patient rule: the rule's one spelling, for whoever
    must ask it ahead of a booking (the waitlist's matching)."""
    return _assessed_before(patient_id, start, leaving_out_id=None)


def _check_no_bookings_depend_on(
    appointment: Appointment, *, moved_to: datetime | None, rules: BookingRules | None = None
) -> None:
    """The new-patient rule holds afterwards too: an assessment is not cancelled (or marked
    a no-show: `moved_to` None) nor moved to `moved_to` while a later booking of the patient
    would then have no assessment before it. The refusal names those bookings; reception
    cancels or moves them first (or books another assessment before them)."""
    if not appointment.service.is_assessment:
        return
    if not (rules or BookingRules.current()).new_patients_start_with_assessment:
        return
    later = (
        Appointment.objects.filter(
            patient_id=appointment.patient_id,
            status__in=OCCUPYING_STATUSES,
            start__gt=appointment.start,
            service__is_assessment=False,
        )
        .select_related("service")
        .order_by("start")
    )
    # Being assessed before a time stays true for every later time, so the bookings that
    # rely on this assessment come first: stop at the first one that does not.
    dependent = []
    for booking in later:
        if moved_to is not None and booking.start > moved_to:
            break
        assessed = _assessed_before(
            appointment.patient_id, booking.start, leaving_out_id=appointment.pk
        )
        if assessed.exists():
            break
        dependent.append(booking)
    if dependent:
        named = "; ".join(
            f"{booking.service} on {booking.local_start:%a %d %b %Y %H:%M} (#{booking.pk})"
            for booking in dependent
        )
        raise DomainError(
            "assessment_has_dependent_bookings",
            f"Later bookings rely on this assessment: {named}. Cancel or move them first, "
            f"or book another assessment before them.",
        )


def _save_in_a_free_room(
    appointment: Appointment | SlotHold,
    service: Service,
    now: datetime,
    location: Location | None = None,
) -> None:
    """Put the appointment in the first free place of a room of the service's kind at its
    location, in one look (`_ROOMS_WITH_TAKEN_PLACES`) and one write.

    Another transaction may take the same place between our look and our write; the
    exclusion constraint then refuses ours, and `_retrying_room_races` runs the whole
    booking again, which then sees that place taken.
    """
    values = {
        "location": appointment.location_id,
        # The lower bound keeps the overlap an index range scan instead of the room's history.
        "after": appointment.start - MAX_APPOINTMENT_SPAN,
        "before": appointment.blocked_until,
        "start": appointment.start,
        "now": now,
    }
    moving = isinstance(appointment, Appointment) and not appointment._state.adding
    if moving:
        values["moving"] = appointment.pk
    rows = _ROOMS_WITH_TAKEN_PLACES.rows((service.room_kind, moving), **values)
    free = next(
        (
            (row, place)
            for row in rows
            for place in range(1, row[_CAPACITY] + 1)
            if place not in row[-1]
        ),
        None,
    )
    if free is None:
        kind = Room._meta.get_field("kind")
        kind_label = dict(kind.choices).get(service.room_kind, service.room_kind).lower()
        where = location or Location.objects.get(pk=appointment.location_id)
        raise DomainError("slot_unavailable", f"No {kind_label} is free at {where} at that time.")
    row, appointment.room_place = free
    room_at = len(_ROOM_FIELDS)
    appointment.location = location or Location(
        **dict(zip(_LOCATION_FIELDS, row[room_at:-1], strict=True))
    )
    appointment.room = Room(**dict(zip(_ROOM_FIELDS, row[:room_at], strict=True)))
    appointment.room.location = appointment.location
    save_at(appointment, now)


_ROOM_FIELDS = tuple(field.attname for field in Room._meta.concrete_fields)
_CAPACITY = _ROOM_FIELDS.index("capacity")
_LOCATION_FIELDS = tuple(field.attname for field in Location._meta.concrete_fields)


def _rooms_with_taken_places(
    shape: tuple[str, bool],
    *,
    location: int,
    after: datetime,
    before: datetime,
    start: datetime,
    now: datetime,
    moving: int | None = None,
) -> QuerySet:
    """The active rooms of a kind at a location that no group class takes, by name, each
    with its location and the places that occupying appointments (leaving out the one
    `moving`) and live holds take between `start` and `before`."""
    kind, _ = shape
    overlapping = Appointment.objects.filter(
        room=OuterRef("pk"),
        status__in=OCCUPYING_STATUSES,
        start__gt=after,
        start__lt=before,
        blocked_until__gt=start,
    )
    if moving is not None:
        overlapping = overlapping.exclude(pk=moving)
    held = SlotHold.objects.filter(
        room=OuterRef("pk"),
        expires_at__gt=now,
        start__gt=after,
        start__lt=before,
        blocked_until__gt=start,
    )
    # A group class takes its whole room: none of its places is free.
    teaching = GroupClass.objects.filter(
        room=OuterRef("pk"),
        status=ClassStatus.SCHEDULED,
        start__gt=after,
        start__lt=before,
        blocked_until__gt=start,
    )
    return (
        Room.objects.filter(location_id=location, kind=kind, is_active=True)
        .exclude(Exists(teaching))
        .annotate(
            taken_places=Func(
                ArraySubquery(overlapping.values("room_place")),
                ArraySubquery(held.values("room_place")),
                function="array_cat",
                output_field=ArrayField(IntegerField()),
            )
        )
        .order_by("name")
        .values_list(
            *_ROOM_FIELDS, *(f"location__{name}" for name in _LOCATION_FIELDS), "taken_places"
        )
    )


_ROOMS_WITH_TAKEN_PLACES = CompiledQuery(_rooms_with_taken_places)


def _retrying_room_races(change: Callable[[], T], *, now: datetime) -> T:
    """Run `change` (a booking, a move or a hold, one transaction) again while it loses a
    race for a room place: the exclusion constraint (or the holds' trigger) refused its
    place, or PostgreSQL broke a deadlock between two such inserts. A race costs the loser
    one rolled-back transaction; the common case runs no savepoint. Each retry sees at least
    one more place taken, so the retries are bounded.

    A refusal by a hold is tried again once the expired holds are deleted, if there were
    any: an expired hold blocks nothing, though its row is there until then (`SlotHold`).
    Then the refusal stands."""
    expired_cleared = False
    for _ in range(_ROOM_RACE_RETRIES):
        try:
            return change()
        except IntegrityError as error:
            name = _constraint_name(error)
            if name in _HELD_CONSTRAINTS and not expired_cleared:
                expired_cleared = True
                if _end_expired_holds(now):
                    continue
            if name not in _ROOM_PLACE_CONSTRAINTS:
                raise
        except OperationalError as error:
            if _sqlstate(error) != _DEADLOCK_DETECTED:
                raise
    raise DomainError(
        "slot_unavailable",
        "Another booking for that time was being made at the same moment; "
        "please pick the time again.",
    )


@contextmanager
def _refusing_conflicts(practitioner: Practitioner) -> Iterator[None]:
    """Turn the database's refusals of a double booking into `slot_unavailable`."""
    try:
        yield
    except IntegrityError as error:
        message = _CONSTRAINT_MESSAGES.get(_constraint_name(error) or "")
        if message is None:
            raise
        raise DomainError("slot_unavailable", message.format(practitioner=practitioner)) from error
    except OperationalError as error:
        if _sqlstate(error) not in _RETRYABLE_SQLSTATES:
            raise
        raise DomainError(
            "slot_unavailable",
            "Another booking for that time was being made at the same moment; "
            "please pick the time again.",
        ) from error


# deadlock_detected, serialization_failure, lock_not_available
_RETRYABLE_SQLSTATES = {_DEADLOCK_DETECTED, "40001", "55P03"}


def _constraint_name(error: Exception) -> str | None:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def _sqlstate(error: Exception) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)
