import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from phonenumber_field.modelfields import PhoneNumberField

from kernel.triggers import Refuse

# The name under which PostgreSQL refuses to delete a patient or one of their clinical records.
RECORDS_ARE_NEVER_DELETED = "records_are_never_deleted"


def never_deleted(name: str) -> Refuse:
    """The trigger that refuses DELETE on a patient's record or a clinical record, whoever
    asks (the ORM, the admin, raw SQL): a record that is closed is archived instead."""
    return Refuse(
        name=name,
        operation=pgtrigger.Delete,
        message="DELETE on % refused: patients and their clinical records are never deleted "
        "(archive the patient instead)",
        args="TG_TABLE_NAME",
        refused_as=RECORDS_ARE_NEVER_DELETED,
    )


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class Patient(models.Model):
    """A person the clinic treats. Online patients have a login; others are kept by reception.

    Inactive patients are kept in reception's lists; archived ones (closed by a manager,
    `services.archive_patient`) are inactive too, and are hidden from all but managers.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="patient",
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    email = models.EmailField(blank=True)
    mobile = PhoneNumberField(blank=True, help_text="Stored in E.164, e.g. +61412345678.")
    preferred_channel = models.CharField(
        max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    consent_email = models.BooleanField(
        "email reminders", default=False, help_text="The patient agreed to messages by email."
    )
    consent_sms = models.BooleanField(
        "SMS reminders", default=False, help_text="The patient agreed to messages by SMS."
    )
    consents_updated_at = models.DateTimeField(null=True, blank=True)
    # What the email service or the SMS provider said of an address: a hard bounce, a spam
    # complaint, a dead number. Nothing more is sent to it until it is changed
    # (`services.update_patient_profile` clears the mark with the address).
    email_undeliverable = models.TextField(
        "email undeliverable",
        blank=True,
        default="",
        db_default="",  # rows written by SQL alone (imports, the benches) need none
        help_text="Why email to this address stopped (a bounce, a complaint); cleared when "
        "the address is changed.",
    )
    mobile_undeliverable = models.TextField(
        "mobile undeliverable",
        blank=True,
        default="",
        db_default="",  # rows written by SQL alone (imports, the benches) need none
        help_text="Why SMS to this number stopped (the provider's permanent failure); "
        "cleared when the number is changed.",
    )
    is_active = models.BooleanField(default=True)
    # A record is never deleted (PostgreSQL refuses: `never_deleted`): a manager archives it.
    archived_at = models.DateTimeField(null=True, blank=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    archive_reason = models.TextField(blank=True)
    # Set when a patient who registered online confirms their address and reception already
    # keeps a record with the same name and date of birth that the login could not simply
    # take over (`services.link_verified_login`): reception checks and merges by hand, then
    # clears it.
    possible_duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="A record reception keeps that is probably this same person (same name and "
        "date of birth): check, merge by hand, then clear this.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(Lower("last_name"), Lower("first_name"), name="patient_name_ci"),
            models.Index(fields=["date_of_birth"], name="patient_dob"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(consent_email=False) | ~Q(email=""),
                name="patient_email_consent_needs_email",
            ),
            models.CheckConstraint(
                condition=Q(consent_sms=False) | ~Q(mobile=""),
                name="patient_sms_consent_needs_mobile",
            ),
            # An archived record is inactive, and says by whom and why it was archived.
            models.CheckConstraint(
                condition=Q(archived_at__isnull=True)
                | Q(is_active=False, archived_by__isnull=False, archive_reason__gt=""),
                name="patient_archived_is_inactive_with_reason",
            ),
        ]
        triggers = [never_deleted("patient_is_never_deleted")]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def search_label(self) -> str:
        """How a patient is offered in search results: by name and date of birth."""
        return f"{self.full_name} (born {self.date_of_birth:%d/%m/%Y})"


class CareAssignment(models.Model):
    """Reception or a manager puts a patient in a practitioner's care: one of the care
    relationships that open the patient's clinical records to the practitioner
    (`selectors.in_care_of`). A practitioner cannot make one for themselves. Ending an
    assignment closes that way in; the row is kept, with who ended it and when."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_assignments")
    practitioner = models.ForeignKey(
        "practice.Practitioner", on_delete=models.PROTECT, related_name="care_assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-assigned_at", "-pk"]
        constraints = [
            # One open assignment per pair; its index serves the care-relationship subquery.
            models.UniqueConstraint(
                fields=["practitioner", "patient"],
                condition=Q(ended_at__isnull=True),
                name="care_assignment_one_open_per_pair",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_by__isnull=False),
                name="care_assignment_ended_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} in the care of {self.practitioner}"


class BreakGlassAccess(models.Model):
    """A practitioner without a care relationship opened one patient's clinical records
    for a while, saying why ("break the glass"). Managers review these; each one is also
    in the audit log. Never changed or deleted."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        "practice.Practitioner", on_delete=models.PROTECT, related_name="break_glass_accesses"
    )
    reason = models.TextField()
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "break-the-glass access"
        verbose_name_plural = "break-the-glass accesses"
        ordering = ["-granted_at", "-pk"]
        indexes = [
            models.Index(
                fields=["practitioner", "patient", "expires_at"], name="break_glass_lookup"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("granted_at")),
                name="break_glass_expires_after_granted",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="break_glass_has_a_reason"),
        ]
        triggers = [
            # It ends by its expiry, never by an edit: what the manager reviews is what was
            # recorded.
            Refuse(
                name="break_glass_accesses_are_final",
                operation=pgtrigger.Update | pgtrigger.Delete,
                message="a break of the glass is final: % refused",
                args="TG_OP",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} broke the glass for {self.patient}"
