"""How the clinic is set up: where it works, what it offers, who works when.

The manager edits all of this in the admin; the scheduling core in `appointments` reads it.
Rota times are wall-clock times in the location's zone, so a 09:00 start stays 09:00 on
both sides of a daylight-saving change.
"""

import zoneinfo
from datetime import time, timedelta
from decimal import Decimal

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from kernel.fields import ChoiceArrayField
from kernel.triggers import UnskippableTrigger, refusal

DIARY_VERSION_TABLE = "practice_diaryversion"


def bumps_diary_version(
    name: str,
    *,
    locations: str | None,
    operation: pgtrigger.Operation = pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
    condition: pgtrigger.Condition | None = None,
) -> UnskippableTrigger:
    """The trigger that moves the diary version (`DiaryVersion`) of `locations` on, in the
    transaction of the change, whoever writes it: the ORM, the admin, a seed, raw SQL.

    `locations` is an SQL array of location ids, e.g. "ARRAY[OLD.location_id,
    NEW.location_id]" (NEW is NULL on DELETE, OLD on INSERT); None means every location.

    Deferred to the commit: the version row is locked only from then until the commit is
    done, so two bookings at one location do not wait for each other's whole transaction.
    The version becomes the transaction's id, which a transaction takes once, however many
    rows it changes: its later events find their rows already bumped and lock nothing.
    Rows are locked in location order, so two transactions bumping several locations in
    one event each cannot deadlock on them.
    """
    where = "" if locations is None else f"location_id = ANY({locations}) AND "
    return UnskippableTrigger(
        name=name,
        when=pgtrigger.After,
        timing=pgtrigger.Deferred,
        operation=operation,
        condition=condition,
        func=f"""
        UPDATE {DIARY_VERSION_TABLE} SET version = txid_current()
        WHERE location_id IN (
            SELECT location_id FROM {DIARY_VERSION_TABLE}
            WHERE {where}version <> txid_current()
            ORDER BY location_id
            FOR UPDATE
        );
        RETURN NULL;
        """,
    )


# Leave, services, practitioners and the booking rules are not tied to one location.
_EVERY_LOCATION = None
_ITS_LOCATION = "ARRAY[OLD.location_id, NEW.location_id]"


class Discipline(models.TextChoices):
    MYOTHERAPY = "myotherapy", "Myotherapy"
    NMPT = "nmpt", "Neuro-Muscular Power Training"
    SCIATICA = "sciatica", "Sciatica specialist"


class RoomKind(models.TextChoices):
    TREATMENT = "treatment", "Treatment room"
    GYM = "gym", "Gym"


class DisciplinesField(ChoiceArrayField):
    """A set of disciplines (kept as its own class: the migrations name it)."""

    def __init__(self, **kwargs):
        kwargs.pop("base_field", None)
        super().__init__(choices=Discipline.choices, max_length=20, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("base_field", None)
        return name, path, args, kwargs


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Australia/Melbourne).")


class Location(models.Model):
    name = models.CharField(max_length=100, unique=True)
    address = models.CharField(max_length=255, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    time_zone = models.CharField(
        max_length=64, default="Australia/Melbourne", validators=[validate_time_zone]
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        triggers = [
            # Created and removed with the location, whoever writes it (a seed may COPY).
            UnskippableTrigger(
                name="location_has_a_diary_version",
                when=pgtrigger.After,
                operation=pgtrigger.Insert | pgtrigger.Delete,
                func=f"""
                IF TG_OP = 'INSERT' THEN
                    INSERT INTO {DIARY_VERSION_TABLE} (location_id, version)
                    VALUES (NEW.id, txid_current());
                ELSE
                    DELETE FROM {DIARY_VERSION_TABLE} WHERE location_id = OLD.id;
                END IF;
                RETURN NULL;
                """,
            ),
            # Its zone places every slot; closing it takes them all away.
            bumps_diary_version(
                "location_bumps_diary_version",
                locations="ARRAY[NEW.id]",
                operation=pgtrigger.Update,
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Room(models.Model):
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=RoomKind.choices)
    capacity = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="How many sessions the room holds at once (the gym takes several).",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["location", "name"], name="room_unique_name"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="room_capacity_positive"),
        ]
        triggers = [bumps_diary_version("room_bumps_diary_version", locations=_ITS_LOCATION)]

    def __str__(self) -> str:
        return f"{self.name} ({self.location})"


class Practitioner(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="practitioner"
    )
    title = models.CharField(max_length=100, help_text="Shown to patients, e.g. Myotherapist.")
    bio = models.TextField(blank=True)
    disciplines = DisciplinesField(help_text="What this practitioner delivers.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["user__first_name", "user__last_name"]
        # Who is active and what they deliver decide whose diary is searched, everywhere.
        triggers = [
            bumps_diary_version("practitioner_bumps_diary_version", locations=_EVERY_LOCATION)
        ]

    def __str__(self) -> str:
        return self.user.display_name


class Service(models.Model):
    """An appointment type: what is booked, for how long, by whom, in which kind of room."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(120)],
        help_text="Time after the session the practitioner and room stay blocked.",
    )
    price = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    room_kind = models.CharField(max_length=20, choices=RoomKind.choices)
    disciplines = DisciplinesField(help_text="Practitioners of any of these may deliver it.")
    bookable_online = models.BooleanField(default=True)
    courses_online = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Patients may book a course of it online (a series of visits in one step).",
    )
    is_assessment = models.BooleanField(
        default=False, help_text="The new-patient assessment every patient starts with."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5, duration_minutes__lte=480),
                name="service_duration_range",
            ),
            models.CheckConstraint(
                condition=Q(buffer_after_minutes__lte=120), name="service_buffer_range"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="service_price_not_negative"),
            models.CheckConstraint(condition=~Q(disciplines=[]), name="service_has_a_discipline"),
        ]
        triggers = [bumps_diary_version("service_bumps_diary_version", locations=_EVERY_LOCATION)]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def buffer_after(self) -> timedelta:
        return timedelta(minutes=self.buffer_after_minutes)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


BREAK_INSIDE_ITS_SHIFT = "break_inside_its_shift"
_BREAK_OUTSIDE_ITS_SHIFT_REFUSED = refusal(
    "a break must lie inside its shift", name=BREAK_INSIDE_ITS_SHIFT
)


class WorkingHours(models.Model):
    """One line of a practitioner's weekly rota: a weekday's hours at one location."""

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="rota")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="rota")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField(help_text="Wall-clock time at the location.")
    end_time = models.TimeField()
    valid_from = models.DateField(null=True, blank=True, help_text="Empty: since always.")
    valid_until = models.DateField(null=True, blank=True, help_text="Empty: until changed.")

    class Meta:
        verbose_name = "working hours"
        verbose_name_plural = "weekly rota"
        ordering = ["practitioner", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_time__lt=F("end_time")), name="working_hours_start_before_end"
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_from__lte=F("valid_until")),
                name="working_hours_valid_range",
            ),
        ]
        triggers = [
            bumps_diary_version("working_hours_bumps_diary_version", locations=_ITS_LOCATION),
            UnskippableTrigger(
                name="working_hours_keep_their_breaks",
                when=pgtrigger.Before,
                operation=pgtrigger.UpdateOf("start_time", "end_time"),
                func=f"""
                IF EXISTS (
                    SELECT 1 FROM practice_break
                    WHERE working_hours_id = NEW.id
                    AND (start_time < NEW.start_time OR end_time > NEW.end_time)
                ) THEN
                    {_BREAK_OUTSIDE_ITS_SHIFT_REFUSED}
                END IF;
                RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.practitioner} {self.get_weekday_display()} "
            f"{self.start_time:%H:%M}-{self.end_time:%H:%M} at {self.location}"
        )

    def clean(self) -> None:
        if self.start_time and self.end_time and self.start_time >= self.end_time:
            raise ValidationError({"end_time": "The shift must end after it starts."})
        if not self.practitioner_id or self.weekday is None or not self.start_time:
            return
        clashes = WorkingHours.objects.filter(
            practitioner_id=self.practitioner_id,
            weekday=self.weekday,
            start_time__lt=self.end_time,
            end_time__gt=self.start_time,
        ).exclude(pk=self.pk)
        for other in clashes:
            if _date_ranges_overlap(
                self.valid_from, self.valid_until, other.valid_from, other.valid_until
            ):
                raise ValidationError(f"These hours overlap the practitioner's shift: {other}.")
        if self.pk is not None and self.end_time:
            # The breaks as saved: move or delete a break first, then shorten the shift.
            outside = [b for b in self.breaks.all() if not self.holds(b.start_time, b.end_time)]
            if outside:
                raise ValidationError(
                    f"These hours leave a break outside the shift: {outside[0]}. "
                    "Move or delete the break first."
                )

    def holds(self, start: time, end: time) -> bool:
        """Whether a break from `start` to `end` lies inside these hours."""
        return self.start_time <= start and end <= self.end_time


class Break(models.Model):
    """A recurring break inside one rota line (lunch, admin time)."""

    working_hours = models.ForeignKey(WorkingHours, on_delete=models.CASCADE, related_name="breaks")
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_time__lt=F("end_time")), name="break_start_before_end"
            ),
        ]
        triggers = [
            # A CHECK constraint cannot read the shift's row; a trigger can.
            UnskippableTrigger(
                name=BREAK_INSIDE_ITS_SHIFT,
                when=pgtrigger.Before,
                operation=pgtrigger.Insert
                | pgtrigger.UpdateOf("working_hours_id", "start_time", "end_time"),
                func=f"""
                IF EXISTS (
                    SELECT 1 FROM practice_workinghours
                    WHERE id = NEW.working_hours_id
                    AND (NEW.start_time < start_time OR NEW.end_time > end_time)
                ) THEN
                    {_BREAK_OUTSIDE_ITS_SHIFT_REFUSED}
                END IF;
                RETURN NEW;
                """,
            ),
            # The rota line's location, read at commit: a break deleted with its line finds
            # no line then, but the line's own deletion bumps that location.
            bumps_diary_version(
                "break_bumps_diary_version",
                locations="""ARRAY(
                    SELECT location_id FROM practice_workinghours
                    WHERE id IN (OLD.working_hours_id, NEW.working_hours_id)
                )""",
            ),
        ]

    def __str__(self) -> str:
        return f"break {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    def clean(self) -> None:
        if not (self.start_time and self.end_time and self.working_hours_id is not None):
            return
        shift = self.working_hours
        if shift.start_time and shift.end_time and not shift.holds(self.start_time, self.end_time):
            raise ValidationError(
                f"A break must lie inside its shift "
                f"({shift.start_time:%H:%M}-{shift.end_time:%H:%M})."
            )


class Leave(models.Model):
    """Time a practitioner is away (holiday, sick, training): no slots inside it."""

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="leave")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name_plural = "leave"
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="leave_start_before_end"),
        ]
        indexes = [models.Index(fields=["practitioner", "end"], name="leave_practitioner_end")]
        triggers = [bumps_diary_version("leave_bumps_diary_version", locations=_EVERY_LOCATION)]

    def __str__(self) -> str:
        return f"{self.practitioner} away {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M}"


class ExtraHours(models.Model):
    """One-off hours outside the weekly rota (a Saturday clinic, covering a colleague)."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="extra_hours"
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="extra_hours")
    date = models.DateField()
    start_time = models.TimeField(help_text="Wall-clock time at the location.")
    end_time = models.TimeField()

    class Meta:
        verbose_name_plural = "extra hours"
        ordering = ["-date", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_time__lt=F("end_time")), name="extra_hours_start_before_end"
            ),
        ]
        triggers = [bumps_diary_version("extra_hours_bumps_diary_version", locations=_ITS_LOCATION)]

    def __str__(self) -> str:
        return f"{self.practitioner} {self.date} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


# The slot grids the clinic may choose: the divisors of an hour from 5 minutes, so that
# every hour's slots start on the hour and read as the clock does (6 and 12 divide the hour
# too, but give 08:06, 08:12…). A grid that does not divide the hour (7: 08:00, 08:07, …
# 08:56, 09:03) drifts off it.
SLOT_GRIDS = (5, 10, 15, 20, 30, 60)


class BookingRules(models.Model):
    """The clinic's booking rules; exactly one row (id 1), edited by the manager."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    slot_grid_minutes = models.PositiveSmallIntegerField(
        default=15,
        choices=[(minutes, f"{minutes} minutes") for minutes in SLOT_GRIDS],
        help_text="Appointments start on this grid of the local clock (15: :00, :15, :30, :45).",
    )
    online_lead_time_minutes = models.PositiveIntegerField(
        default=120, help_text="Patients booking online cannot book sooner than this."
    )
    online_horizon_days = models.PositiveSmallIntegerField(
        default=56, validators=[MinValueValidator(1)], help_text="...nor further ahead than this."
    )
    cancellation_window_hours = models.PositiveSmallIntegerField(
        default=24,
        help_text="Inside it patients cannot cancel or move online; reception's cancellations "
        "are recorded as late.",
    )
    new_patients_start_with_assessment = models.BooleanField(default=True)

    class Meta:
        verbose_name = verbose_name_plural = "booking rules"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="booking_rules_single_row"),
            models.CheckConstraint(
                condition=Q(slot_grid_minutes__in=SLOT_GRIDS),
                name="booking_rules_grid_divides_the_hour",
            ),
        ]
        triggers = [
            bumps_diary_version("booking_rules_bumps_diary_version", locations=_EVERY_LOCATION)
        ]

    def __str__(self) -> str:
        return "Booking rules"

    @classmethod
    def current(cls) -> "BookingRules":
        rules, _ = cls.objects.get_or_create(id=cls.SINGLETON_ID)
        return rules

    @property
    def slot_grid(self) -> timedelta:
        return timedelta(minutes=self.slot_grid_minutes)

    @property
    def online_lead_time(self) -> timedelta:
        return timedelta(minutes=self.online_lead_time_minutes)

    @property
    def online_horizon(self) -> timedelta:
        return timedelta(days=self.online_horizon_days)

    @property
    def cancellation_window(self) -> timedelta:
        return timedelta(hours=self.cancellation_window_hours)


def _date_ranges_overlap(a_from, a_until, b_from, b_until) -> bool:
    return (a_until is None or b_from is None or b_from <= a_until) and (
        b_until is None or a_from is None or a_from <= b_until
    )


class DiaryVersion(models.Model):
    """A number that changes, in the same transaction, with anything that can change the
    free slots at its location: what `appointments.slot_cache` keys its answers by.

    The database keeps it: a trigger on Location creates and removes the row, and the
    triggers declared with `bumps_diary_version` (here and on appointments) set `version`
    to the id of the transaction that changed the diary, at its commit.
    """

    location = models.OneToOneField(
        Location,
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the location's trigger removes the row
        related_name="+",
    )
    version = models.BigIntegerField(
        help_text="The id of the last transaction that changed this location's diary."
    )

    class Meta:
        db_table = DIARY_VERSION_TABLE  # the triggers and the cache's query name it
        default_permissions = ()  # the database keeps it: no one is given it to edit

    def __str__(self) -> str:
        return f"diary of location {self.location_id} at {self.version}"
