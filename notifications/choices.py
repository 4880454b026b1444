"""The kinds of message and what becomes of one: the words the models, the templates'
wording and the backends share."""

from django.db import models


class Kind(models.TextChoices):
    CONFIRMATION = "confirmation", "Booking confirmation"
    REMINDER = "reminder", "Appointment reminder"
    RESCHEDULED = "rescheduled", "Reschedule notice"
    CANCELLED = "cancelled", "Cancellation notice"
    MAINTENANCE_PROMPT = "maintenance_prompt", "Maintenance-visit prompt"
    RECALL = "recall", "Recall"


class Delivery(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    SKIPPED = "skipped", "Skipped (no consent)"
