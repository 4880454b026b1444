"""The waitlist: patients waiting for an earlier time than the diary offers them now.

An entry says what the patient would take (a service; practitioners, locations, weekdays
and times of day, each empty for "any"; dates up to a latest one) and stays open until the
patient leaves, reception removes it, it is booked, or its latest date has passed. What the
database must never hold is refused there: two open entries of a patient for one service,
dates or times the wrong way round, weekdays outside Monday..Sunday. (The services
store the weekdays sorted and once each: PostgreSQL's checks cannot compare an array's
elements with each other without a function of our own.)
"""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Now

from appointments.models import Appointment, SlotHold
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


class FreedTime(models.Model):
    """Time that became free in the diary — a cancellation, a move away, leave removed,
    hours added — written in the change's own transaction (`receivers`), so it exists if and
    only if the change committed. The offer task processes each row once
    (`offers.process_freed_time`, claiming it with SKIP LOCKED)."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        help_text="None: wherever the practitioner works.",
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    created_at = models.DateTimeField(db_default=Now())
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "freed time"
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="freed_time_ordered")
        ]
        indexes = [
            # The task's queue: what is still to be offered, oldest first.
            models.Index(
                fields=["created_at"],
                condition=Q(processed_at__isnull=True),
                name="freed_time_unprocessed",
            )
        ]

    def __str__(self) -> str:
        return f"{self.practitioner_id} free {self.start:%Y-%m-%d %H:%M}-{self.end:%H:%M}"


class OfferPolicy(models.Model):
    """How freed time is offered: one row per service, or the default (no service) for the
    others. The manager edits it in the admin."""

    service = models.ForeignKey(
        Service,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        help_text="None: the default for every service without a row of its own.",
    )
    enabled = models.BooleanField(default=True, db_default=True)
    offers_at_once = models.PositiveSmallIntegerField(
        default=1,
        db_default=1,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="How many patients are offered one freed time at the same moment; the "
        "first to accept books it.",
    )
    min_notice_minutes = models.PositiveSmallIntegerField(
        default=60, db_default=60, help_text="No offer for a time starting sooner than this."
    )
    same_day_minutes = models.PositiveSmallIntegerField(
        default=15,
        db_default=15,
        validators=[MinValueValidator(1)],
        help_text="How long an offer of a time today is held (awake minutes).",
    )
    soon_days = models.PositiveSmallIntegerField(
        default=2, db_default=2, help_text="A time within this many days is 'soon'."
    )
    soon_minutes = models.PositiveSmallIntegerField(
        default=120,
        db_default=120,
        validators=[MinValueValidator(1)],
        help_text="How long an offer of a time soon is held (awake minutes).",
    )
    later_minutes = models.PositiveSmallIntegerField(
        default=720,
        db_default=720,
        validators=[MinValueValidator(1)],
        help_text="How long an offer of a later time is held (awake minutes).",
    )

    class Meta:
        verbose_name = "offer policy"
        verbose_name_plural = "offer policies"
        constraints = [
            # One row per service and one default (no service): 0 is no service's id.
            models.UniqueConstraint(Coalesce("service", 0), name="offer_policy_one_per_service"),
            models.CheckConstraint(
                condition=Q(offers_at_once__gte=1, offers_at_once__lte=10),
                name="offer_policy_offers_at_once_1_to_10",
            ),
            models.CheckConstraint(
                condition=Q(same_day_minutes__gte=1, soon_minutes__gte=1, later_minutes__gte=1),
                name="offer_policy_expiry_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"Offer policy for {self.service}" if self.service_id else "Default offer policy"


class OfferStatus(models.TextChoices):
    OFFERED = "offered", "Offered"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


LIVE_OFFER_PER_ENTRY = "waitlist_offer_one_live_per_entry"
LIVE_OFFER_PER_HOLD_AND_ENTRY = "waitlist_offer_one_live_per_hold_entry"
OFFER_ENDED_WITH_TIME = "waitlist_offer_ended_at_when_not_offered"
OFFER_TIMES_ORDERED = "waitlist_offer_times_ordered"


class WaitlistOffer(models.Model):
    """A freed time held (`SlotHold`, the booking site's hold, owned by no patient) and
    offered to a waitlisted patient until `expires_at`. Up to the policy's `offers_at_once`
    offers share one hold; the first to accept books with it, and the hold's row, locked and
    then deleted by that booking, is what makes a second acceptance find nothing
    (`offers.accept_offer`). The time is copied here: the hold goes once the offer ends.

    The database keeps one live offer per entry. The link's token signs `public_id`."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    entry = models.ForeignKey(WaitlistEntry, on_delete=models.PROTECT, related_name="offers")
    # Not a constraint: a hold is deleted by the booking that takes it, by its release and
    # by beat once expired, on the booking path, where a cascade to this table would cost
    # every booking statements. A hold id whose row is gone means the time is no longer
    # held (`offers.sweep_offers` withdraws such offers; accepting one is `offer_taken`).
    hold = models.ForeignKey(
        SlotHold,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        help_text="The hold while the offer is live; gone once it is booked or released.",
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(
        max_length=10,
        choices=OfferStatus.choices,
        default=OfferStatus.OFFERED,
        db_default=OfferStatus.OFFERED,
    )
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The booking an accepted offer made (or moved).",
    )
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        help_text="Reception, for an offer made by hand; empty when the clinic offered it.",
    )

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry"],
                condition=Q(status=OfferStatus.OFFERED),
                name=LIVE_OFFER_PER_ENTRY,
            ),
            models.UniqueConstraint(
                fields=["hold", "entry"],
                condition=Q(status=OfferStatus.OFFERED),
                name=LIVE_OFFER_PER_HOLD_AND_ENTRY,
            ),
            models.CheckConstraint(
                condition=(Q(status=OfferStatus.OFFERED) & Q(ended_at__isnull=True))
                | (~Q(status=OfferStatus.OFFERED) & Q(ended_at__isnull=False)),
                name=OFFER_ENDED_WITH_TIME,
            ),
            models.CheckConstraint(
                condition=Q(start__lt=F("end")) & Q(sent_at__lt=F("expires_at")),
                name=OFFER_TIMES_ORDERED,
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(status=OfferStatus.OFFERED),
                name="waitlist_offer_live_expiry",
            ),
            models.Index(fields=["practitioner", "start"], name="waitlist_offer_time"),
        ]

    def __str__(self) -> str:
        return f"Offer to {self.entry.patient} of {self.start:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.status == OfferStatus.OFFERED
