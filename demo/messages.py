"""The messages the clinic sent about the demo's past visits, so that the message log and a
patient's export are not empty on a fresh `make run`.

The messages themselves are the services': booking a past visit a week ahead scheduled its
confirmation and reminders, and a late cancellation withdrew what was still pending and
added its notice (`notifications.services`, through the diary's signals). What remains is
what beat and the workers did meanwhile, in two parts:

- `send_while_booked`: what a visit's messages came to while the visit was still booked and
  ahead of its start. Each was sent when it fell due, moved out of the quiet hours
  (`next_allowed_time`), in the words of its template (`render`). This is the demo's one
  bulk write, kept for speed: the sender delivers a message in seven queries, which would be
  half of the whole seed, and the ORM's `bulk_update` compiles a CASE per row and column,
  which took a sixth of it. It decides nothing the sender decides: whether a message is still
  wanted cannot arise before anything has happened to the visit (the diary places a visit's
  first change at or before its start), and the services scheduled messages only on the
  channels the patient agreed to, which do not change.
- `send_due`: everything else — a reminder that the quiet hours push past the visit's first
  change, a cancellation's notice — is the sender's own (`claim_due`, `deliver_batch`), run
  through the past at each message's due time, so it withdraws, defers and sends as it
  would have. It delivers through the configured backend, which must be the outbox
  (`seed.seed_demo` checks): nothing of the demo should reach a real inbox or phone.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import Min

from appointments.models import Appointment
from notifications.models import Delivery, MessagingSettings, Notification
from notifications.services import (
    SendBatch,
    claim_due,
    deliver_batch,
    next_allowed_time,
    render,
)


class MessageLog:
    """The clinic's messages about the past visits, sent as the diary lives through them."""

    def __init__(self) -> None:
        self.batch = SendBatch(MessagingSettings.current())

    def send_while_booked(self, appointment: Appointment, *, until: datetime) -> None:
        """Send the appointment's pending messages whose time comes before `until`, the
        first change of the visit (see the module's docstring)."""
        sent: list[tuple[object, ...]] = []
        for message in Notification.objects.filter(
            appointment=appointment, status=Delivery.PENDING
        ):
            message.patient, message.appointment = appointment.patient, appointment
            at = next_allowed_time(message.due_at, appointment.location.zone, self.batch.rules)
            if at < until:
                render(message, self.batch)
                sent.append((at, at, message.recipient, message.subject, message.body, message.pk))
        if sent:
            with connection.cursor() as cursor:
                cursor.executemany(SENT_AT, sent)


SENT_AT = f"""
    UPDATE {Notification._meta.db_table}
    SET status = '{Delivery.SENT}', attempts = 1, sent_at = %s, updated_at = %s,
        recipient = %s, subject = %s, body = %s
    WHERE id = %s
"""


def send_due(*, before: datetime) -> None:
    """Deliver every message that falls due before `before`, each at its own due time,
    earliest first; a message deferred to a time still before `before` is sent then."""
    pending = Notification.objects.filter(status=Delivery.PENDING, due_at__lt=before)
    while (due := pending.aggregate(first=Min("due_at"))["first"]) is not None:
        deliver_batch(claim_due(now=due), now=due)
