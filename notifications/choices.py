"""The kinds of message and what becomes of one: the words the models, the templates'
wording and the backends share."""

from django.db import models


class Kind(models.TextChoices):
    CONFIRMATION = "confirmation", "Booking confirmation"
    REMINDER = "reminder", "Appointment reminder"
    RESCHEDULED = "rescheduled", "Reschedule notice"
    CANCELLED = "cancelled", "Cancellation notice"
    COURSE_CONFIRMATION = "course_confirmation", "Course confirmation"
    COURSE_CANCELLED = "course_cancelled", "Course cancellation notice"
    MAINTENANCE_PROMPT = "maintenance_prompt", "Maintenance-visit prompt"
    RECALL = "recall", "Recall"
    WAITLIST_OFFER = "waitlist_offer", "Waitlist offer of a freed time"


class Delivery(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Not delivered"
    FAILED = "failed", "Failed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    SKIPPED = "skipped", "Skipped (no consent)"
    UNREACHABLE = "unreachable", "Not sent (address undeliverable)"


class ProviderStatus(models.TextChoices):
    """What the email service or SMS provider last said of a message it took, in words
    every provider's callbacks are translated to (`notifications.providers`)."""

    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Undelivered"
    FAILED = "failed", "Failed"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Marked as spam"


# How far along each provider status is. Callbacks come out of order and more than once:
# a status replaces the one recorded only if it is further along, so a late "sent" never
# overwrites "delivered" and a repeat changes nothing. A complaint follows a delivery.
PROVIDER_STATUS_STAGE = {
    ProviderStatus.QUEUED: 1,
    ProviderStatus.SENT: 2,
    ProviderStatus.DELIVERED: 3,
    ProviderStatus.UNDELIVERED: 3,
    ProviderStatus.FAILED: 3,
    ProviderStatus.BOUNCED: 3,
    ProviderStatus.COMPLAINED: 4,
}

# The message's own status once the provider has said how it went.
DELIVERY_OF_PROVIDER_STATUS = {
    ProviderStatus.QUEUED: Delivery.SENT,
    ProviderStatus.SENT: Delivery.SENT,
    ProviderStatus.DELIVERED: Delivery.DELIVERED,
    ProviderStatus.UNDELIVERED: Delivery.UNDELIVERED,
    ProviderStatus.FAILED: Delivery.FAILED,
    ProviderStatus.BOUNCED: Delivery.UNDELIVERED,
    ProviderStatus.COMPLAINED: Delivery.DELIVERED,
}


class ReplyAction(models.TextChoices):
    """What a patient's SMS reply did (`services.take_reply`)."""

    CONFIRMED = "confirmed", "Confirmed the appointment"
    CANCELLED = "cancelled", "Cancelled the appointment"
    CALL_PATIENT = "call_patient", "Call the patient (asked to cancel inside the window)"
    STOPPED = "stopped", "Stopped SMS"
    STARTED = "started", "Started SMS again"
    FOR_RECEPTION = "for_reception", "For reception to read"
    OFFER_TAKEN = "offer_taken", "Took a waitlist offer"
    OFFER_DECLINED = "offer_declined", "Declined a waitlist offer"


# Replies someone at the front desk must act on: the inbox (`admin.ReplyAdmin`).
FOR_THE_FRONT_DESK = (ReplyAction.FOR_RECEPTION, ReplyAction.CALL_PATIENT)
