"""The waitlist: patients waiting for an earlier time than the diary offers them now.

An entry says what the patient would take (a service; practitioners, locations, weekdays
and times of day, each empty for "any"; dates up to a latest one) and stays open until the
patient leaves, reception removes it, it is booked, or its latest date has passed. What the
database must never hold is refused there: two open entries of a patient for one service,
dates or times the wrong way round, weekdays outside Monday..Sunday. (The services
store the weekdays sorted and once each: PostgreSQL's checks cannot compare an array's
elements with each other without a function of our own.)
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q

from appointments.models import Appointment
from patients.models import Patient
from practice.models import Location, Practitioner, Service, Weekday

ONE_OPEN_ENTRY = "waitlist_one_open_entry_per_patient_service"
DATES_IN_ORDER = "waitlist_latest_date_not_before_earliest"
TIMES_IN_ORDER = "waitlist_earliest_time_before_latest"
WEEKDAYS_IN_RANGE = "waitlist_weekdays_monday_to_sunday"
WEEKDAYS_DISTINCT = "waitlist_weekdays_distinct"
ENDED_WITH_REASON = "waitlist_ended_with_reason"


class EndReason(models.TextChoices):
    LEFT = "left", "Left the waitlist"
    EXPIRED = "expired", "Latest date passed"
    BOOKED = "booked", "Booked"
    REMOVED_BY_STAFF = "removed_by_staff", "Removed by staff"


class WaitlistEntry(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="waitlist_entries")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    practitioners = models.ManyToManyField(
        Practitioner, blank=True, related_name="+", help_text="None: any practitioner."
    )
    locations = models.ManyToManyField(
        Location, blank=True, related_name="+", help_text="None: any location."
    )
    weekdays = ArrayField(
        models.PositiveSmallIntegerField(choices=Weekday.choices),
        default=list,
        blank=True,
        help_text="0 = Monday .. 6 = Sunday; none: any day.",
    )
    earliest_time = models.TimeField(null=True, blank=True)
    latest_time = models.TimeField(null=True, blank=True)
    earliest_date = models.DateField(null=True, blank=True)
    latest_date = models.DateField(help_text="The entry ends after this day.")
    sooner_than = models.ForeignKey(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The patient's booking this entry wants to bring forward.",
    )
    urgent = models.BooleanField(default=False)
    note = models.CharField(max_length=500, blank=True, help_text="For the front desk.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)

    class Meta:
        verbose_name = "waitlist entry"
        verbose_name_plural = "waitlist entries"
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "service"],
                condition=Q(ended_at__isnull=True),
                name=ONE_OPEN_ENTRY,
            ),
            models.CheckConstraint(
                condition=Q(earliest_date__isnull=True) | Q(latest_date__gte=F("earliest_date")),
                name=DATES_IN_ORDER,
            ),
            models.CheckConstraint(
                condition=Q(earliest_time__isnull=True)
                | Q(latest_time__isnull=True)
                | Q(earliest_time__lt=F("latest_time")),
                name=TIMES_IN_ORDER,
            ),
            # Contained by {0..6}: every weekday is one of Monday..Sunday.
            models.CheckConstraint(
                condition=Q(weekdays__contained_by=list(range(7))), name=WEEKDAYS_IN_RANGE
            ),
            models.CheckConstraint(
                condition=(Q(ended_at__isnull=True) & Q(end_reason=""))
                | (Q(ended_at__isnull=False) & ~Q(end_reason="")),
                name=ENDED_WITH_REASON,
            ),
        ]
        indexes = [
            # The expiry sweep reads the open entries by their latest date.
            models.Index(
                fields=["latest_date"],
                condition=Q(ended_at__isnull=True),
                name="waitlist_open_by_latest_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient} waiting for {self.service}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None
