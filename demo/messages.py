"""Message history for the demo clinic: what the clinic would have sent about its past
visits, so the message log and a patient's export are not empty on a fresh `make run`.

Each past visit is taken as booked a week before it: the confirmation went out then, the
reminders at their offsets (moved out of quiet hours, as the sender would have, and
withdrawn where that is too late), and for a late cancellation the notice at the time of
cancelling, with the reminders still due then withdrawn. Rows are written as already sent;
nothing here goes through a backend.
"""

from __future__ import annotations

from datetime import timedelta

from appointments.models import Appointment, Status
from notifications.models import Delivery, Kind, MessagingSettings, Notification
from notifications.services import (
    SendBatch,
    messages_of_booking,
    next_allowed_time,
    notices,
    render,
)

BOOKED_AHEAD = timedelta(days=7)
PAST_VISITS = (Status.COMPLETED, Status.NO_SHOW, Status.LATE_CANCELLED)


def seed_message_history(patient_ids: list[int]) -> int:
    """Sent messages for the past visits of these patients, unless they have messages
    already. Returns how many were written."""
    if Notification.objects.filter(patient_id__in=patient_ids, status=Delivery.SENT).exists():
        return 0
    batch = SendBatch(MessagingSettings.current())
    visits = Appointment.objects.filter(
        patient_id__in=patient_ids, status__in=PAST_VISITS
    ).select_related("patient", "service", "location", "practitioner__user")
    rows = []
    for visit in visits:
        cancelled_at = visit.cancelled_at if visit.status == Status.LATE_CANCELLED else None
        messages = messages_of_booking(
            visit,
            booked_at=visit.start - BOOKED_AHEAD,
            offsets_hours=batch.rules.reminder_offsets_hours,
        )
        if cancelled_at:
            messages += notices(visit, Kind.CANCELLED, at=cancelled_at)
        for message in messages:
            sent_at = next_allowed_time(message.due_at, visit.location.zone, batch.rules)
            if message.kind == Kind.REMINDER and cancelled_at and sent_at > cancelled_at:
                message.status = Delivery.WITHDRAWN
                message.last_error = "The appointment is no longer booked."
            elif message.kind == Kind.REMINDER and sent_at >= visit.start:
                # An early visit's 2 h reminder falls in the quiet hours until it is too late.
                message.status = Delivery.WITHDRAWN
                message.last_error = "The appointment has started."
            else:
                render(message, batch)
                message.status, message.sent_at, message.attempts = Delivery.SENT, sent_at, 1
            rows.append(message)
    Notification.objects.bulk_create(rows, batch_size=500)
    return len(rows)
