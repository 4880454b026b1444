import uuid
from datetime import datetime, timedelta

import pgtrigger
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import (
    ArrayField,
    DateTimeRangeField,
    RangeBoundary,
    RangeOperators,
)
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Func, Q
from django.utils import timezone

from kernel.triggers import UnskippableTrigger, refusal
from patients.models import Patient
from practice.models import Location, Practitioner, Room, Service, bumps_diary_version


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Status(models.TextChoices):
    BOOKED = "booked", "Booked"
    CHECKED_IN = "checked_in", "Checked in"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    LATE_CANCELLED = "late_cancelled", "Late cancellation"
    NO_SHOW = "no_show", "No-show"


# Appointments in these states hold their practitioner, patient and room place.
OCCUPYING_STATUSES = (Status.BOOKED, Status.CHECKED_IN, Status.COMPLETED)
CANCELLED_STATUSES = (Status.CANCELLED, Status.LATE_CANCELLED)
# Not over for the patient yet, while the session has not ended: still to come, or they are
# in the clinic now.
UPCOMING_STATUSES = (Status.BOOKED, Status.CHECKED_IN)
# A check-in or a no-show recorded by mistake is put back to booked by staff
# (`services.undo_status_change`); a completion or a cancellation is final.
UNDOABLE_STATUSES = (Status.CHECKED_IN, Status.NO_SHOW)

# The lifecycle: which status may follow which.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.BOOKED: frozenset(
        {
            Status.CHECKED_IN,
            Status.COMPLETED,
            Status.CANCELLED,
            Status.LATE_CANCELLED,
            Status.NO_SHOW,
        }
    ),
    Status.CHECKED_IN: frozenset({Status.COMPLETED}),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.LATE_CANCELLED: frozenset(),
    Status.NO_SHOW: frozenset(),
}


class ClashDecision(models.TextChoices):
    """What was decided for a booking that a change of its practitioner's working time (leave,
    a rota change) left outside it (`services.change_working_time`). Cancelling leaves none:
    the booking is cancelled."""

    KEEP = "keep", "Keep them, flagged"
    MOVE = "move", "Flag them for reception to move"
    CANCEL = "cancel", "Cancel them, with a notice to each patient"


class ConfirmedVia(models.TextChoices):
    """How the patient said they will come (`services.confirm_appointment`)."""

    SMS_REPLY = "sms_reply", "SMS reply"
    LINK = "link", "Link in a message"
    PATIENT = "patient", "Patient, online"
    RECEPTION = "reception", "Reception, on the phone"


class Source(models.TextChoices):
    ONLINE = "online", "Online (patient)"
    RECEPTION = "reception", "Reception"
    PRACTITIONER = "practitioner", "Practitioner"
    WAITLIST = "waitlist", "Waitlist offer (patient)"


_occupying = Q(status__in=OCCUPYING_STATUSES)


def _occupies(row: str) -> str:
    """SQL: whether the trigger's OLD or NEW row holds its practitioner and room place."""
    statuses = ", ".join(f"'{status}'" for status in OCCUPYING_STATUSES)
    return f"{row}.status IN ({statuses})"


# What free slots read of an appointment, beside whether it occupies: the rest (the
# patient, the price, notes, who did what when) changes no one's availability.
_PLACED = "practitioner_id, location_id, room_id, room_place, start, blocked_until"
_OLD_PLACED = ", ".join(f"OLD.{column}" for column in _PLACED.split(", "))
_NEW_PLACED = ", ".join(f"NEW.{column}" for column in _PLACED.split(", "))

# Slot holds (`SlotHold`) live in a table of their own, so an exclusion constraint cannot
# keep them apart from appointments. Two triggers do instead, one on each table: each takes
# a transaction-long advisory lock on the row's practitioner, then on its room, and only then
# looks at the other table. A booking and a hold of one practitioner or room therefore run
# one after the other, and the second sees what the first committed (each statement of a
# trigger function takes a fresh snapshot under READ COMMITTED). Locks are always taken
# practitioner first, then room, so two such writers cannot wait for each other in a circle.
# The classes (first key) keep these locks apart from any other advisory lock.
PRACTITIONER_LOCK = 17001
ROOM_LOCK = 17002
# The refusals' names (as constraint names): by practitioner or by room place, because a
# room place lost to a race is tried again elsewhere, a practitioner is not (`services`).
HELD_PRACTITIONER = "appointment_held_practitioner"
HELD_ROOM_PLACE = "appointment_held_room_place"
BOOKED_PRACTITIONER = "slot_hold_booked_practitioner"
BOOKED_ROOM_PLACE = "slot_hold_booked_room_place"


# What every trigger that keeps times apart does first.
_LOCKING_PRACTITIONER_AND_ROOM = f"""PERFORM pg_advisory_xact_lock({PRACTITIONER_LOCK}, NEW.practitioner_id::integer);
        PERFORM pg_advisory_xact_lock({ROOM_LOCK}, NEW.room_id::integer);"""  # noqa: E501


def _refusing_overlaps(other_table: str, alias: str, *, occupying: bool, names: tuple[str, str]):
    """PL/pgSQL: lock NEW's practitioner, then its room; refuse NEW where a row of
    `other_table` takes its practitioner, then where one takes its room place, at an
    overlapping time (the bound on `start` keeps each an index range scan)."""
    when = f"{_occupies(alias)} AND " if occupying else ""
    return f"""
        {_LOCKING_PRACTITIONER_AND_ROOM}
        {_overlap_refusals(other_table, alias, when, names, whole_room=False)}
        RETURN NEW;
    """


def _overlap_refusals(
    other_table: str, alias: str, when: str, names: tuple[str, str], *, whole_room: bool
) -> str:
    """PL/pgSQL: refuse NEW where a row of `other_table` (those `when` says) takes NEW's
    practitioner, then where one takes its room place — or, `whole_room`, any place of its
    room: a group class takes the whole room, and has no place of its own."""
    overlap = (
        f"{alias}.start > NEW.start - interval '24 hours'"
        f" AND {alias}.start < NEW.blocked_until AND {alias}.blocked_until > NEW.start"
    )
    practitioner, room = names
    same_place = "" if whole_room else f" AND {alias}.room_place = NEW.room_place"
    taken = "That room" if whole_room else "That room place"
    return f"""IF EXISTS (
            SELECT 1 FROM {other_table} {alias}
            WHERE {when}{alias}.practitioner_id = NEW.practitioner_id AND {overlap}
        ) THEN
            {refusal("The practitioner is taken at that time.", name=practitioner)}
        END IF;
        IF EXISTS (
            SELECT 1 FROM {other_table} {alias}
            WHERE {when}{alias}.room_id = NEW.room_id{same_place}
            AND {overlap}
        ) THEN
            {refusal(f"{taken} is taken at that time.", name=room)}
        END IF;"""


def _respecting_holds(name: str, operation: pgtrigger.Operation, condition: str):
    """An occupying appointment is refused where a hold sits, expired or not: the booking
    path then deletes the expired holds and tries again (`services`)."""
    return UnskippableTrigger(
        name=name,
        when=pgtrigger.Before,
        operation=operation,
        condition=pgtrigger.Condition(condition),
        func=_refusing_overlaps(
            "appointments_slothold",
            "h",
            occupying=False,
            names=(HELD_PRACTITIONER, HELD_ROOM_PLACE),
        ),
    )


# A class takes its coach and its whole room (the gym) from its start until `blocked_until`,
# as an appointment takes its practitioner and a room place. Classes live in a table of
# their own, so the appointments' exclusion constraints cannot see them: triggers on each
# side (appointments and holds refusing a class's time, classes refusing theirs) keep them
# apart, under the same advisory locks as the holds' triggers, so that a class and a
# booking of one coach or room run one after the other.
CLASS_TAKES_PRACTITIONER = "group_class_takes_practitioner"
CLASS_TAKES_ROOM = "group_class_takes_room"
CLASS_REFUSED_BY_PRACTITIONER = "group_class_practitioner_taken"
CLASS_REFUSED_BY_ROOM = "group_class_room_taken"
MAX_CLASS_CAPACITY = 30


class ClassStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"


class PlaceStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CANCELLED = "cancelled", "Cancelled"


class Attendance(models.TextChoices):
    ARRIVED = "arrived", "Arrived"
    NO_SHOW = "no_show", "No-show"
    LATE_CANCEL = "late_cancel", "Late cancellation"


def _class_scheduled(row: str) -> str:
    return f"{row}.status = '{ClassStatus.SCHEDULED}'"


_CLASS_PLACED = "practitioner_id, room_id, start, blocked_until"
_OLD_CLASS_PLACED = ", ".join(f"OLD.{column}" for column in _CLASS_PLACED.split(", "))
_NEW_CLASS_PLACED = ", ".join(f"NEW.{column}" for column in _CLASS_PLACED.split(", "))


_KEEPING_OUT_OF_CLASSES = "\n        ".join(
    (
        "",
        _LOCKING_PRACTITIONER_AND_ROOM,
        _overlap_refusals(
            "appointments_groupclass",
            "c",
            f"{_class_scheduled('c')} AND ",
            (CLASS_TAKES_PRACTITIONER, CLASS_TAKES_ROOM),
            whole_room=True,
        ),
        "RETURN NEW;\n",
    )
)


def _respecting_classes(
    name: str, operation: pgtrigger.Operation, condition: str | None = None
) -> UnskippableTrigger:
    """An occupying appointment, or a hold, is refused where a scheduled class takes its
    practitioner or its room."""
    return UnskippableTrigger(
        name=name,
        when=pgtrigger.Before,
        operation=operation,
        condition=pgtrigger.Condition(condition) if condition else None,
        func=_KEEPING_OUT_OF_CLASSES,
    )


# A course books at most a year of weekly visits in one step.
MAX_COURSE_VISITS = 52
MAX_COURSE_INTERVAL_WEEKS = 12


class Course(models.Model):
    """A series of visits booked in one step ("NMPT Tue/Thu 7:00 for eight weeks"): the
    rule it was asked with, and its visits (`Appointment.course`), each a real appointment
    booked by the same service and refused by the same checks and constraints as any other.
    The rule is kept as asked; a visit moved or cancelled later is the appointment's own
    change (`courses`)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="courses")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="Who the visits are with, unless a visit was booked with someone else.",
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    first_date = models.DateField()
    at = models.TimeField(help_text="The visits' start, on the location's clock.")
    weekdays = ArrayField(models.PositiveSmallIntegerField(), help_text="0 = Monday .. 6 = Sunday.")
    every_weeks = models.PositiveSmallIntegerField(default=1)
    visits = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="How many visits; or an end date."
    )
    until = models.DateField(null=True, blank=True, help_text="The last day a visit may fall on.")
    source = models.CharField(max_length=20, choices=Source.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(visits__isnull=False, until__isnull=True)
                | Q(visits__isnull=True, until__isnull=False),
                name="course_ends_by_count_or_date",
            ),
            models.CheckConstraint(
                condition=Q(visits__isnull=True) | Q(visits__gte=1, visits__lte=MAX_COURSE_VISITS),
                name="course_visits_in_range",
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=F("first_date")),
                name="course_until_not_before_first_date",
            ),
            models.CheckConstraint(
                condition=Q(every_weeks__gte=1, every_weeks__lte=MAX_COURSE_INTERVAL_WEEKS),
                name="course_every_weeks_in_range",
            ),
            models.CheckConstraint(
                condition=Q(weekdays__contained_by=list(range(7))) & ~Q(weekdays=[]),
                name="course_weekdays_monday_to_sunday",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} course for {self.patient} from {self.first_date}"


class Appointment(models.Model):
    """One booked session. `blocked_until` is the end plus the service's buffer: the
    practitioner and the room stay taken until then, the patient only until `end`."""

    # The (patient|practitioner|location, start) indexes below serve these foreign keys too.
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="appointments", db_index=False
    )
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="appointments", db_index=False
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="appointments", db_index=False
    )
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="appointments")
    room_place = models.PositiveSmallIntegerField(
        default=1, help_text="Which of the room's places (1..capacity) the session uses."
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    blocked_until = models.DateTimeField()
    price = models.DecimalField(max_digits=8, decimal_places=2)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED)
    source = models.CharField(max_length=20, choices=Source.choices)
    note = models.CharField(max_length=500, blank=True, help_text="For the front desk.")
    # Who-did-it links are read with the appointment, never searched by user: no index.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        help_text="Who last moved, cancelled or changed the status of the appointment.",
    )
    rescheduled_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    # The patient's word that they will come; a move clears it (they confirmed another time).
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_via = models.CharField(
        max_length=20,
        choices=ConfirmedVia.choices,
        blank=True,
        default="",
        db_default="",  # as clash_decision's
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    cancellation_reason = models.CharField(max_length=500, blank=True)
    course = models.ForeignKey(
        Course,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        help_text="The course it was booked as a visit of.",
    )
    clash_decision = models.CharField(
        max_length=10,
        choices=[(ClashDecision.KEEP, "Kept"), (ClashDecision.MOVE, "To be moved")],
        blank=True,
        default="",
        db_default="",  # rows written by SQL alone (imports, the benches) need none
        help_text="Decided when a change of the practitioner's working time left this booking "
        "outside it. Whether it clashes now is worked out afresh (`clashes.clashes_among`).",
    )

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lt=F("end")) & Q(end__lte=F("blocked_until")),
                name="appointment_times_ordered",
            ),
            models.CheckConstraint(condition=Q(room_place__gte=1), name="appointment_room_place"),
            # Bounds the index scan that finds the appointments overlapping a window.
            models.CheckConstraint(
                condition=Q(blocked_until__lte=F("start") + timedelta(hours=24)),
                name="appointment_at_most_a_day",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=CANCELLED_STATUSES) | Q(cancelled_at__isnull=False),
                name="appointment_cancellation_recorded",
            ),
            ExclusionConstraint(
                name="appointment_no_practitioner_overlap",
                expressions=[
                    ("practitioner", RangeOperators.EQUAL),
                    (TsTzRange("start", "blocked_until", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=_occupying,
            ),
            ExclusionConstraint(
                name="appointment_no_patient_overlap",
                expressions=[
                    ("patient", RangeOperators.EQUAL),
                    (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=_occupying,
            ),
            ExclusionConstraint(
                name="appointment_no_room_place_overlap",
                expressions=[
                    ("room", RangeOperators.EQUAL),
                    ("room_place", RangeOperators.EQUAL),
                    (TsTzRange("start", "blocked_until", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=_occupying,
            ),
        ]
        indexes = [
            models.Index(
                fields=["start"], condition=_occupying, name="appointment_occupying_start"
            ),
            # Every status: lists ordered by the session's time (the front desk's diary)
            # walk it and stop at a page instead of sorting every row.
            models.Index(fields=["start"], name="appointment_start"),
            models.Index(fields=["patient", "start"], name="appointment_patient_start"),
            # With what makes a booking a care relationship (`care.selectors.in_care_of`):
            # a practitioner's patients are read from the index alone.
            models.Index(
                fields=["practitioner", "start"],
                include=["patient", "status", "source", "created_by"],
                name="appointment_practitioner_start",
            ),
            models.Index(fields=["location", "start"], name="appointment_location_start"),
        ]
        triggers = [
            bumps_diary_version(
                "appointment_booked_bumps_diary_version",
                operation=pgtrigger.Insert,
                condition=pgtrigger.Condition(_occupies("NEW")),
                locations="ARRAY[NEW.location_id]",
            ),
            # Moved (old and new location), cancelled, no-show, or put back.
            bumps_diary_version(
                "appointment_change_bumps_diary_version",
                operation=pgtrigger.Update,
                # Parenthesized whole: pgtrigger adds none to a condition opening with "(".
                condition=pgtrigger.Condition(
                    f"(({_occupies('OLD')}) IS DISTINCT FROM ({_occupies('NEW')})"
                    f" OR ({_occupies('OLD')}"
                    f" AND ({_OLD_PLACED}) IS DISTINCT FROM ({_NEW_PLACED})))"
                ),
                locations="ARRAY[OLD.location_id, NEW.location_id]",
            ),
            bumps_diary_version(
                "appointment_removal_bumps_diary_version",
                operation=pgtrigger.Delete,
                condition=pgtrigger.Condition(_occupies("OLD")),
                locations="ARRAY[OLD.location_id]",
            ),
            _respecting_holds(
                "appointment_booked_respects_holds", pgtrigger.Insert, _occupies("NEW")
            ),
            # Moved, or taking its time again (a no-show undone).
            _respecting_holds(
                "appointment_change_respects_holds",
                pgtrigger.Update,
                f"({_occupies('NEW')} AND (NOT ({_occupies('OLD')})"
                f" OR ({_OLD_PLACED}) IS DISTINCT FROM ({_NEW_PLACED})))",
            ),
            _respecting_classes(
                "appointment_booked_respects_classes", pgtrigger.Insert, _occupies("NEW")
            ),
            _respecting_classes(
                "appointment_change_respects_classes",
                pgtrigger.Update,
                f"({_occupies('NEW')} AND (NOT ({_occupies('OLD')})"
                f" OR ({_OLD_PLACED}) IS DISTINCT FROM ({_NEW_PLACED})))",
            ),
        ]

    def __str__(self) -> str:
        when = timezone.localtime(self.start)
        return f"{self.service} for {self.patient} with {self.practitioner}, {when:%Y-%m-%d %H:%M}"

    @property
    def is_occupying(self) -> bool:
        return self.status in OCCUPYING_STATUSES

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(self.location.zone)

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(self.location.zone)


class BookingRequest(models.Model):
    """A `POST /appointments/` remembered by its Idempotency-Key, so that a phone retrying
    on a bad network gets the first answer again instead of a second booking."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="booking_request_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.response_status})"


class SlotHold(models.Model):
    """A free time kept for someone for a few minutes (`settings.HOLD_MINUTES`) while they
    sign in or register and fill the intake: nobody else can book or hold it meanwhile, and
    availability does not offer it. Not an appointment: no patient's list, message, care
    relationship or export ever sees one.

    An expired hold blocks nothing from the moment it expires, though its row may outlive
    it: availability reads only live holds, and a booking or hold refused by an expired
    one deletes the expired holds and tries again (`services`); beat deletes the rest.
    Its `id` is its secret: whoever has it may book with it or release it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Holds are minutes long: they never keep the catalogue's rows from being deleted.
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+", db_index=False)
    room_place = models.PositiveSmallIntegerField(default=1)
    start = models.DateTimeField()
    end = models.DateTimeField()
    blocked_until = models.DateTimeField()
    expires_at = models.DateTimeField()
    patient = models.ForeignKey(
        Patient,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="The signed-in patient who holds it; empty for a visitor.",
    )
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    for_offer = models.BooleanField(
        default=False,
        help_text="Held by the clinic to offer the time (the waitlist's offers): a booking "
        "by staff over it ends it; a patient's or a visitor's hold it never is.",
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lt=F("end")) & Q(end__lte=F("blocked_until")),
                name="slot_hold_times_ordered",
            ),
            models.CheckConstraint(
                condition=Q(for_offer=False) | Q(patient__isnull=True, client_ip__isnull=True),
                name="slot_hold_for_offer_has_no_holder",
            ),
            models.CheckConstraint(
                condition=Q(blocked_until__lte=F("start") + timedelta(hours=24)),
                name="slot_hold_at_most_a_day",
            ),
            ExclusionConstraint(
                name="slot_hold_no_practitioner_overlap",
                expressions=[
                    ("practitioner", RangeOperators.EQUAL),
                    (TsTzRange("start", "blocked_until", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
            ),
            ExclusionConstraint(
                name="slot_hold_no_room_place_overlap",
                expressions=[
                    ("room", RangeOperators.EQUAL),
                    ("room_place", RangeOperators.EQUAL),
                    (TsTzRange("start", "blocked_until", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
            ),
        ]
        indexes = [
            models.Index(fields=["expires_at"], name="slot_hold_expires_at"),
            models.Index(fields=["client_ip", "expires_at"], name="slot_hold_client_ip"),
            models.Index(fields=["start"], name="slot_hold_start"),
        ]
        triggers = [
            UnskippableTrigger(
                name="slot_hold_respects_appointments",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert,
                func=_refusing_overlaps(
                    "appointments_appointment",
                    "a",
                    occupying=True,
                    names=(BOOKED_PRACTITIONER, BOOKED_ROOM_PLACE),
                ),
            ),
            _respecting_classes("slot_hold_respects_classes", pgtrigger.Insert),
            bumps_diary_version(
                "slot_hold_made_bumps_diary_version",
                operation=pgtrigger.Insert,
                locations="ARRAY[NEW.location_id]",
            ),
            bumps_diary_version(
                "slot_hold_ended_bumps_diary_version",
                operation=pgtrigger.Delete,
                locations="ARRAY[OLD.location_id]",
            ),
        ]

    def __str__(self) -> str:
        return f"Hold of {self.start:%Y-%m-%d %H:%M} until {self.expires_at:%H:%M:%S}"


class ClassSeries(models.Model):
    """Group classes scheduled in one step ("NMPT group Tue/Thu 7:00 for eight weeks"): the
    rule they were asked with (as a course's, `courses.CourseRule`) and the classes it made
    (`GroupClass.series`), each refused or accepted on its own. Patients book a place in
    one class or in every class of the series still to come."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    first_date = models.DateField()
    at = models.TimeField(help_text="The classes' start, on the location's clock.")
    weekdays = ArrayField(models.PositiveSmallIntegerField(), help_text="0 = Monday .. 6 = Sunday.")
    every_weeks = models.PositiveSmallIntegerField(default=1)
    classes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="How many classes; or an end date."
    )
    until = models.DateField(null=True, blank=True, help_text="The last day a class may fall on.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "class series"
        constraints = [
            models.CheckConstraint(
                condition=Q(weekdays__contained_by=list(range(7))) & ~Q(weekdays=[]),
                name="class_series_weekdays_monday_to_sunday",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} with {self.practitioner} from {self.first_date}"


_CLASS_REFUSALS = (CLASS_REFUSED_BY_PRACTITIONER, CLASS_REFUSED_BY_ROOM)
_CLASS_KEEPS_OUT_OF_THE_DIARY = "\n        ".join(
    (
        "",
        _LOCKING_PRACTITIONER_AND_ROOM,
        _overlap_refusals(
            "appointments_appointment",
            "a",
            f"{_occupies('a')} AND ",
            _CLASS_REFUSALS,
            whole_room=True,
        ),
        _overlap_refusals("appointments_slothold", "h", "", _CLASS_REFUSALS, whole_room=True),
        "RETURN NEW;\n",
    )
)


class GroupClass(models.Model):
    """A group session (NMPT in the gym): one coach, a room it takes whole, a capacity of
    places that patients book (`ClassPlace`). Scheduled, it blocks its coach and its room as
    an appointment does (see `CLASS_TAKES_PRACTITIONER`): no one-to-one session, hold or
    other class is put over it, and no class over them."""

    series = models.ForeignKey(
        ClassSeries,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="group_classes",
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="group_classes")
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.PROTECT,
        related_name="group_classes",
        db_index=False,
        verbose_name="coach",
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="group_classes", db_index=False
    )
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, related_name="group_classes", db_index=False
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    blocked_until = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField(help_text="How many patients can book a place.")
    bookable_online = models.BooleanField(
        default=True, help_text="Patients may book a place themselves, online."
    )
    status = models.CharField(
        max_length=20, choices=ClassStatus.choices, default=ClassStatus.SCHEDULED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    cancellation_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["start"]
        verbose_name = "group class"
        verbose_name_plural = "group classes"
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lt=F("end")) & Q(end__lte=F("blocked_until")),
                name="group_class_times_ordered",
            ),
            models.CheckConstraint(
                condition=Q(blocked_until__lte=F("start") + timedelta(hours=24)),
                name="group_class_at_most_a_day",
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1, capacity__lte=MAX_CLASS_CAPACITY),
                name="group_class_capacity_in_range",
            ),
            models.CheckConstraint(
                condition=Q(status=ClassStatus.SCHEDULED) | Q(cancelled_at__isnull=False),
                name="group_class_cancellation_recorded",
            ),
            ExclusionConstraint(
                name="group_class_no_practitioner_overlap",
                expressions=[
                    ("practitioner", RangeOperators.EQUAL),
                    (TsTzRange("start", "blocked_until", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=Q(status=ClassStatus.SCHEDULED),
            ),
            ExclusionConstraint(
                name="group_class_no_room_overlap",
                expressions=[
                    ("room", RangeOperators.EQUAL),
                    (TsTzRange("start", "blocked_until", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=Q(status=ClassStatus.SCHEDULED),
            ),
        ]
        indexes = [models.Index(fields=["start"], name="group_class_start")]
        triggers = [
            # Scheduled, moved while scheduled, or scheduled again: its coach and room must
            # be free of appointments and holds (of other classes: the exclusion constraints).
            UnskippableTrigger(
                name="group_class_scheduled_respects_the_diary",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert,
                condition=pgtrigger.Condition(_class_scheduled("NEW")),
                func=_CLASS_KEEPS_OUT_OF_THE_DIARY,
            ),
            UnskippableTrigger(
                name="group_class_change_respects_the_diary",
                when=pgtrigger.Before,
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    f"({_class_scheduled('NEW')} AND (NOT ({_class_scheduled('OLD')})"
                    f" OR ({_OLD_CLASS_PLACED}) IS DISTINCT FROM ({_NEW_CLASS_PLACED})))"
                ),
                func=_CLASS_KEEPS_OUT_OF_THE_DIARY,
            ),
            # Places are never more than the capacity, nor live in a cancelled class: the
            # class's row is locked against its places' writes (`ClassPlace`'s trigger).
            UnskippableTrigger(
                name="group_class_keeps_its_places",
                when=pgtrigger.Before,
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(
                    "(NEW.capacity < OLD.capacity OR NEW.status <> OLD.status)"
                ),
                func=f"""
        IF EXISTS (
            SELECT 1 FROM appointments_classplace p
            WHERE p.group_class_id = NEW.id AND p.status = '{PlaceStatus.BOOKED}'
            AND (p.seat > NEW.capacity OR NOT ({_class_scheduled("NEW")}))
        ) THEN
            {refusal("The class's booked places do not fit.", name="group_class_keeps_its_places")}
        END IF;
        RETURN NEW;
        """,
            ),
            bumps_diary_version(
                "group_class_bumps_diary_version",
                locations="ARRAY[OLD.location_id, NEW.location_id]",
            ),
        ]

    def __str__(self) -> str:
        when = timezone.localtime(self.start)
        return f"{self.service} with {self.practitioner}, {when:%Y-%m-%d %H:%M}"

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(self.location.zone)

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(self.location.zone)


_booked_place = Q(status=PlaceStatus.BOOKED)
PLACE_WITHIN_CAPACITY = "class_place_within_capacity"


class ClassPlace(models.Model):
    """A patient's place in a group class, with their own attendance. A booked place holds
    a seat, 1..the class's capacity, that no other booked place of the class holds: so the
    database itself never lets more patients in than the class has room for, however many
    book at once."""

    group_class = models.ForeignKey(GroupClass, on_delete=models.PROTECT, related_name="places")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="class_places")
    seat = models.PositiveSmallIntegerField(help_text="1..the class's capacity.")
    status = models.CharField(
        max_length=20, choices=PlaceStatus.choices, default=PlaceStatus.BOOKED
    )
    attendance = models.CharField(max_length=20, choices=Attendance.choices, blank=True, default="")
    source = models.CharField(max_length=20, choices=Source.choices)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    booked_at = models.DateTimeField()
    attendance_marked_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ["group_class", "seat"]
        constraints = [
            models.CheckConstraint(condition=Q(seat__gte=1), name="class_place_seat_positive"),
            models.UniqueConstraint(
                fields=["group_class", "seat"],
                condition=_booked_place,
                name="class_place_one_per_seat",
            ),
            models.UniqueConstraint(
                fields=["group_class", "patient"],
                condition=_booked_place,
                name="class_place_once_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(status=PlaceStatus.BOOKED) | Q(cancelled_at__isnull=False),
                name="class_place_cancellation_recorded",
            ),
            # Arrived or not is said of a booked place; a late cancellation of a cancelled one.
            models.CheckConstraint(
                condition=Q(attendance="")
                | Q(
                    status=PlaceStatus.BOOKED,
                    attendance__in=[Attendance.ARRIVED, Attendance.NO_SHOW],
                )
                | Q(status=PlaceStatus.CANCELLED, attendance=Attendance.LATE_CANCEL),
                name="class_place_attendance_fits_status",
            ),
        ]
        indexes = [models.Index(fields=["patient", "group_class"], name="class_place_patient")]
        triggers = [
            # The class's row is read FOR SHARE: a capacity cut or a cancellation of the
            # class (which locks it for update) and this place run one after the other.
            UnskippableTrigger(
                name="class_place_fits_its_class",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update,
                condition=pgtrigger.Condition(f"NEW.status = '{PlaceStatus.BOOKED}'"),
                func=f"""
        IF NOT EXISTS (
            SELECT 1 FROM appointments_groupclass c
            WHERE c.id = NEW.group_class_id AND {_class_scheduled("c")}
            AND NEW.seat <= c.capacity
            FOR SHARE
        ) THEN
            {refusal("The class is cancelled or has no such place.", name=PLACE_WITHIN_CAPACITY)}
        END IF;
        RETURN NEW;
        """,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} in {self.group_class}"
