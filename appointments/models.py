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


def _refusing_overlaps(other_table: str, alias: str, *, occupying: bool, names: tuple[str, str]):
    """PL/pgSQL: lock NEW's practitioner, then its room; refuse NEW where a row of
    `other_table` takes its practitioner, then where one takes its room place, at an
    overlapping time (the bound on `start` keeps each an index range scan)."""
    when = f"{_occupies(alias)} AND " if occupying else ""
    overlap = (
        f"{alias}.start > NEW.start - interval '24 hours'"
        f" AND {alias}.start < NEW.blocked_until AND {alias}.blocked_until > NEW.start"
    )
    practitioner, room_place = names
    return f"""
        PERFORM pg_advisory_xact_lock({PRACTITIONER_LOCK}, NEW.practitioner_id::integer);
        PERFORM pg_advisory_xact_lock({ROOM_LOCK}, NEW.room_id::integer);
        IF EXISTS (
            SELECT 1 FROM {other_table} {alias}
            WHERE {when}{alias}.practitioner_id = NEW.practitioner_id AND {overlap}
        ) THEN
            {refusal("The practitioner is taken at that time.", name=practitioner)}
        END IF;
        IF EXISTS (
            SELECT 1 FROM {other_table} {alias}
            WHERE {when}{alias}.room_id = NEW.room_id AND {alias}.room_place = NEW.room_place
            AND {overlap}
        ) THEN
            {refusal("That room place is taken at that time.", name=room_place)}
        END IF;
        RETURN NEW;
    """


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
