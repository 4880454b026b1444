"""Messages to patients: what is due, to whom, why, and what became of it.

Every message is first a row here with a unique `reason_key` (the appointment and kind, or
the patient, kind and period), so a reason yields one message at most however often
something asks for it. Celery beat claims due rows and hands them to send tasks by id;
no message waits in the broker for its time (Redis redelivers long ETA tasks).
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import JSONField, Q, Value

from appointments.models import Appointment
from patients.models import Channel, Patient

from .choices import FOR_THE_FRONT_DESK, Delivery, Kind, ProviderStatus, ReplyAction
from .wording import check_template


class MessagingSettings(models.Model):
    """The clinic's messaging rules; exactly one row (id 1), edited by the manager."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    reminder_offsets_hours = ArrayField(
        models.PositiveSmallIntegerField(validators=[MinValueValidator(1)]),
        default=list,
        help_text="Hours before the appointment to remind, e.g. 48, 2.",
    )
    quiet_hours_start = models.TimeField(
        default=time(20), help_text="No messages from this local time..."
    )
    quiet_hours_end = models.TimeField(default=time(8), help_text="...until this one.")
    recall_after_weeks = models.PositiveSmallIntegerField(
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(104)],
        help_text="Recall patients this long after their last visit with nothing booked.",
    )
    maintenance_prompts = models.BooleanField(default=True)
    recalls = models.BooleanField(default=True)

    class Meta:
        verbose_name = verbose_name_plural = "messaging settings"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="messaging_single_row")]

    def __str__(self) -> str:
        return "Messaging settings"

    @classmethod
    def current(cls) -> MessagingSettings:
        rules, _ = cls.objects.get_or_create(id=1, defaults={"reminder_offsets_hours": [48, 2]})
        return rules


class MessageTemplate(models.Model):
    """The words of one kind of message on one channel, in Django template language."""

    kind = models.CharField(max_length=30, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    subject = models.CharField(max_length=200, blank=True, help_text="Email only.")
    body = models.TextField(
        help_text="Variables: {{ patient }} (first name), {{ clinic }}, {{ book_url }}; about "
        "an appointment also {{ start }}, {{ start_date }}, {{ start_time }}, {{ service }}, "
        "{{ practitioner }}, {{ location }}, {{ address }}, {{ manage_url }}. "
        "Tags: if, comment. Filters: default, upper, lower, title, capfirst."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "channel"], name="template_once_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_channel_display()})"

    def clean(self) -> None:
        errors = {}
        for name in ("subject", "body"):
            try:
                check_template(getattr(self, name), kind=self.kind)
            except ValidationError as error:
                errors[name] = error.messages
        if errors:
            raise ValidationError(errors)


class Notification(models.Model):
    """One message for one reason on one channel, from due to sent (or not)."""

    kind = models.CharField(max_length=30, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="notifications")
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
    )
    reason_key = models.CharField(max_length=200, unique=True)
    # What a message about something other than an appointment says of it (a waitlist
    # offer's time and link), as the plain strings its template reads (`wording`).
    details = models.JSONField(default=dict, blank=True, db_default=Value({}, JSONField()))
    due_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Delivery.choices, default=Delivery.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipient = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    # The provider's id of the message it took (Twilio's SID, the email service's message
    # id): its callbacks name the message by it, so it is unique.
    provider_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    # Rows written by SQL alone (imports, the benches) need neither.
    provider_status = models.CharField(
        max_length=20, choices=ProviderStatus.choices, blank=True, default="", db_default=""
    )
    provider_error = models.CharField(
        max_length=100,
        blank=True,
        default="",
        db_default="",
        help_text="The provider's error code, e.g. Twilio's 30006.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-due_at"]
        indexes = [
            # The beat scan: due pending rows, oldest first.
            models.Index(
                fields=["due_at"],
                condition=Q(status=Delivery.PENDING),
                name="notification_pending_due",
            ),
            # Sends whose worker died: claimed long ago and never finished.
            models.Index(
                fields=["claimed_at"],
                condition=Q(status=Delivery.SENDING),
                name="notification_sending_claimed",
            ),
            models.Index(fields=["patient", "-due_at"], name="notification_patient"),
            models.Index(fields=["appointment"], name="notification_appointment"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.get_channel_display()} to {self.patient}"


class OutboxMessage(models.Model):
    """What the outbox backend "sent": written in the same transaction that marks the
    notification sent, so each notification lands here exactly once. For development
    and tests; production sends by SMTP and the SMS provider."""

    notification = models.OneToOneField(
        Notification, on_delete=models.PROTECT, related_name="outbox"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    attachments = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.recipient}"


class Reply(models.Model):
    """An SMS a patient sent the clinic, kept whatever it said, with what it did.

    Matched to the patient by number and to the appointment of the last message about one
    sent to that number (`services.take_reply`). The provider's id is unique: a provider
    delivering the same reply twice is answered, and nothing is done the second time."""

    provider_id = models.CharField(max_length=100, unique=True)
    sender = models.CharField(max_length=32, help_text="The number it came from, in E.164.")
    body = models.TextField()
    received_at = models.DateTimeField()
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, blank=True, related_name="replies"
    )
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="replies"
    )
    in_reply_to = models.ForeignKey(
        Notification, on_delete=models.PROTECT, null=True, blank=True, related_name="replies"
    )
    action = models.CharField(max_length=20, choices=ReplyAction.choices)
    outcome = models.TextField(blank=True, help_text="What was done, or why not.")
    answer = models.TextField(blank=True, help_text="What the patient was answered by SMS.")
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "replies"
        ordering = ["-received_at"]
        indexes = [
            # Reception's inbox: what still needs someone.
            models.Index(
                fields=["-received_at"],
                condition=Q(action__in=FOR_THE_FRONT_DESK, handled_at__isnull=True),
                name="reply_to_handle",
            ),
            models.Index(fields=["patient", "-received_at"], name="reply_patient"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(handled_at__isnull=True) | Q(handled_by__isnull=False),
                name="reply_handled_by_someone",
            )
        ]

    def __str__(self) -> str:
        return f"SMS from {self.patient or self.sender}: {self.body[:40]}"
